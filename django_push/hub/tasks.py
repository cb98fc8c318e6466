"""Background tasks of the hub, run through Django's Tasks framework.

Each task takes primary keys only and is idempotent: it claims whatever of
its rows is still due and does nothing otherwise. Tasks are enqueued when
the transaction that created the rows commits. A lost task loses nothing:
the rows stay due and ``push_hub_work`` processes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..tasks import enqueue_on_commit, task


@task
def verify(verification_id: int) -> dict[str, int]:
    """Send one verification of intent or ``denied`` notice."""
    from . import engine

    return engine.process_verifications(pk=verification_id)


@task
def fetch(publish_id: int) -> dict[str, int]:
    """Fetch a published topic, then send its deliveries."""
    from . import engine

    return engine.process_publishes(pk=publish_id)


@task
def deliver(publish_id: int, limit: int | None = None) -> dict[str, int]:
    """Send the due deliveries of one publish (at most *limit*)."""
    from . import engine

    return engine.process_deliveries(publish_id=publish_id, limit=limit)


def kick_verifications(pks: Iterable[int]) -> None:
    """Enqueue :func:`verify` for each of *pks* once the transaction commits."""
    for pk in pks:
        enqueue_on_commit(verify, pk)


def kick_publishes(pks: Iterable[int]) -> None:
    """Enqueue :func:`fetch` for each of *pks* once the transaction commits."""
    for pk in pks:
        enqueue_on_commit(fetch, pk)


def kick_batches(publish_id: int, batches: int, size: int) -> None:
    """Enqueue *batches* :func:`deliver` tasks of *size* deliveries each.

    Each task claims at most one batch of the publish's due deliveries, so
    several task workers send one large publish at the same time.
    """
    for _ in range(batches):
        enqueue_on_commit(deliver, publish_id, size)


def kick_deliveries(publish_ids: Iterable[int]) -> None:
    """Enqueue :func:`deliver` for each publish once the transaction commits."""
    for pk in publish_ids:
        enqueue_on_commit(deliver, pk)
