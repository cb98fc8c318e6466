from __future__ import annotations

import base64
import threading
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connections
from django.test import modify_settings, override_settings
from django.utils import timezone

from django_push import USER_AGENT
from django_push.exceptions import DiscoveryError, RequestError, SubscriptionError
from django_push.subscriber.models import Subscription, SubscriptionManager

from .conftest import HUB, TOPIC, active

pytestmark = pytest.mark.django_db


def form(call: responses.Call) -> dict[str, list[str]]:
    body = call.request.body
    assert isinstance(body, str)
    return parse_qs(body, keep_blank_values=True)


def hub_credentials(hub_url: str) -> tuple[str, str] | None:
    return ("user", "pa:ss") if hub_url == HUB else None


def test_subscribe_sends_a_websub_request(mocked):
    seen_pending: list[str] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        # The pending intent is stored before the hub is contacted (SUB-S08).
        row = Subscription.objects.get(hub=HUB, topic=TOPIC)
        seen_pending.append(row.pending_mode)
        return 202, {}, ""

    mocked.add_callback(responses.POST, HUB, callback=answer)
    sub = Subscription.objects.subscribe(TOPIC, hub=HUB, lease_seconds=1234)
    assert seen_pending == ["subscribe"]
    call = mocked.calls[0]
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.request.headers["User-Agent"] == USER_AGENT
    sent = form(call)
    assert sent["hub.mode"] == ["subscribe"]
    assert sent["hub.topic"] == [TOPIC]
    assert sent["hub.callback"] == [f"http://testserver/subscriber/{sub.pk}/"]
    assert sent["hub.lease_seconds"] == ["1234"]
    assert sent["hub.secret"] == [sub.secret]
    assert 20 <= len(sub.secret.encode()) < 200
    sub.refresh_from_db()
    assert sub.state == Subscription.State.UNVERIFIED
    assert sub.pending_mode == Subscription.Mode.SUBSCRIBE
    assert sub.requested_at is not None


def test_secrets_are_random_per_subscription(mocked):
    mocked.post(HUB, status=202)
    mocked.post(HUB, status=202)
    one = Subscription.objects.subscribe(TOPIC, hub=HUB)
    two = Subscription.objects.subscribe(TOPIC + "2", hub=HUB)
    assert one.secret
    assert two.secret
    assert one.secret != two.secret


@override_settings(PUSH_SECRET_OVER_HTTP=False)
def test_secret_is_not_sent_to_plain_http_hubs(mocked):
    mocked.post("http://hub.example/", status=202)
    sub = Subscription.objects.subscribe(TOPIC, hub="http://hub.example/")
    assert "hub.secret" not in form(mocked.calls[0])
    assert Subscription.objects.get(pk=sub.pk).secret == ""


@override_settings(PUSH_SECRET_OVER_HTTP=False)
def test_secret_is_sent_to_https_hubs(mocked):
    mocked.post(HUB, status=202)
    sub = Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert form(mocked.calls[0])["hub.secret"] == [sub.secret]


@override_settings(PUSH_LEASE_SECONDS=777)
def test_default_lease_comes_from_settings(mocked):
    mocked.post(HUB, status=202)
    Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert form(mocked.calls[0])["hub.lease_seconds"] == ["777"]


def test_no_lease_is_asked_by_default(mocked):
    mocked.post(HUB, status=202)
    Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert "hub.lease_seconds" not in form(mocked.calls[0])


@override_settings(PUSH_CREDENTIALS="tests.subscriber.test_models.hub_credentials")
def test_credentials_are_sent_to_the_hub(mocked):
    mocked.post(HUB, status=202)
    Subscription.objects.subscribe(TOPIC, hub=HUB)
    expected = base64.b64encode(b"user:pa:ss").decode()
    assert mocked.calls[0].request.headers["Authorization"] == f"Basic {expected}"


def test_resubscribing_reuses_the_row(mocked):
    mocked.post(HUB, status=202)
    mocked.post(HUB, status=202)
    first = Subscription.objects.subscribe(TOPIC, hub=HUB)
    second = Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert first.pk == second.pk
    assert Subscription.objects.count() == 1
    assert form(mocked.calls[1])["hub.secret"] == [first.secret]


