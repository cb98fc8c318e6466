"""check_health and push_hub_monitor: counts, thresholds, exit codes."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.test import override_settings
from django.utils import timezone

from django_push.hub import monitoring
from django_push.hub.models import (
    Delivery,
    HubSubscription,
    Publish,
    Topic,
    VerificationRequest,
)
from django_push.hub.monitoring import check_health

from . import records

pytestmark = pytest.mark.django_db

Status = Delivery.Status


@pytest.fixture
def hub_rows():
    """Deliveries of every kind relative to a one-hour window."""
    now = timezone.now()
    sub = records.subscription()
    make = lambda **fields: records.delivery(sub, **fields)  # noqa: E731
    make(status=Status.FAILED, last_attempt_at=now - timedelta(minutes=5))
    make(status=Status.FAILED, last_attempt_at=now - timedelta(minutes=50))
    make(status=Status.FAILED, last_attempt_at=now - timedelta(hours=3))
    make(status=Status.PENDING, next_attempt_at=now - timedelta(minutes=20))
    make(status=Status.PENDING, next_attempt_at=now - timedelta(seconds=30))
    make(status=Status.PENDING, next_attempt_at=now + timedelta(minutes=20))
    make(status=Status.IN_PROGRESS, claimed_at=now - timedelta(hours=1))
    make(status=Status.IN_PROGRESS, claimed_at=now - timedelta(seconds=10))
    make(status=Status.DELIVERED, delivered_at=now - timedelta(minutes=1))
    make(status=Status.DELIVERED, delivered_at=now - timedelta(days=2))
    records.subscription(state=HubSubscription.State.SUSPENDED)
    topic = Topic.objects.get(url=sub.topic)
    records.publish(
        topic, status=Publish.Status.PENDING, next_attempt_at=now - timedelta(hours=1)
    )
    records.publish(topic, status=Publish.Status.PENDING, next_attempt_at=now)
    verification = {"mode": "subscribe", "topic": sub.topic, "callback": sub.callback}
    VerificationRequest.objects.create(
        status=VerificationRequest.Status.IN_PROGRESS,
        claimed_at=now - timedelta(hours=2),
        **verification,
    )
    VerificationRequest.objects.create(
        status=VerificationRequest.Status.COMPLETED,
        next_attempt_at=now - timedelta(days=1),
        **verification,
    )
    return now


def test_counts_failed_in_window_and_overdue(hub_rows):
    health = check_health(window=3600, threshold=10, grace=300, now=hub_rows)
    assert health.failed == 2
    assert health.overdue == 2
    assert health.overdue_fetches == 1
    assert health.overdue_verifications == 1
    assert health.delivered == 1
    assert health.pending == 5
    assert health.suspended == 1
    assert health.problems == 6
    assert health.state == "OK"
    assert health.exit_code == 0


def test_window_and_grace_change_what_counts(hub_rows):
    health = check_health(window=4 * 3600, grace=5, now=hub_rows)
    assert health.failed == 3
    assert health.overdue == 3


def test_claims_count_as_overdue_after_the_claim_timeout(hub_rows):
    with override_settings(PUSH_HUB_CLAIM_TIMEOUT=300):
        assert check_health(grace=0, now=hub_rows).overdue == 3
    with override_settings(PUSH_HUB_CLAIM_TIMEOUT=5):
        assert check_health(grace=0, now=hub_rows).overdue == 4


@pytest.mark.parametrize(
    ("threshold", "warning", "state", "code"),
    [
        (6, None, "OK", 0),
        (5, None, "CRITICAL", 2),
        (6, 5, "WARNING", 1),
        (5, 1, "CRITICAL", 2),
    ],
)
def test_thresholds_decide_the_state(hub_rows, threshold, warning, state, code):
    health = check_health(threshold=threshold, warning=warning, now=hub_rows)
    assert (health.state, health.exit_code) == (state, code)
    assert health.summary().startswith(f"PUSH HUB {state} - ")


def test_summary_is_one_nagios_line_with_performance_data(hub_rows):
    line = check_health(threshold=7, warning=5, now=hub_rows).summary()
    assert "\n" not in line
    text, perfdata = line.split(" | ")
    assert "2 failed and 2 overdue deliveries in the last 3600s" in text
    assert "(threshold 7)" in text
    metrics = dict(item.split("=", 1) for item in perfdata.split())
    assert metrics["problems"] == "6;5;7;0"
    assert metrics["overdue_fetches"].split(";")[0] == "1"
    assert metrics["overdue_verifications"].split(";")[0] == "1"
    assert "1 overdue fetches and 1 overdue verifications" in text
    assert metrics["failed"].split(";")[0] == "2"
    assert metrics["suspended"].split(";")[0] == "1"


@pytest.mark.parametrize(
    "kwargs",
    [{"window": 0}, {"threshold": -1}, {"grace": -1}, {"warning": -2}],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError, match="must"):
        check_health(**kwargs)


def test_command_prints_ok_and_exits_zero_on_a_healthy_hub():
    out = StringIO()
    call_command("push_hub_monitor", stdout=out)
    assert out.getvalue().startswith("PUSH HUB OK - 0 failed and 0 overdue")


def test_command_exits_non_zero_above_the_threshold(hub_rows):
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("push_hub_monitor", "--threshold", "3", stdout=out)
    assert exited.value.code == 2
    assert out.getvalue().startswith("PUSH HUB CRITICAL")
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "push_hub_monitor", "--threshold", "9", "--warning", "1", stdout=out
        )
    assert exited.value.code == 1
    out = StringIO()
    call_command(
        "push_hub_monitor",
        "--threshold",
        "0",
        "--window",
        "1",
        "--grace",
        "86400",
        stdout=out,
    )
    assert "0 failed and 0 overdue deliveries in the last 1s" in out.getvalue()


def test_command_reports_unknown_when_the_database_fails(monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("connection refused\nsecond line")

    monkeypatch.setattr(
        "django_push.hub.management.commands.push_hub_monitor.check_health", broken
    )
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("push_hub_monitor", stdout=out)
    assert exited.value.code == monitoring.EXIT_CODES["UNKNOWN"] == 3
    assert (
        out.getvalue().strip()
        == "PUSH HUB UNKNOWN - database error: connection refused"
    )


@pytest.mark.parametrize("option", ["--window=0", "--threshold=-1", "--grace=-5"])
def test_command_refuses_bad_options(option):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("push_hub_monitor", option)
