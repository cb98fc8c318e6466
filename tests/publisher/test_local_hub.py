"""End to end with the in-project hub: a model change reaches a subscriber.

The feed is served by Django's live server, the hub runs in this project,
the subscriber is a fake on 127.0.0.1. Publishing goes from the model
signal to ``django_push.hub.api`` with no publish ping over HTTP.
"""

from __future__ import annotations

import feedparser
import pytest
from django.db import transaction
from django.test import override_settings

from django_push.http import get_session
from django_push.hub.models import Delivery
from django_push.links import parse_link_header, urls_for
from django_push.publisher import publish_on_change, stop_publishing
from django_push.publisher.models import PendingPing
from tests.hub.fakes import FakeSubscriber
from tests.hub.forms import post_form
from tests.testapp.models import Entry

pytestmark = pytest.mark.django_db(transaction=True)

LOCAL_HUB = "http://testserver/hub/"


def test_saving_an_entry_delivers_the_feed_to_subscribers(client, live_server):
    feed_url = f"{live_server.url}/publisher/feed/"
    with (
        FakeSubscriber() as subscriber,
        override_settings(PUSH_HUB=LOCAL_HUB, PUSH_HUB_URL=LOCAL_HUB),
    ):
        response = post_form(
            client,
            {
                "hub.mode": "subscribe",
                "hub.callback": subscriber.callback(),
                "hub.topic": feed_url,
            },
        )
        assert response.status_code == 202
        publish_on_change(Entry, feed_url)
        try:
            with transaction.atomic():
                Entry.objects.create(title="Hello hub", slug="hello")
                Entry.objects.create(title="Second", slug="second")
        finally:
            stop_publishing(Entry)
            # The hub fetched the feed on this thread's pooled session; close
            # its keep-alive connection so the live server can stop cleanly.
            get_session().close()
        posts = subscriber.requests("POST")

    assert len(posts) == 1
    parsed = feedparser.parse(posts[0].body)
    assert [entry.title for entry in parsed.entries] == ["Hello hub", "Second"]
    assert urls_for(parse_link_header(posts[0].headers["Link"]), "self") == [feed_url]
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    assert not PendingPing.objects.exists()
