"""The publishing side of WebSub: advertise hubs and tell them about changes.

``ping_hub`` keeps the signature of django-push 1.x.
"""

from .pings import ping_hub

__all__ = ["ping_hub"]
