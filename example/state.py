"""What the demo page shows, as plain data for its JSON endpoint."""

from __future__ import annotations

from typing import Any

from django_push.hub.models import Delivery
from django_push.subscriber.models import Subscription
from example.models import Entry, Notification

LIMIT = 20


def snapshot() -> dict[str, Any]:
    """Entries, subscriptions, received notifications and hub deliveries."""
    return {
        "entries": [
            {"id": e.pk, "title": e.title, "published": e.published.isoformat()}
            for e in Entry.objects.all()[:LIMIT]
        ],
        "subscriptions": [
            {
                "id": s.pk,
                "topic": s.topic,
                "hub": s.hub,
                "verified": s.verified,
                "state": s.get_state_display(),
                "signed": bool(s.secret),
                "lease_expiration": (
                    s.lease_expiration.isoformat() if s.lease_expiration else None
                ),
            }
            for s in Subscription.objects.order_by("pk")[:LIMIT]
        ],
        "notifications": [
            {
                "id": n.pk,
                "title": n.newest_title,
                "entries": n.entry_count,
                "size": n.size,
                "received": n.received.isoformat(),
            }
            for n in Notification.objects.all()[:LIMIT]
        ],
        "deliveries": [
            _delivery(d)
            for d in Delivery.objects.select_related("subscription").order_by("-pk")[
                :LIMIT
            ]
        ],
    }


def _delivery(delivery: Delivery) -> dict[str, Any]:
    code = delivery.last_status_code
    status = delivery.get_status_display()
    detail = f"{delivery.attempts} attempt(s) to {delivery.subscription.callback}"
    if delivery.error:
        detail += f": {delivery.error}"
    return {
        "id": delivery.pk,
        "state": delivery.status,
        "status": f"{status} ({code})" if code else status,
        "detail": detail,
    }
