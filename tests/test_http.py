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


def test_poster_sends_exact_bytes_with_user_agent_over_one_connection():
    body = b"\x00caf\xc3\xa9 " * 100
    with FakeSubscriber(deliveries=[Reply(202)]) as fake:
        poster = http.Poster(pool_size=2)
        for _ in range(3):
            response = poster.post(
                fake.callback("/cb?k=v"),
                body,
                {"Content-Type": "application/x-test", "X-Hub-Signature": "sha1=ab"},
                max_bytes=1024,
            )
            assert response.status_code == 202
        poster.close()
    posts = fake.requests("POST")
    assert [post.body for post in posts] == [body] * 3
    assert posts[0].path == "/cb"
    assert posts[0].query == {"k": ["v"]}
    assert posts[0].headers["User-Agent"] == USER_AGENT
    assert posts[0].headers["Content-Type"] == "application/x-test"
    assert posts[0].headers["X-Hub-Signature"] == "sha1=ab"
    assert len({post.peer for post in posts}) == 1


def test_poster_never_follows_redirects():
    reply = Reply(307, headers={"Location": "/elsewhere"})
    with FakeSubscriber(deliveries=[reply]) as fake:
        response = http.Poster().post(fake.callback("/cb"), b"x", {}, max_bytes=64)
    assert response.status_code == 307
    assert [post.path for post in fake.requests("POST")] == ["/cb"]


def test_poster_times_out():
    with (
        FakeSubscriber(deliveries=[Reply(misbehave="hang")]) as fake,
        pytest.raises(RequestError),
    ):
        http.Poster().post(fake.callback(), b"x", {}, max_bytes=64, timeout=0.3)


@override_settings(PUSH_TIMEOUT=0.3)
def test_poster_default_timeout_is_the_setting():
    with (
        FakeSubscriber(deliveries=[Reply(misbehave="hang")]) as fake,
        pytest.raises(RequestError),
    ):
        http.Poster().post(fake.callback(), b"x", {}, max_bytes=64)


def test_poster_caps_the_answer():
    with FakeSubscriber(deliveries=[Reply(200, b"y" * 100)]) as fake:
        poster = http.Poster()
        with pytest.raises(ResponseTooLarge) as raised:
            poster.post(fake.callback(), b"x", {}, max_bytes=99)
        assert raised.value.response.status_code == 200
        assert poster.post(fake.callback(), b"x", {}, max_bytes=100).content == (
            b"y" * 100
        )


def test_poster_wraps_connection_errors():
    with FakeSubscriber() as fake:
        url = fake.callback()
    with pytest.raises(RequestError):
        http.Poster().post(url, b"x", {}, max_bytes=64, timeout=1)


def test_poster_is_shared_until_its_pool_size_or_proxies_change(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    first = http.get_poster(3)
    assert http.get_poster(3) is first
    assert first.adapter.poolmanager.connection_pool_kw["maxsize"] == 3
    resized = http.get_poster(5)
    assert resized is not first
    assert resized.pool_size == 5
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    proxied = http.get_poster(5)
    assert proxied is not resized
    assert proxied.proxies["http"] == "http://proxy.example:3128"
