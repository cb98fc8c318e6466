"""The exception tree of django-push, documented in ``docs/exceptions.rst``.

::

    PushError
    ├── RequestError            an outbound HTTP request failed (network, size)
    │   └── ResponseTooLarge    the peer's body exceeded the configured cap
    ├── HubRequestError         a hub refused or failed a request (non-2xx)
    │   └── PublishError        a publish ping was refused
    └── SubscriptionError       subscribing or unsubscribing failed
        └── DiscoveryError      no hub or no topic could be discovered

Messages name the URL and the status code, never a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests


class PushError(Exception):
    """Base class of every error raised by django-push."""


class RequestError(PushError):
    """An outbound request could not be completed (network error, timeout)."""

    def __init__(
        self, message: str, url: str, response: requests.Response | None = None
    ) -> None:
        super().__init__(message)
        self.url = url
        self.response = response


class ResponseTooLarge(RequestError):
    """The response body was larger than the allowed maximum."""


class HubRequestError(PushError):
    """A hub answered a request with a non-success status."""

    def __init__(
        self, message: str, url: str, response: requests.Response | None = None
    ) -> None:
        super().__init__(message)
        self.url = url
        self.response = response

    @property
    def status_code(self) -> int | None:
        return None if self.response is None else self.response.status_code


class PublishError(HubRequestError):
    """A hub did not accept a publish ping."""


class SubscriptionError(PushError):
    """Subscribing or unsubscribing failed.

    Kept with the signature of django-push 1.x:
    ``SubscriptionError(message, subscription, response)``.
    """

    def __init__(
        self,
        message: str,
        subscription: Any = None,
        response: requests.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.subscription = subscription
        self.response = response


class DiscoveryError(SubscriptionError):
    """No hub, or no canonical topic URL, could be discovered for a topic."""