def test_unique_constraint_prevents_duplicates():
    Subscription.objects.create(hub=HUB, topic=TOPIC)
    with pytest.raises(IntegrityError):
        Subscription.objects.create(hub=HUB, topic=TOPIC)


def test_race_on_creation_returns_the_other_row():
    existing = Subscription.objects.create(hub=HUB, topic=TOPIC)
    with mock.patch.object(
        SubscriptionManager, "get_or_create", side_effect=IntegrityError
    ):
        sub, created = Subscription.objects.get_or_create_subscription(HUB, TOPIC)
    assert (sub.pk, created) == (existing.pk, False)


def test_refused_new_subscription_is_not_kept(mocked):
    mocked.post(HUB, status=400, body="bad topic")
    with pytest.raises(SubscriptionError) as info:
        Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert info.value.response is not None
    assert info.value.response.status_code == 400
    assert "bad topic" in str(info.value)
    assert not Subscription.objects.exists()


def test_failed_renewal_keeps_the_live_subscription(mocked):
    sub = active(secret="x")
    mocked.post(HUB, status=503, body="busy")
    with pytest.raises(SubscriptionError):
        sub.subscribe()
    sub.refresh_from_db()
    assert sub.state == Subscription.State.ACTIVE
    assert sub.verified is True
    assert sub.pending_mode == ""
    assert "503" in sub.last_error
    assert "busy" in sub.last_error


def test_network_error_is_a_subscription_error(mocked):
    sub = active()
    mocked.post(HUB, body=requests.ConnectionError("refused"))
    with pytest.raises(SubscriptionError) as info:
        sub.subscribe()
    assert isinstance(info.value.__cause__, RequestError)
    assert info.value.subscription is sub
    sub.refresh_from_db()
    assert sub.state == Subscription.State.ACTIVE
    assert sub.last_error


def test_success_clears_last_error(mocked):
    sub = active(last_error="old failure")
    mocked.post(HUB, status=202)
    sub.subscribe()
    sub.refresh_from_db()
    assert sub.last_error == ""


def test_307_re_posts_the_same_body_and_keeps_the_hub(mocked):
    other = "https://other.example/hub"
    mocked.post(HUB, status=307, headers={"Location": other})
    mocked.post(other, status=202)
    sub = Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert mocked.calls[0].request.body == mocked.calls[1].request.body
    sub.refresh_from_db()
    assert sub.hub == HUB


def test_308_re_posts_and_moves_the_hub(mocked):
    mocked.post(HUB, status=308, headers={"Location": "/new-hub"})
    mocked.post("https://hub.example.com/new-hub", status=202)
    sub = Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert mocked.calls[0].request.body == mocked.calls[1].request.body
    sub.refresh_from_db()
    assert sub.hub == "https://hub.example.com/new-hub"


def test_endless_redirects_are_an_error(mocked):
    mocked.post(HUB, status=307, headers={"Location": HUB})
    with pytest.raises(SubscriptionError, match="redirected"):
        Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert not Subscription.objects.exists()


def test_unsubscribe_asks_the_hub_and_keeps_the_row_until_confirmed(mocked):
    sub = active(secret="x")
    mocked.post(HUB, status=202)
    sub.unsubscribe()
    sent = form(mocked.calls[0])
    assert sent["hub.mode"] == ["unsubscribe"]
    assert sent["hub.topic"] == [TOPIC]
    assert sent["hub.callback"] == [sub.callback_url]
    assert "hub.secret" not in sent
    sub.refresh_from_db()
    assert sub.state == Subscription.State.ACTIVE
    assert sub.pending_mode == Subscription.Mode.UNSUBSCRIBE


def test_failed_unsubscribe_keeps_the_subscription(mocked):
    sub = active()
    mocked.post(HUB, status=500)
    with pytest.raises(SubscriptionError):
        sub.unsubscribe()
    sub.refresh_from_db()
    assert sub.state == Subscription.State.ACTIVE
    assert sub.pending_mode == ""


