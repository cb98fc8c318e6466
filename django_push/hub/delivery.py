"""Content distribution: one claimed batch of deliveries (WebSub 7).

The HTTP requests of a batch run concurrently in a bounded thread pool
sharing one pooled session, so connections to a callback are reused. The
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
from urllib.request import getproxies

import requests
from django.urls import reverse
from django.utils import timezone

from .. import http
from ..conf import settings
from ..exceptions import RequestError, ResponseTooLarge
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


def send(job: Job, session: requests.Session, guard: HostGuard) -> Outcome:
    """POST one delivery; never raises, never follows redirects."""
    start = time.perf_counter()
    code: int | None = None
    error = ""
    try:
        guard.check(job.url)
        response = http.request(
            "POST",
            job.url,
            data=job.body,
            headers=job.headers,
            allow_redirects=False,
            max_bytes=RESPONSE_CAP,
            session=session,
        )
        code = response.status_code
    except ResponseTooLarge as exc:
        code = exc.response.status_code if exc.response is not None else None
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
    """Run the *count* *jobs* concurrently on one pooled session.

    While they run, *heartbeat* is called every third of
    ``PUSH_HUB_CLAIM_TIMEOUT`` so that a long batch keeps its claim.
    """
    concurrency = max(1, min(settings.PUSH_HUB_DELIVERY_CONCURRENCY, count))
    interval = max(1.0, settings.PUSH_HUB_CLAIM_TIMEOUT / 3)
    guard = HostGuard()
    session = http.new_session(pool_size=concurrency)
    # requests would otherwise read the environment and ~/.netrc again for
    # every delivery, and could send the hub's .netrc credentials to a
    # callback; the environment's proxies are read once instead.
    session.trust_env = False
    session.proxies = {
        scheme: url for scheme, url in getproxies().items() if scheme != "no"
    }
    try:
        with ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="push-hub-delivery"
        ) as pool:
            futures = [pool.submit(send, job, session, guard) for job in jobs]
            pending = set(futures)
            while pending:
                pending = wait(pending, timeout=interval).not_done
                if pending:
                    heartbeat()
            return [future.result() for future in futures]
    finally:
        session.close()
