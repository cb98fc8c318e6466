"""Background tasks of the publisher (see :mod:`django_push.tasks`)."""

from __future__ import annotations

from ..tasks import task
from .delivery import deliver, retry_due


@task()
def send_pings(hub_url: str, topics: list[str]) -> None:
    """Announce *topics* to *hub_url*; failures are stored for a retry."""
    deliver(hub_url, list(topics))


@task()
def retry_pings() -> None:
    """Send every stored ping that is due."""
    retry_due()
