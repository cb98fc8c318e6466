"""The publishing side of WebSub: advertise hubs and tell them about changes.

``ping_hub`` keeps the signature of django-push 1.x; ``publish`` is the
non-blocking, transaction-safe way to announce changes from a view;
``publishes`` / ``publish_on_change`` publish from model changes.
"""

from .changes import publish_on_change, publishes, stop_publishing
from .pings import ping_hub
from .publishing import publish

__all__ = ["ping_hub", "publish", "publish_on_change", "publishes", "stop_publishing"]
