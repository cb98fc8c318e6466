"""A threaded fake hub on 127.0.0.1 that records the pings it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.pings: list[dict[str, list[str]]] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hub/"

    def topics(self) -> list[str]:
        return [topic for ping in self.pings for topic in ping.get("hub.topic", [])]


class _Handler(BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        self.server.pings.append(parse_qs(body))
        behaviour = self.server.behaviour
        if behaviour == "hang":
            # Bounded: the server releases every handler when it shuts down.
            self.server.release.wait(10)
            return
        if behaviour == "redirect":
            self.send_response(302)
            self.send_header("Location", self.server.url)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if behaviour == "garbage":
            self.wfile.write(b"\x00\x01 this is not HTTP\r\n\r\n")
            self.close_connection = True
            return
        status = 503 if behaviour == "down" else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextmanager
def running_hub(behaviour: str = "ok") -> Iterator[FakeHub]:
    """Serve a :class:`FakeHub` in a thread for the duration of the block."""
    hub = FakeHub(behaviour)
    thread = threading.Thread(target=hub.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield hub
    finally:
        hub.release.set()
        hub.shutdown()
        hub.server_close()
        thread.join(timeout=10)


def refused_url() -> str:
    """A 127.0.0.1 URL on which nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hub/"
