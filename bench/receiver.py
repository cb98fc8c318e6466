"""A fast loopback WebSub subscriber (and topic server) for the fan-out bench.

Runs in its own process: one asyncio event loop, a minimal HTTP/1.1 parser
with keep-alive, no framework. It

* answers ``POST /cb/<tag>/<i>``: checks ``X-Hub-Signature`` against the
  secret of subscriber *i* (:func:`secret_for`) over the raw body and counts
  good and bad deliveries in shared memory, answering 202;
* answers ``GET /cb/...?hub.challenge=...`` by echoing the challenge, so a
  hub can verify intent;
* serves ``GET /topic/<name>``: a 1 KB Atom body that changes on every fetch
  (so no hub may skip it as unchanged), with ``Link`` rel=hub and rel=self.

:func:`measure_capacity` drives it with a raw asyncio client from another
process, to show it is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import multiprocessing
import multiprocessing.sharedctypes
import socket
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

BODY_SIZE = 1024
HUB_URL = "http://127.0.0.1:9/hub"


def secret_for(index: int) -> str:
    """The secret of subscriber number *index* (same in every system)."""
    return f"bench-secret-{index:06d}-0123456789abcdef"


def topic_body(serial: int) -> bytes:
    head = (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>bench</title>'
        b"<entry><id>urn:bench:%012d</id><content>" % serial
    )
    tail = b"</content></entry></feed>"
    return head + b"x" * (BODY_SIZE - len(head) - len(tail)) + tail


class Counters:
    """Delivery counters shared between the receiver and the driver."""

    def __init__(self) -> None:
        self.ok = multiprocessing.Value("q", 0, lock=False)
        self.bad = multiprocessing.Value("q", 0, lock=False)
        self.fetches = multiprocessing.Value("q", 0, lock=False)
        self.verifications = multiprocessing.Value("q", 0, lock=False)


RESPONSE_202 = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
RESPONSE_404 = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class Handler(asyncio.Protocol):
    def __init__(self, counters: Counters, base_url: str) -> None:
        self.counters = counters
        self.base_url = base_url
        self.buffer = b""
        self.transport: Any = None
        self.keys: dict[bytes, bytes] = {}

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            headers: dict[bytes, bytes] = {}
            for line in head[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, _, rest = head[0].partition(b" ")
            target = rest.rpartition(b" ")[0]
            self.transport.write(self.respond(method, target, headers, body))
            if headers.get(b"connection", b"").lower() == b"close":
                self.transport.close()
                return

    def respond(
        self, method: bytes, target: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> bytes:
        counters = self.counters
        if method == b"POST" and target.startswith(b"/cb/"):
            index = target.rstrip(b"/").rpartition(b"/")[2]
            key = self.keys.get(index)
            if key is None:
                key = secret_for(int(index)).encode()
                self.keys[index] = key
            method_name, _, received = headers.get(b"x-hub-signature", b"").partition(
                b"="
            )
            expected = hmac.new(key, body, method_name.decode() or "sha256")
            if hmac.compare_digest(expected.hexdigest().encode(), received):
                counters.ok.value += 1
            else:
                counters.bad.value += 1
            return RESPONSE_202
        if method == b"GET" and target.startswith(b"/topic/"):
            counters.fetches.value += 1
            payload = topic_body(counters.fetches.value)
            topic = self.base_url + target.decode()
            return (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\n"
                b'Link: <%s>; rel="hub", <%s>; rel="self"\r\n'
                b"Content-Length: %d\r\n\r\n%s"
                % (HUB_URL.encode(), topic.encode(), len(payload), payload)
            )
        if method == b"GET" and target.startswith(b"/cb/"):
            query = parse_qs(urlsplit(target.decode()).query)
            challenge = query.get("hub.challenge", [""])[0].encode()
            counters.verifications.value += 1
            return (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\n\r\n%s"
                % (
                    len(challenge),
                    challenge,
                )
            )
        return RESPONSE_404


def serve(sock: socket.socket, counters: Counters, stop: Any) -> None:
    """Serve on the listening *sock* until *stop* (an Event) is set."""
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: Handler(counters, base_url), sock=sock, backlog=4096
        )
        async with server:
            while not stop.is_set():
                await asyncio.sleep(0.05)

    asyncio.run(run())


class Receiver:
    """The receiver process and its counters."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.counters = Counters()
        self.stop = multiprocessing.Event()
        self.process = multiprocessing.Process(
            target=serve, args=(self.sock, self.counters, self.stop), daemon=True
        )

    def __enter__(self) -> Receiver:
        self.process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self.sock.close()

    def callback(self, tag: str, index: int) -> str:
        return f"{self.base_url}/cb/{tag}/{index}"

    def topic(self, name: str) -> str:
        return f"{self.base_url}/topic/{name}"

    def wait_for(self, ok: int, timeout: float) -> bool:
        """Wait until *ok* good deliveries have been counted in total."""
        deadline = time.perf_counter() + timeout
        counter = self.counters.ok
        while counter.value < ok:
            if time.perf_counter() > deadline:
                return False
            time.sleep(0.001)
        return True


def _load(port: int, total: int, connections: int, result: Any) -> None:
    body = topic_body(0)
    requests = []
    for index in range(64):
        signature = hmac.new(secret_for(index).encode(), body, hashlib.sha256)
        requests.append(
            b"POST /cb/load/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/atom+xml\r\n"
            b"X-Hub-Signature: sha256=%s\r\nContent-Length: %d\r\n\r\n%s"
            % (index, signature.hexdigest().encode(), len(body), body)
        )

    async def client(count: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in range(count):
            writer.write(requests[i % len(requests)])
            await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async def run() -> float:
        start = time.perf_counter()
        share = total // connections
        await asyncio.gather(*(client(share) for _ in range(connections)))
        return share * connections / (time.perf_counter() - start)

    result.value = asyncio.run(run())


def measure_capacity(receiver: Receiver, total: int, connections: int) -> float:
    """Requests/s the receiver sustains against a raw keep-alive client."""
    result = multiprocessing.Value("d", 0.0)
    before = receiver.counters.ok.value
    process = multiprocessing.Process(
        target=_load, args=(receiver.port, total, connections, result)
    )
    process.start()
    process.join(120)
    done = receiver.counters.ok.value - before
    if done != total // connections * connections:
        raise RuntimeError(f"receiver counted {done} of {total} load requests")
    return float(result.value)
