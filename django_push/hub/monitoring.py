"""Health of the hub's deliveries, for ``push_hub_monitor`` and alerting.

:func:`check_health` counts, with a few indexed queries, the deliveries
that failed for good in a recent window and the work that is overdue:
deliveries, fetches and verifications due (or claimed) for longer than a
grace period and still not done, which means no worker or sweeper is
processing them. The result knows its Nagios-style state, exit code and
one-line summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from ..conf import settings
from .models import Delivery, HubSubscription, Publish, VerificationRequest

#: Exit codes of the Nagios plugin convention.
EXIT_CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}

Status = Delivery.Status


@dataclass(frozen=True)
class Health:
    """Delivery counts over a window, judged against thresholds."""

    window: int
    threshold: int
    warning: int | None
    failed: int
    overdue: int
    overdue_fetches: int
    overdue_verifications: int
    delivered: int
    pending: int
    suspended: int

    @property
    def problems(self) -> int:
        """Failed deliveries plus overdue work: what the thresholds apply to."""
        return (
            self.failed
            + self.overdue
            + self.overdue_fetches
            + self.overdue_verifications
        )

    @property
    def state(self) -> str:
        """``OK``, ``WARNING`` or ``CRITICAL``."""
        if self.problems > self.threshold:
            return "CRITICAL"
        if self.warning is not None and self.problems > self.warning:
            return "WARNING"
        return "OK"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.state]

    def summary(self) -> str:
        """One line: state, counts, then performance data after ``|``."""
        warning = "" if self.warning is None else str(self.warning)
        limits = f"{warning};{self.threshold};0"
        return (
            f"PUSH HUB {self.state} - {self.failed} failed and {self.overdue} "
            f"overdue deliveries in the last {self.window}s, "
            f"{self.overdue_fetches} overdue fetches and "
            f"{self.overdue_verifications} overdue verifications "
            f"(threshold {self.threshold}); {self.delivered} delivered, "
            f"{self.pending} pending, {self.suspended} suspended callbacks"
            f" | problems={self.problems};{limits} failed={self.failed};;;0"
            f" overdue={self.overdue};;;0"
            f" overdue_fetches={self.overdue_fetches};;;0"
            f" overdue_verifications={self.overdue_verifications};;;0"
            f" delivered={self.delivered};;;0"
            f" pending={self.pending};;;0 suspended={self.suspended};;;0"
        )


def overdue_filter(now: datetime, grace: int) -> Q:
    """Rows due, or claimed, for longer than *grace* seconds.

    Deliveries, publishes and verifications share these status values.
    """
    late = now - timedelta(seconds=grace)
    stale = late - timedelta(seconds=settings.PUSH_HUB_CLAIM_TIMEOUT)
    return Q(status="pending", next_attempt_at__lt=late) | Q(
        status="in_progress", claimed_at__lt=stale
    )


def check_health(
    window: int = 3600,
    threshold: int = 0,
    warning: int | None = None,
    grace: int = 300,
    now: datetime | None = None,
) -> Health:
    """Count failed deliveries in the last *window* seconds and overdue ones.

    A delivery is failed when its retries ran out (or its callback answered
    410) during the window. A delivery, fetch or verification is overdue
    when it has been due, or claimed, for more than *grace* seconds past its
    time (plus the claim timeout for claimed ones), whenever that was. The
    state is ``CRITICAL`` when failed plus overdue exceeds *threshold*,
    ``WARNING`` when it exceeds *warning*.
    """
    if window < 1 or threshold < 0 or grace < 0:
        raise ValueError("window must be positive, threshold and grace not negative")
    if warning is not None and warning < 0:
        raise ValueError("warning must not be negative")
    moment = now or timezone.now()
    since = moment - timedelta(seconds=window)
    deliveries = Delivery.objects.all()
    return Health(
        window=window,
        threshold=threshold,
        warning=warning,
        failed=deliveries.filter(
            status=Status.FAILED, last_attempt_at__gte=since
        ).count(),
        overdue=deliveries.filter(overdue_filter(moment, grace)).count(),
        overdue_fetches=Publish.objects.filter(overdue_filter(moment, grace)).count(),
        overdue_verifications=VerificationRequest.objects.filter(
            overdue_filter(moment, grace)
        ).count(),
        delivered=deliveries.filter(
            status=Status.DELIVERED, delivered_at__gte=since
        ).count(),
        pending=deliveries.filter(
            status__in=(Status.PENDING, Status.IN_PROGRESS)
        ).count(),
        suspended=HubSubscription.objects.filter(
            state=HubSubscription.State.SUSPENDED
        ).count(),
    )
