"""Fake subscribers and publishers on real sockets (127.0.0.1 only).

Each runs a threaded HTTP server in a daemon thread, records what it was
sent and shuts down when its ``with`` block ends.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    #: The client's (host, port): one per connection.
    peer: tuple[str, int] = ("", 0)


@dataclass
class Reply:
    """What to answer: a status, or one of the misbehaviours by name."""

    status: int = 204
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: "hang", "reset", "garbage" or "" for a normal reply.
    misbehave: str = ""


class FakeServer:
    """Base class: a server whose handler calls :meth:`respond`."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Received(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    dict(self.headers.items()),
                    body,
                    self.client_address[:2],
                )
                with server.lock:
                    server.received.append(request)
                reply = server.respond(request)
                if reply.misbehave == "hang":
                    server.stopping.wait(10)
                    self.close_connection = True
                    return
                if reply.misbehave == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET,
                        socket.SO_LINGER,
                        b"\x01\x00\x00\x00\x00\x00\x00\x00",
                    )
                    self.close_connection = True
                    return
                if reply.misbehave == "garbage":
                    self.wfile.write(b"\x00\xffnot http at all\r\n\r\n")
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_HEAD = handle_any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def respond(self, request: Received) -> Reply:
        raise NotImplementedError

    def requests(self, method: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.method == method]

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class FakeSubscriber(FakeServer):
    """Echoes verification challenges; answers deliveries per ``deliveries``.

    ``verify`` is ``"echo"``, ``"wrong"`` (a different body) or a status
    code to answer. ``deliveries`` is a list of :class:`Reply` used in turn,
    the last one repeating; a callable can be given instead.
    """

    def __init__(
        self,
        verify: str | int = "echo",
        deliveries: list[Reply] | Callable[[Received], Reply] | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.verify = verify
        self.deliveries = deliveries or [Reply(204)]
        self.posts = 0

    def callback(self, path: str = "/callback") -> str:
        return self.base_url + path

    def respond(self, request: Received) -> Reply:
        if request.method == "GET":
            challenge = request.query.get("hub.challenge", [""])[0]
            if self.verify == "echo":
                return Reply(200, challenge.encode())
            if self.verify == "wrong":
                return Reply(200, b"not-the-challenge")
            return Reply(int(self.verify))
        if callable(self.deliveries):
            return self.deliveries(request)
        with self.lock:
            index = min(self.posts, len(self.deliveries) - 1)
            self.posts += 1
        return self.deliveries[index]


class FakePublisher(FakeServer):
    """Serves one topic body, honouring ``If-None-Match``."""

    def __init__(
        self,
        body: bytes = b"<feed/>",
        content_type: str | None = "application/atom+xml; charset=UTF-8",
        etag: str = "",
    ) -> None:
        super().__init__()
        self.body = body
        self.content_type = content_type
        self.etag = etag
        self.status = 200

    def topic(self, path: str = "/feed") -> str:
        return self.base_url + path

    def respond(self, request: Received) -> Reply:
        if self.etag and request.headers.get("If-None-Match") == self.etag:
            return Reply(304)
        headers: dict[str, str] = {}
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        if self.etag:
            headers["ETag"] = self.etag
        return Reply(self.status, self.body, headers)
