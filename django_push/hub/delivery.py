"""Content distribution: one claimed batch of deliveries (WebSub 7).

The HTTP requests of a batch run concurrently in a bounded thread pool
sharing one connection pool (:func:`django_push.http.get_poster`), which
the process keeps from batch to batch, so connections to a callback are
reused. The
threads only talk HTTP; every database write happens afterwards in the
calling thread, batched (see :mod:`.results`): successes are recorded with
one statement, whatever the batch size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from .. import http
from ..conf import settings
from ..exceptions import RequestError
from ..links import format_link_header
from ..signatures import sign
from .models import Content, Delivery, HubSubscription
from .results import CLAIMED_FIELDS, Claimed, Outcome, record
from .ssrf import HostGuard, UnsafeURL

logger = logging.getLogger(__name__)

#: The callback's answer is ignored (WebSub 7); read no more than this.
RESPONSE_CAP = 64 * 1024

#: Content-Type sent when the topic had none (HUB-C03).
DEFAULT_CONTENT_TYPE = "application/octet-stream"

State = HubSubscription.State
Status = Delivery.Status


@dataclass
class Job:
    """One HTTP request to make: everything the thread needs, no models."""

    delivery_id: int
    url: str
    body: bytes
    headers: dict[str, str]


def build_job(
    row: Claimed,
    content_type: str,
    body: bytes,
    hub_url: str,
    fallback: str,
    algorithm: str,
) -> Job:
    """The request for *row*: topic Content-Type, Link, signature.

    *hub_url* is ``PUSH_HUB_URL`` (or empty), *fallback* the ``rel=hub``
    used when neither it nor the row knows one, and *algorithm*
    ``PUSH_HUB_SIGNATURE_ALGORITHM``; the caller reads them once per batch.
    """
    hub = hub_url or row.hub_url or row.publish_hub_url or fallback
    headers = {
        "Content-Type": content_type or DEFAULT_CONTENT_TYPE,
        "Link": format_link_header([hub], row.topic),
    }
    if row.secret:
        # HUB-C05/C06: signed over the exact bytes sent, only with a secret.
        headers["X-Hub-Signature"] = sign(row.secret, body, algorithm)
    return Job(row.pk, row.callback, body, headers)


def send(job: Job, poster: http.Poster, guard: HostGuard) -> Outcome:
    """POST one delivery; never raises, never follows redirects."""
    start = time.perf_counter()
    code: int | None = None
    error = ""
    try:
        guard.check(job.url)
        code = poster.post(
            job.url, job.body, job.headers, max_bytes=RESPONSE_CAP
        ).status
    except RequestError as exc:
        error = str(exc)
    except UnsafeURL as exc:
        error = f"callback {exc}"
    if code is not None and not 200 <= code < 300:
        error = f"HTTP {code}"
    latency = int((time.perf_counter() - start) * 1000)
    return Outcome(job.delivery_id, code, latency, error[:500])


def deliver_claimed(token: str, counts: dict[str, int]) -> None:
    """Send every delivery claimed with *token* and record the outcomes."""
    claimed = Delivery.objects.filter(claim_token=token, status=Status.IN_PROGRESS)
    # WebSub 5.3.1: nothing goes to subscriptions ended or expired meanwhile.
    counts["cancelled"] += claimed.exclude(
        subscription__state=State.ACTIVE,
        subscription__lease_expires_at__gt=timezone.now(),
    ).update(status=Status.CANCELLED, error="subscription not active")
    # A claim taken over from a dead worker can be older than a publish
    # planned since: sending it would leave the subscriber with stale
    # content, so it yields to the newer delivery.
    newer = Delivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        publish__topic_id=OuterRef("publish__topic_id"),
        publish_id__gt=OuterRef("publish_id"),
    )
    counts["cancelled"] += claimed.filter(Exists(newer)).update(
        status=Status.CANCELLED, error="superseded by a newer publish"
    )
    rows = [Claimed(*values) for values in claimed.values_list(*CLAIMED_FIELDS)]
    if not rows:
        return
    contents = {
        pk: (content_type, bytes(body))
        for pk, content_type, body in Content.objects.filter(
            pk__in={row.content_id for row in rows}
        ).values_list("pk", "content_type", "body")
    }
    # Rows that never saw a request (made in the admin, say) fall back to
    # the hub's path when PUSH_HUB_URL is not set.
    hub_url = settings.PUSH_HUB_URL or ""
    fallback = reverse("push_hub")
    algorithm = settings.PUSH_HUB_SIGNATURE_ALGORITHM
    # A generator: the pool starts sending while later jobs are being built.
    jobs = (
        build_job(row, *contents[row.content_id], hub_url, fallback, algorithm)
        for row in rows
    )
    outcomes = run_jobs(jobs, len(rows), lambda: touch_claim(token))
    record(token, rows, outcomes, counts)


def touch_claim(token: str) -> None:
    """Renew a claim still being worked on, so no one takes it over."""
    Delivery.objects.filter(claim_token=token, status=Status.IN_PROGRESS).update(
        claimed_at=timezone.now()
    )


def run_jobs(
    jobs: Iterable[Job], count: int, heartbeat: Callable[[], None]
) -> list[Outcome]:
    """Run the *count* *jobs* concurrently over one connection pool.

    While they run, *heartbeat* is called every third of
    ``PUSH_HUB_CLAIM_TIMEOUT`` so that a long batch keeps its claim.
    """
    concurrency = max(1, min(settings.PUSH_HUB_DELIVERY_CONCURRENCY, count))
    interval = max(1.0, settings.PUSH_HUB_CLAIM_TIMEOUT / 3)
    guard = HostGuard()
    # Never reads ~/.netrc, so the hub's credentials cannot reach a callback.
    poster = http.get_poster(concurrency)
    with ThreadPoolExecutor(
        max_workers=concurrency, thread_name_prefix="push-hub-delivery"
    ) as pool:
        futures = [pool.submit(send, job, poster, guard) for job in jobs]
        pending = set(futures)
        while pending:
            pending = wait(pending, timeout=interval).not_done
            if pending:
                heartbeat()
        return [future.result() for future in futures]
