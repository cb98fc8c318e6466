import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_push import USER_AGENT, __version__, http
from django_push.exceptions import RequestError, ResponseTooLarge

from .hub.fakes import FakeSubscriber, Reply


def credentials_for(url):
    return ("user", "pw") if "private" in url else None


@responses.activate(assert_all_requests_are_fired=True)
def test_requests_carry_user_agent_and_timeout():
    responses.get("https://hub.example/", body="ok")
    seen = {}
    original = requests.Session.send

    def spy(self, request, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return original(self, request, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.Session, "send", spy)
        with override_settings(PUSH_TIMEOUT=3.5):
            response = http.request("GET", "https://hub.example/")
    assert response.text == "ok"
    assert responses.calls[0].request.headers["User-Agent"] == USER_AGENT
    assert __version__ in USER_AGENT
    assert seen["timeout"] == 3.5


@responses.activate
def test_network_errors_are_wrapped_and_chained():
    responses.get("https://down.example/", body=requests.ConnectionError("refused"))
    with pytest.raises(RequestError) as info:
        http.request("GET", "https://down.example/")
    assert info.value.url == "https://down.example/"
    assert isinstance(info.value.__cause__, requests.ConnectionError)


@responses.activate
def test_failure_log_names_the_host_but_not_the_capability(caplog):
    url = "https://cb.example/callback/7?token=s3cr3t-capability"
    responses.get(url, body=requests.ConnectionError("refused"))
    with (
        caplog.at_level("INFO", logger="django_push.http"),
        pytest.raises(RequestError),
    ):
        http.request("GET", url)
    assert "cb.example" in caplog.text
    assert "s3cr3t-capability" not in caplog.text
    assert "/callback/7" not in caplog.text


@responses.activate
def test_body_cap_on_declared_length():
    responses.get("https://big.example/", body=b"x" * 100)
    with pytest.raises(ResponseTooLarge):
        http.request("GET", "https://big.example/", max_bytes=10)


@responses.activate
def test_body_cap_allows_small_bodies_and_keeps_content():
    responses.get("https://small.example/", body=b"x" * 10)
    response = http.request("GET", "https://small.example/", max_bytes=10)
    assert response.content == b"x" * 10


@responses.activate
@override_settings(PUSH_CREDENTIALS="tests.test_http.credentials_for")
def test_credentials_are_sent_only_when_asked_and_returned():
    responses.post("https://private.example/", status=202)
    responses.post("https://public.example/", status=202)
    http.request("POST", "https://private.example/", use_credentials=True)
    http.request("POST", "https://public.example/", use_credentials=True)
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert "Authorization" not in responses.calls[1].request.headers


@override_settings(PUSH_CREDENTIALS="tests.nowhere.credentials")
def test_unimportable_credentials_raise_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="PUSH_CREDENTIALS"):
        http.get_credentials("https://hub.example/")


@override_settings(PUSH_CREDENTIALS=lambda url: ["a", "b"])
def test_credentials_may_be_a_callable():
    assert http.get_credentials("https://hub.example/") == ("a", "b")


def test_session_is_reused_per_thread():
    assert http.get_session() is http.get_session()
    assert http.get_session().headers["User-Agent"] == USER_AGENT


# The hub's poster, over real sockets on 127.0.0.1 ---------------------------


def post(poster: http.Poster, url: str, body: bytes = b"x", **kwargs):
    kwargs.setdefault("max_bytes", 64)
    return poster.post(url, body, kwargs.pop("headers", {}), **kwargs)


def test_poster_sends_exact_bytes_with_user_agent_over_one_connection():
    body = b"\x00caf\xc3\xa9 " * 100
    headers = {"Content-Type": "application/x-test", "X-Hub-Signature": "sha1=ab"}
    with FakeSubscriber(deliveries=[Reply(202, b"thanks")]) as fake:
        poster = http.Poster(pool_size=2)
        answers = [
            post(poster, fake.callback("/cb?k=v"), body, headers=headers)
            for _ in range(3)
        ]
        poster.close()
    assert answers == [http.Answer(202, b"thanks", True)] * 3
    posts = fake.requests("POST")
    assert [p.body for p in posts] == [body] * 3
    assert posts[0].path == "/cb"
    assert posts[0].query == {"k": ["v"]}
    assert posts[0].headers["User-Agent"] == USER_AGENT
    assert posts[0].headers["Content-Type"] == "application/x-test"
    assert posts[0].headers["X-Hub-Signature"] == "sha1=ab"
    assert posts[0].headers["Content-Length"] == str(len(body))
    assert len({p.peer for p in posts}) == 1


