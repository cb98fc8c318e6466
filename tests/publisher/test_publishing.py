"""publish(): after commit, once per topic and hub, nothing on rollback."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import pytest
import responses
from django.db import transaction
from django.test import TestCase, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_push.publisher import publish, publishing

HUB = "https://hub.example.com/"
HUB2 = "https://hub2.example.com/"
TOPIC = "https://example.com/feed/"
TOPIC2 = "https://example.com/feed.json"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hubs")]


@pytest.fixture
def hubs():
    with override_settings(PUSH_HUB=[HUB, HUB2]):
        yield


@pytest.fixture
def monkeypatch_send(monkeypatch):
    """Record what the batching hands over for delivery, instead of sending."""
    recorded: list[tuple[str, str]] = []
    monkeypatch.setattr(publishing, "send", recorded.extend)
    return recorded


@pytest.fixture
def wire():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(HUB, status=204)
        mock.post(HUB2, status=204)
        yield mock


def sent(wire) -> list[tuple[str, str]]:
    pings = []
    for call in wire.calls:
        form = parse_qs(call.request.body)
        assert form["hub.url"] == form["hub.topic"]
        pings += [(call.request.url, topic) for topic in form["hub.topic"]]
    return pings


def publish_and_roll_back(*urls: str) -> None:
    with transaction.atomic():
        publish(*urls)
        raise RuntimeError("roll back")


def test_nothing_is_sent_before_commit(wire, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish(TOPIC)
        assert len(wire.calls) == 0
    assert len(callbacks) == 1
    assert len(wire.calls) == 0


def test_pings_every_hub_after_commit(wire, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish(TOPIC, TOPIC2)
    assert sorted(sent(wire)) == sorted(
        [(HUB, TOPIC), (HUB, TOPIC2), (HUB2, TOPIC), (HUB2, TOPIC2)]
    )


def test_a_hundred_publishes_send_one_ping_per_topic_and_hub(
    wire, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(100):
            publish(TOPIC)
        publish(TOPIC2, TOPIC)
    assert len(callbacks) == 1
    assert sorted(sent(wire)) == sorted(
        [(HUB, TOPIC), (HUB, TOPIC2), (HUB2, TOPIC), (HUB2, TOPIC2)]
    )


def test_rolled_back_savepoint_publishes_nothing(
    wire, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        publish(TOPIC)
        with pytest.raises(RuntimeError):
            publish_and_roll_back(TOPIC2)
    assert sorted(sent(wire)) == [(HUB, TOPIC), (HUB2, TOPIC)]


def test_committed_savepoints_are_deduplicated_with_the_outer_level(
    wire, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        publish(TOPIC)
        with transaction.atomic():
            publish(TOPIC, TOPIC2)
            with transaction.atomic():
                publish(TOPIC2)
        publish(TOPIC2)
    assert sorted(sent(wire)) == sorted(
        [(HUB, TOPIC), (HUB, TOPIC2), (HUB2, TOPIC), (HUB2, TOPIC2)]
    )


def test_separate_commits_are_separate_batches(
    wire, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            publish(TOPIC)
    assert sorted(sent(wire)) == sorted([(HUB, TOPIC), (HUB2, TOPIC)] * 2)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_publishes_at_once(wire):
    publish(TOPIC)
    assert sorted(sent(wire)) == [(HUB, TOPIC), (HUB2, TOPIC)]


@pytest.mark.django_db(transaction=True)
def test_transaction_rollback_publishes_nothing(wire):
    with pytest.raises(RuntimeError):
        publish_and_roll_back(TOPIC)
    assert len(wire.calls) == 0


@pytest.mark.parametrize("url", ["/feed/", "example.com/feed", "ftp://x.example/"])
def test_relative_topic_urls_are_refused(url):
    with pytest.raises(ValueError, match="absolute"):
        publish(url)


@override_settings(PUSH_HUB=None)
def test_without_a_hub_nothing_happens_and_it_is_logged(
    wire, caplog, django_capture_on_commit_callbacks
):
    with (
        caplog.at_level(logging.WARNING, logger="django_push"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        publish(TOPIC)
    assert callbacks == []
    assert len(wire.calls) == 0
    assert "publish_skipped reason=no_hub" in caplog.text


def test_publishing_no_url_does_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        publish()
    assert callbacks == []


def test_hubs_can_be_given_per_call(wire, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish(TOPIC, hubs=[HUB2, HUB2])
        publish(TOPIC, hubs=[HUB])
    assert sorted(sent(wire)) == sorted([(HUB2, TOPIC), (HUB, TOPIC)])


# A transaction as a tree: a topic published at this level, or a savepoint
# holding its own steps that commits (False) or rolls back (True).
steps = st.recursive(
    st.lists(st.sampled_from([TOPIC, TOPIC2, "https://example.com/c"]).map(str)),
    lambda inner: st.lists(
        st.one_of(
            st.sampled_from([TOPIC, TOPIC2]),
            st.tuples(inner, st.booleans()),
        ),
        max_size=4,
    ),
    max_leaves=12,
)


def run(tree, committed: set[str]) -> None:
    for step in tree:
        if isinstance(step, str):
            publish(step, hubs=[HUB])
            committed.add(step)
            continue
        inner, roll_back = step
        inner_committed: set[str] = set()
        try:
            with transaction.atomic():
                run(inner, inner_committed)
                if roll_back:
                    raise RuntimeError("roll back")
        except RuntimeError:
            continue
        committed |= inner_committed


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=steps)
def test_exactly_the_committed_topics_are_sent_once(tree, monkeypatch_send):
    sent_pings: list[tuple[str, str]] = monkeypatch_send
    sent_pings.clear()
    committed: set[str] = set()
    with TestCase.captureOnCommitCallbacks(execute=True):
        run(tree, committed)
    assert sorted(sent_pings) == sorted((HUB, topic) for topic in committed)
