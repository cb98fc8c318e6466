"""``publish()``: transaction-safe, deduplicated, non-blocking publish pings.

Topics published inside a transaction are collected and announced once
the transaction commits (PUB-13: the hub fetches the topic at once, so the
new content must be visible). Publishing the same topic many times in one
transaction sends one ping per hub; nothing is sent if it rolls back,
including topics published inside a savepoint that was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from ..checks import is_absolute_http_url
from ..tasks import enqueue
from .pings import configured_hubs

logger = logging.getLogger(__name__)

Ping = tuple[str, str]  # (hub URL, topic URL)


class _Batch:
    """The pings of one transaction, shared by its commit callbacks."""

    def __init__(self) -> None:
        self.sent: set[Ping] = set()


class _PublishOnCommit:
    """A commit callback holding the pings published at one savepoint level.

    Django drops the callbacks registered inside a savepoint that is rolled
    back, so keeping one callback per level gives exact rollback semantics,
    while the shared :class:`_Batch` removes duplicates across levels.
    """

    def __init__(self, batch: _Batch) -> None:
        self.batch = batch
        self.pings: dict[Ping, None] = {}
        self.ran = False

    def add(self, pings: list[Ping]) -> None:
        for ping in pings:
            self.pings.setdefault(ping, None)

    def __call__(self) -> None:
        self.ran = True
        fresh = [ping for ping in self.pings if ping not in self.batch.sent]
        self.batch.sent.update(fresh)
        send(fresh)


def send(pings: list[Ping]) -> None:
    """Enqueue one background task per hub for *pings*."""
    by_hub: dict[str, list[str]] = {}
    for hub_url, topic in pings:
        by_hub.setdefault(hub_url, []).append(topic)
    from . import tasks

    for hub_url, topics in by_hub.items():
        enqueue(tasks.send_pings, hub_url, topics)


def _open_callback(connection: BaseDatabaseWrapper) -> tuple[_PublishOnCommit, bool]:
    """The callback of the current savepoint level, and whether it is new."""
    level = set(connection.savepoint_ids)
    batch: _Batch | None = None
    for sids, func, *_ in connection.run_on_commit:
        if isinstance(func, _PublishOnCommit) and not func.ran:
            batch = func.batch
            if sids == level:
                return func, False
    return _PublishOnCommit(batch or _Batch()), True


def publish(
    *urls: str, hubs: Iterable[str] | None = None, using: str | None = None
) -> None:
    """Announce that the topics *urls* changed, to *hubs* (default ``PUSH_HUB``).

    Returns at once. The pings go out through the Tasks framework after the
    current transaction (of database *using*) commits, or right away outside
    a transaction; failures are retried following
    ``PUSH_PUBLISH_RETRY_SCHEDULE``. Topic URLs must be absolute.
    """
    for url in urls:
        if not is_absolute_http_url(url):
            raise ValueError(f"Topic URLs must be absolute http(s) URLs: {url!r}")
    hubs = list(dict.fromkeys(hubs)) if hubs is not None else configured_hubs()
    if not urls:
        return
    if not hubs:
        logger.warning("publish_skipped reason=no_hub topics=%d", len(urls))
        return
    pings = [(hub_url, url) for url in dict.fromkeys(urls) for hub_url in hubs]
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        send(pings)
        return
    callback, is_new = _open_callback(connection)
    callback.add(pings)
    if is_new:
        transaction.on_commit(callback, using=using)
