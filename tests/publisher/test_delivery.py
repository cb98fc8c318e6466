"""Failed pings are stored and retried with backoff; bad hubs never break."""

from __future__ import annotations

import logging
import sys
import types
from datetime import timedelta
from urllib.parse import parse_qs

import django
import pytest
import requests
import responses
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from django_push.publisher import publish, tasks
from django_push.publisher.delivery import retry_due
from django_push.publisher.models import PendingPing

from .fake_hub import refused_url, running_hub

HUB = "https://hub.example.com/"
TOPIC = "https://example.com/feed/"
TOPIC2 = "https://example.com/feed.json"
SCHEDULE = (30, 120)
TASKS_PREFIX = "django.tasks" if django.VERSION >= (6, 0) else "django_tasks"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def schedule():
    with override_settings(PUSH_HUB=HUB, PUSH_PUBLISH_RETRY_SCHEDULE=SCHEDULE):
        yield


def publish_now(*urls: str, callbacks) -> None:
    with callbacks(execute=True):
        publish(*urls)


def test_a_refused_ping_is_stored_for_the_first_delay(
    django_capture_on_commit_callbacks,
):
    before = timezone.now()
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=503)
        publish_now(TOPIC, callbacks=django_capture_on_commit_callbacks)
    (row,) = PendingPing.objects.all()
    assert (row.hub, row.topic, row.attempts) == (HUB, TOPIC, 1)
    assert "503" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=SCHEDULE[0])
    assert row.next_attempt_at < timezone.now() + timedelta(seconds=SCHEDULE[1])


def test_after_a_failure_the_hub_is_not_asked_again_in_the_same_run(
    django_capture_on_commit_callbacks,
):
    with responses.RequestsMock() as wire:
        wire.post(HUB, body=requests.ConnectionError("down"))
        publish_now(TOPIC, TOPIC2, callbacks=django_capture_on_commit_callbacks)
        assert len(wire.calls) == 1
    assert sorted(PendingPing.objects.values_list("topic", flat=True)) == sorted(
        [TOPIC, TOPIC2]
    )


def test_nothing_is_due_before_its_time(django_capture_on_commit_callbacks):
    PendingPing.objects.create(
        hub=HUB, topic=TOPIC, next_attempt_at=timezone.now() + timedelta(seconds=60)
    )
    with responses.RequestsMock():
        assert retry_due() == {"sent": 0, "failed": 0, "abandoned": 0}
    assert PendingPing.objects.count() == 1


def test_a_due_ping_is_sent_once_and_forgotten():
    due = timezone.now() - timedelta(seconds=1)
    for _ in range(3):
        PendingPing.objects.create(hub=HUB, topic=TOPIC, next_attempt_at=due)
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=204)
        counts = retry_due()
        assert len(wire.calls) == 1
        assert parse_qs(wire.calls[0].request.body)["hub.topic"] == [TOPIC]
    assert counts == {"sent": 1, "failed": 0, "abandoned": 0}
    assert not PendingPing.objects.exists()


def test_backoff_follows_the_schedule_then_gives_up(caplog):
    start = timezone.now()
    PendingPing.objects.create(hub=HUB, topic=TOPIC, next_attempt_at=start)
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=500)
        assert retry_due(now=start)["failed"] == 1
        (row,) = PendingPing.objects.all()
        assert row.attempts == 2
        assert row.next_attempt_at == start + timedelta(seconds=SCHEDULE[1])
        assert retry_due(now=row.next_attempt_at - timedelta(seconds=1))["failed"] == 0
        with caplog.at_level(logging.ERROR, logger="django_push"):
            counts = retry_due(now=row.next_attempt_at)
    assert counts == {"sent": 0, "failed": 0, "abandoned": 1}
    assert not PendingPing.objects.exists()
    assert "publish_abandoned" in caplog.text


@override_settings(PUSH_PUBLISH_RETRY_SCHEDULE=())
def test_an_empty_schedule_means_no_retry(django_capture_on_commit_callbacks):
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=500)
        publish_now(TOPIC, callbacks=django_capture_on_commit_callbacks)
    assert not PendingPing.objects.exists()


def test_the_command_sends_what_is_due(capsys):
    PendingPing.objects.create(hub=HUB, topic=TOPIC, next_attempt_at=timezone.now())
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=202)
        call_command("push_publish_retry")
    assert capsys.readouterr().out.strip() == "sent=1 failed=0 abandoned=0"


def test_the_command_honours_limit(capsys):
    now = timezone.now()
    PendingPing.objects.create(hub=HUB, topic=TOPIC, next_attempt_at=now)
    PendingPing.objects.create(hub=HUB, topic=TOPIC2, next_attempt_at=now)
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=202)
        call_command("push_publish_retry", "--limit", "1")
    assert PendingPing.objects.count() == 1


