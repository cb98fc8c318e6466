import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_push import USER_AGENT, __version__, http
from django_push.exceptions import RequestError, ResponseTooLarge


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
