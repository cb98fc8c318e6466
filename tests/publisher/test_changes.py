"""Publishing from model changes: after commit, deduplicated, O(1) queries."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_push.publisher import publish_on_change, publishes, stop_publishing
from django_push.publisher.changes import publishing_models
from tests.testapp.models import Entry

from .fake_hub import running_hub

HUB = "https://hub.example.com/"
FEED = "https://example.com/feed/"

pytestmark = pytest.mark.django_db


def entry_topics(entry: Entry) -> list[str]:
    return [FEED, f"https://example.com{entry.get_absolute_url()}"]


@pytest.fixture
def registered():
    publish_on_change(Entry, entry_topics)
    yield
    stop_publishing(Entry)


@pytest.fixture
def wire():
    with (
        override_settings(PUSH_HUB=HUB),
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        mock.post(HUB, status=204)
        yield mock


def topics_sent(wire) -> list[str]:
    return [t for call in wire.calls for t in parse_qs(call.request.body)["hub.topic"]]


@pytest.mark.usefixtures("registered")
def test_a_hundred_saves_in_one_transaction_ping_each_topic_once(
    wire, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = Entry.objects.create(title="0", slug="e0")
        for number in range(100):
            entry.title = str(number)
            entry.save()
    assert sorted(topics_sent(wire)) == sorted(entry_topics(entry))


@pytest.mark.usefixtures("registered")
def test_deletes_publish_too(wire, django_capture_on_commit_callbacks):
    entry = Entry.objects.create(title="x", slug="gone")
    wire.calls.reset()
    with django_capture_on_commit_callbacks(execute=True):
        entry.delete()
    assert sorted(topics_sent(wire)) == sorted(
        [FEED, "https://example.com/entries/gone/"]
    )


def test_static_topics_and_the_decorator(wire, django_capture_on_commit_callbacks):
    assert publishes(FEED)(Entry) is Entry
    try:
        assert Entry in publishing_models()
        with django_capture_on_commit_callbacks(execute=True):
            Entry.objects.create(title="a", slug="a")
            Entry.objects.create(title="b", slug="b")
    finally:
        stop_publishing(Entry)
    assert topics_sent(wire) == [FEED]
    assert Entry not in publishing_models()


def test_unregistered_models_publish_nothing(wire, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Entry.objects.create(title="a", slug="a")
    assert len(wire.calls) == 0


@pytest.mark.usefixtures("registered")
def test_fixtures_loaded_raw_publish_nothing(wire, django_capture_on_commit_callbacks):
    from django.core import serializers

    data = (
        '[{"model": "testapp.entry", "pk": 7, "fields": {"title": "t", "slug": "t"}}]'
    )
    with django_capture_on_commit_callbacks(execute=True):
        for obj in serializers.deserialize("json", data):
            obj.save()
    assert Entry.objects.filter(pk=7).exists()
    assert len(wire.calls) == 0


def create_and_roll_back() -> None:
    with transaction.atomic():
        Entry.objects.create(title="rolled back", slug="never")
        raise RuntimeError("roll back")


def saves_queries(count: int, prefix: str) -> tuple[int, int]:
    """Queries inside a transaction of *count* saves, and after its commit."""
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        for number in range(count):
            Entry.objects.create(title="t", slug=f"{prefix}-{number}")
        inside = len(queries.captured_queries)
    return inside, len(queries.captured_queries) - inside


@pytest.mark.django_db(transaction=True)
def test_publishing_adds_no_query_inside_the_transaction(wire):
    baseline = saves_queries(20, "baseline")
    publish_on_change(Entry, entry_topics)
    try:
        published = saves_queries(20, "published")
    finally:
        stop_publishing(Entry)
    assert published[0] == baseline[0]
    assert len(topics_sent(wire)) == 21


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("registered")
def test_queries_after_commit_do_not_grow_with_the_number_of_saves():
    with override_settings(PUSH_HUB=HUB), responses.RequestsMock() as wire:
        wire.post(HUB, status=503)
        _, after_one = saves_queries(1, "one")
        _, after_fifty = saves_queries(50, "fifty")
    # A hub that is down costs one bulk insert of the failed pings per
    # transaction, whatever the number of topics.
    assert after_one == after_fifty
    assert after_one >= 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("registered")
def test_real_hub_receives_one_ping_per_topic_after_commit_none_after_rollback():
    with running_hub("ok") as hub, override_settings(PUSH_HUB=hub.url):
        with pytest.raises(RuntimeError):
            create_and_roll_back()
        assert hub.pings == []

        with transaction.atomic():
            first = Entry.objects.create(title="one", slug="one")
            second = Entry.objects.create(title="two", slug="two")
            for _ in range(10):
                first.save()
                second.save()
            assert hub.pings == []
    assert sorted(hub.topics()) == sorted({*entry_topics(first), *entry_topics(second)})
    assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)
    assert all(ping["hub.url"] == ping["hub.topic"] for ping in hub.pings)


def test_a_model_can_publish_to_its_own_hubs(django_capture_on_commit_callbacks):
    own = "https://own-hub.example/"
    publish_on_change(Entry, FEED, hubs=[own])
    try:
        with override_settings(PUSH_HUB=HUB), responses.RequestsMock() as wire:
            wire.post(own, status=204)
            with django_capture_on_commit_callbacks(execute=True):
                Entry.objects.create(title="a", slug="a")
            assert [call.request.url for call in wire.calls] == [own]
    finally:
        stop_publishing(Entry)