def test_subscribe_without_hub_discovers_hub_and_topic(mocked):
    mocked.get(
        "https://site.example/page",
        headers={
            "Link": '<https://found.example/hub>; rel="hub", '
            '<https://site.example/canonical>; rel="self"'
        },
    )
    mocked.post("https://found.example/hub", status=202)
    sub = Subscription.objects.subscribe("https://site.example/page")
    assert (sub.hub, sub.topic) == (
        "https://found.example/hub",
        "https://site.example/canonical",
    )
    assert form(mocked.calls[1])["hub.topic"] == ["https://site.example/canonical"]


def test_failed_discovery_saves_nothing(mocked):
    mocked.get("https://site.example/page", body="no links")
    with pytest.raises(DiscoveryError):
        Subscription.objects.subscribe("https://site.example/page")
    assert not Subscription.objects.exists()


@override_settings(PUSH_SSL_CALLBACK=True, PUSH_DOMAIN="push.example:8443")
def test_callback_url_uses_domain_and_ssl():
    sub = Subscription.objects.create(hub=HUB, topic=TOPIC)
    assert sub.callback_url == f"https://push.example:8443/subscriber/{sub.pk}/"


@override_settings(PUSH_DOMAIN=None)
def test_callback_url_needs_a_domain():
    sub = Subscription.objects.create(hub=HUB, topic=TOPIC)
    with pytest.raises(ImproperlyConfigured):
        sub.callback_url  # noqa: B018


@override_settings(PUSH_DOMAIN=None)
@modify_settings(INSTALLED_APPS={"append": "django.contrib.sites"})
def test_callback_url_falls_back_to_the_current_site():
    from django.contrib.sites.models import Site

    sub = Subscription.objects.create(hub=HUB, topic=TOPIC)
    site = Site(domain="sites.example", name="x")
    with mock.patch.object(Site.objects, "get_current", return_value=site):
        assert sub.callback_url == f"http://sites.example/subscriber/{sub.pk}/"


def test_has_expired():
    sub = Subscription(lease_expiration=timezone.now() - timedelta(seconds=1))
    assert sub.has_expired()
    assert not Subscription(lease_expiration=None).has_expired()
    future = Subscription(lease_expiration=timezone.now() + timedelta(hours=1))
    assert not future.has_expired()
    assert str(Subscription(hub=HUB, topic=TOPIC)) == f"{TOPIC}: {HUB}"


@pytest.mark.django_db(transaction=True)
def test_pending_intent_is_committed_before_the_hub_is_contacted(mocked):
    seen: list[object] = []

    def read_from_another_connection() -> None:
        try:
            seen.append(
                Subscription.objects.filter(hub=HUB, topic=TOPIC)
                .values_list("pending_mode", flat=True)
                .first()
            )
        except Exception as exc:  # a lock or a missing row shows no commit
            seen.append(exc)
        finally:
            connections.close_all()

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        reader = threading.Thread(target=read_from_another_connection)
        reader.start()
        reader.join(timeout=10)
        return 202, {}, ""

    mocked.add_callback(responses.POST, HUB, callback=answer)
    Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert seen == ["subscribe"]


@override_settings(PUSH_SECRET_OVER_HTTP=False)
def test_existing_secret_is_dropped_for_a_plain_http_hub(mocked):
    sub = active(hub="http://plain.example/", secret="old-secret")
    mocked.post("http://plain.example/", status=202)
    sub.subscribe()
    assert "hub.secret" not in form(mocked.calls[0])
    sub.refresh_from_db()
    assert sub.secret == ""


def test_308_to_a_hub_already_holding_the_topic_keeps_ours(mocked):
    other = "https://other.example/hub"
    active(hub=other)
    sub = active()
    mocked.post(HUB, status=308, headers={"Location": other})
    mocked.post(other, status=202)
    sub.subscribe()
    sub.refresh_from_db()
    assert sub.hub == HUB
    assert Subscription.objects.filter(hub=other).count() == 1


def test_subscribing_inside_a_transaction_warns(mocked, caplog):
    mocked.post(HUB, status=202)
    with caplog.at_level("WARNING", logger="django_push"):
        Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert "intent_inside_transaction" in caplog.text


@override_settings(PUSH_DOMAIN=None)
def test_unbuildable_callback_stores_nothing():
    with pytest.raises(ImproperlyConfigured):
        Subscription.objects.subscribe(TOPIC, hub=HUB)
    assert not Subscription.objects.exists()
