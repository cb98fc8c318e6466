"""Background tasks of the subscriber; they take primary keys only."""

from __future__ import annotations

import logging

from ..exceptions import SubscriptionError
from ..tasks import task
from .models import Subscription
from .renewal import renew_due

logger = logging.getLogger(__name__)


def _run(pk: int, mode: str) -> dict[str, object]:
    try:
        subscription = Subscription.objects.get(pk=pk)
    except Subscription.DoesNotExist:
        return {"pk": pk, "ok": False, "error": "no such subscription"}
    try:
        if mode == Subscription.Mode.SUBSCRIBE:
            subscription.subscribe()
        else:
            subscription.unsubscribe()
    except SubscriptionError as exc:
        # Already recorded in last_error; the task itself succeeded.
        return {"pk": pk, "ok": False, "error": str(exc)}
    return {"pk": pk, "ok": True}


@task()
def subscribe_subscription(pk: int) -> dict[str, object]:
    """Send a subscribe (renewal) request for subscription *pk*."""
    return _run(pk, Subscription.Mode.SUBSCRIBE)


@task()
def unsubscribe_subscription(pk: int) -> dict[str, object]:
    """Send an unsubscribe request for subscription *pk*."""
    return _run(pk, Subscription.Mode.UNSUBSCRIBE)


@task()
def renew_subscriptions() -> dict[str, int]:
    """Renew every subscription whose lease ends soon (see ``push_renew``)."""
    return renew_due()
