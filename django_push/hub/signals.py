"""Signals the hub sends; documented in ``docs/signals.rst``.

All are sent after the change is stored, from the process that made it.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A subscribe request was verified and the subscription is active.
#: ``sender`` is :class:`~django_push.hub.models.HubSubscription`; kwargs:
#: ``subscription`` (the instance) and ``created`` (``False`` on a renewal).
subscribed = Signal()

#: A subscription ended: a verified unsubscribe, a 410 from the callback,
#: a suspension or an expired lease. ``sender`` is
#: :class:`~django_push.hub.models.HubSubscription`; kwargs: ``subscription``
#: and ``reason`` (``"unsubscribed"``, ``"gone"``, ``"suspended"``,
#: ``"expired"`` or ``"denied"``).
unsubscribed = Signal()

#: A delivery was accepted by the callback (2xx). ``sender`` is
#: :class:`~django_push.hub.models.Delivery`; kwargs: ``delivery``,
#: ``subscription``, ``status_code`` and ``latency_ms``.
delivered = Signal()

#: A delivery attempt failed. ``sender`` is
#: :class:`~django_push.hub.models.Delivery`; kwargs: ``delivery``,
#: ``subscription``, ``status_code`` (``None`` for network errors),
#: ``error`` (a short text) and ``final`` (``True`` when no retry follows).
delivery_failed = Signal()
