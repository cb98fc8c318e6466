"""Signals of the subscriber, documented in ``docs/signals.rst``.

Each is sent with ``sender`` = the :class:`~.models.Subscription` instance,
as django-push 1.x did for :data:`updated`.
"""

from __future__ import annotations

from django.dispatch import Signal

#: A verified notification arrived. Kwargs: ``notification`` (the raw body,
#: bytes), ``request`` (the HttpRequest), ``links`` (``None`` or a list of
#: dicts with ``url``, ``rel`` and the other Link parameters).
updated = Signal()

#: The hub confirmed a subscription. Kwargs: ``lease_seconds`` (int or None),
#: ``request``.
verified = Signal()

#: The hub denied the subscription. Kwargs: ``reason`` (str), ``request``.
denied = Signal()

#: The hub confirmed an unsubscription. Kwargs: ``request``.
unsubscribed = Signal()