def test_poster_never_follows_redirects():
    reply = Reply(307, headers={"Location": "/elsewhere"})
    with FakeSubscriber(deliveries=[reply]) as fake:
        answer = post(http.Poster(), fake.callback("/cb"))
    assert answer.status == 307
    assert [p.path for p in fake.requests("POST")] == ["/cb"]


def test_poster_times_out():
    with (
        FakeSubscriber(deliveries=[Reply(misbehave="hang")]) as fake,
        pytest.raises(RequestError),
    ):
        post(http.Poster(), fake.callback(), timeout=0.3)


@override_settings(PUSH_TIMEOUT=(5, 0.3))
def test_poster_default_timeout_is_the_setting():
    with (
        FakeSubscriber(deliveries=[Reply(misbehave="hang")]) as fake,
        pytest.raises(RequestError),
    ):
        post(http.Poster(), fake.callback())


def test_poster_does_not_read_a_declared_long_answer():
    def reply(request):
        return Reply(200, b"y" * 100 if request.path == "/big" else b"ok")

    with FakeSubscriber(deliveries=reply) as fake:
        poster = http.Poster(pool_size=1)
        answer = post(poster, fake.callback("/big"), max_bytes=99)
        assert answer == http.Answer(200, b"", False)
        answer = post(poster, fake.callback("/big"), max_bytes=100)
        assert answer == http.Answer(200, b"y" * 100, True)
        assert post(poster, fake.callback("/small")).body == b"ok"


@contextmanager
def undeclared_answer(body: bytes) -> Iterator[str]:
    """A one-shot server answering 200 with *body* and no Content-Length."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)

    def answer() -> None:
        with contextlib.suppress(OSError):
            connection, _ = server.accept()
            with connection:
                connection.settimeout(5)
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    received += chunk
                connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                connection.sendall(body)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/cb"
    finally:
        thread.join(10)
        server.close()


def test_poster_stops_reading_an_undeclared_long_answer():
    with undeclared_answer(b"z" * 5000) as url:
        answer = post(http.Poster(), url, max_bytes=100)
    assert answer == http.Answer(200, b"z" * 100, False)


def test_poster_wraps_connection_errors(caplog):
    with FakeSubscriber() as fake:
        url = fake.callback("/cb?token=secret")
    with pytest.raises(RequestError):
        post(http.Poster(), url, timeout=1)
    assert "secret" not in caplog.text


def test_poster_uses_environment_proxies_and_never_netrc(monkeypatch, tmp_path):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine sub.example login hub password leaked\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with FakeSubscriber(deliveries=[Reply(202)]) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        answer = post(http.Poster(), "http://sub.example/0?k=v", b"body")
    assert answer.status == 202
    [sent] = proxy.requests("POST")
    assert (sent.path, sent.query, sent.body) == ("/0", {"k": ["v"]}, b"body")
    assert sent.headers["Host"] == "sub.example"
    assert "Authorization" not in sent.headers


def test_poster_is_shared_until_pool_size_proxies_or_process_change(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    first = http.get_poster(3)
    assert http.get_poster(3) is first
    resized = http.get_poster(5)
    assert resized is not first
    assert resized.pool_size == 5
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    proxied = http.get_poster(5)
    assert proxied is not resized
    assert proxied.proxies["http"] == "http://proxy.example:3128"
    monkeypatch.setattr(http.os, "getpid", lambda: proxied.pid + 1)
    forked = http.get_poster(5)
    assert forked is not proxied
    assert forked.pid == proxied.pid + 1
