"""A small threaded WebSub hub on 127.0.0.1 for end-to-end tests.

It verifies subscription requests synchronously (inside the POST) or
asynchronously (after answering 202), serves topics with discovery Link
headers and delivers signed content. Everything stops with the server.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests

from django_push.signatures import sign

LEASE = 600


@dataclass
class Verification:
    mode: str
    challenge: str
    status: int
    body: bytes


@dataclass
class FakeHub:
    mode: str = "sync"
    verifications: list[Verification] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    verified: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    workers: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hub"

    @property
    def topic_url(self) -> str:
        return self.url.replace("/hub", "/topic")

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                # A topic advertising this hub and a canonical self URL.
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header(
                    "Link",
                    f'<{hub.url}>; rel="hub", <{hub.topic_url}?canonical>; rel="self"',
                )
                self.send_header("Content-Length", "5")
                self.end_headers()
                self.wfile.write(b"hello")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                hub.requests.append(form)
                if hub.mode == "sync":
                    hub.verify(form)
                    self.answer(202)
                else:
                    self.answer(202)
                    worker = threading.Thread(target=hub.verify, args=(form,))
                    hub.workers.append(worker)
                    worker.start()

            def answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        for worker in self.workers:
            worker.join(timeout=10)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def verify(self, form: dict[str, str]) -> None:
        challenge = secrets.token_urlsafe(16)
        params = {
            "hub.mode": form["hub.mode"],
            "hub.topic": form["hub.topic"],
            "hub.challenge": challenge,
        }
        if form["hub.mode"] == "subscribe":
            params["hub.lease_seconds"] = str(LEASE)
        callback = form["hub.callback"]
        separator = "&" if "?" in callback else "?"
        response = requests.get(
            callback + separator + urlencode(params), timeout=10, allow_redirects=False
        )
        self.verifications.append(
            Verification(
                form["hub.mode"], challenge, response.status_code, response.content
            )
        )
        self.verified.set()

    def deliver(
        self,
        callback: str,
        body: bytes,
        *,
        secret: str = "",
        algorithm: str = "sha256",
        signature: str | None = None,
        topic: str = "",
    ) -> requests.Response:
        headers = {
            "Content-Type": "text/plain",
            "Link": f'<{topic}>; rel="self", <{self.url}>; rel="hub"',
        }
        if signature is not None:
            headers["X-Hub-Signature"] = signature
        elif secret:
            headers["X-Hub-Signature"] = sign(secret, body, algorithm)
        return requests.post(
            callback, data=body, headers=headers, timeout=10, allow_redirects=False
        )
