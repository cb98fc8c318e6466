"""Recording delivery outcomes."""

from __future__ import annotations

import pytest
import responses

from django_push.hub import engine
from django_push.hub.models import Delivery

from .test_delivery import plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_databases_without_update_from_use_bulk_update(mocked, monkeypatch):
    monkeypatch.setattr(
        "django_push.hub.results.supports_update_from", lambda connection: False
    )
    mocked.add(responses.POST, responses.matchers.re.compile(r"http://sub\.example/.*"))
    plan(3)
    assert engine.process_deliveries()["delivered"] == 3
    rows = set(Delivery.objects.values_list("status", "attempts", "last_status_code"))
    assert rows == {("delivered", 1, 200)}