def test_failures_without_the_publisher_app_are_logged_not_stored(
    settings, caplog, django_capture_on_commit_callbacks
):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if app != "django_push.publisher"
    ]
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=500)
        with caplog.at_level(logging.ERROR, logger="django_push"):
            publish_now(TOPIC, callbacks=django_capture_on_commit_callbacks)
    assert "django_push.publisher_not_installed" in caplog.text
    assert retry_due() == {"sent": 0, "failed": 0, "abandoned": 0}


@override_settings(
    TASKS={"default": {"BACKEND": f"{TASKS_PREFIX}.backends.dummy.DummyBackend"}}
)
def test_backends_that_defer_get_a_retry_task_at_the_due_time(
    django_capture_on_commit_callbacks,
):
    backend = tasks.retry_pings.get_backend()
    backend.clear()
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=500)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_pings.call(HUB, [TOPIC])
    row = PendingPing.objects.get()
    (result,) = backend.results
    assert result.task.name == "retry_pings"
    assert result.task.run_after == row.next_attempt_at


def test_the_local_hub_records_the_publish_without_http(
    django_capture_on_commit_callbacks,
):
    from django_push.hub.models import Publish

    local = "http://testserver/hub/"
    with override_settings(PUSH_HUB=local, PUSH_HUB_URL=local):
        with django_capture_on_commit_callbacks() as callbacks:
            publish(TOPIC, TOPIC2)
        # Run only the publisher's commit callback: the hub's own fetch is
        # enqueued after it and is not under test here.
        with responses.RequestsMock() as wire:
            callbacks[0]()
            assert len(wire.calls) == 0
    published = Publish.objects.values_list("topic__url", flat=True)
    assert sorted(published) == sorted([TOPIC, TOPIC2])
    assert not PendingPing.objects.exists()


def test_a_failing_local_hub_is_retried(
    monkeypatch, django_capture_on_commit_callbacks
):
    def broken(topics):
        raise RuntimeError("database is locked")

    fake_api = types.ModuleType("django_push.hub.api")
    fake_api.publish = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "django_push.hub.api", fake_api)
    with override_settings(PUSH_HUB_URL=HUB):
        publish_now(TOPIC, callbacks=django_capture_on_commit_callbacks)
    assert PendingPing.objects.get().last_error == "local hub: RuntimeError"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("behaviour", ["hang", "redirect", "garbage", "down"])
def test_a_bad_hub_never_breaks_the_publishing_transaction(behaviour):
    with (
        running_hub(behaviour) as hub,
        override_settings(PUSH_HUB=hub.url, PUSH_TIMEOUT=0.5),
    ):
        with transaction.atomic():
            publish(TOPIC)
        assert len(hub.pings) == 1
    (row,) = PendingPing.objects.all()
    assert (row.hub, row.topic, row.attempts) == (hub.url, TOPIC, 1)
    assert row.last_error


@pytest.mark.django_db(transaction=True)
def test_a_refusing_hub_never_breaks_the_publishing_transaction():
    url = refused_url()
    with override_settings(PUSH_HUB=url), transaction.atomic():
        publish(TOPIC)
    assert PendingPing.objects.get().hub == url


@pytest.mark.django_db(transaction=True)
def test_a_hub_back_up_receives_the_retry():
    with running_hub("down") as hub, override_settings(PUSH_HUB=hub.url):
        publish(TOPIC)
        hub.behaviour = "ok"
        counts = retry_due(now=timezone.now() + timedelta(seconds=SCHEDULE[0]))
        assert hub.topics() == [TOPIC, TOPIC]
    assert counts["sent"] == 1
    assert not PendingPing.objects.exists()


def test_the_retry_task_sends_what_is_due():
    PendingPing.objects.create(hub=HUB, topic=TOPIC, next_attempt_at=timezone.now())
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=204)
        tasks.retry_pings.call()
        assert len(wire.calls) == 1
    assert not PendingPing.objects.exists()


@override_settings(
    TASKS={"default": {"BACKEND": f"{TASKS_PREFIX}.backends.dummy.DummyBackend"}}
)
def test_a_sweep_schedules_one_retry_task_per_attempt_number(
    django_capture_on_commit_callbacks,
):
    backend = tasks.retry_pings.get_backend()
    backend.clear()
    now = timezone.now()
    for number, attempts in enumerate([1, 1, 1, 2]):
        PendingPing.objects.create(
            hub=HUB, topic=f"{TOPIC}{number}", attempts=attempts, next_attempt_at=now
        )
    with responses.RequestsMock() as wire:
        wire.post(HUB, status=500)
        with django_capture_on_commit_callbacks(execute=True):
            counts = retry_due(now=now)
    assert counts == {"sent": 0, "failed": 3, "abandoned": 1}
    assert sorted(PendingPing.objects.values_list("attempts", flat=True)) == [2, 2, 2]
    (result,) = backend.results
    assert result.task.run_after == now + timedelta(seconds=SCHEDULE[1])
