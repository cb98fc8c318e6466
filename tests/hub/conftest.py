from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
import requests

from django_push import http
from django_push.exceptions import ResponseTooLarge

from .fakes import FakePublisher, FakeSubscriber


@pytest.fixture
def subscriber() -> Iterator[FakeSubscriber]:
    with FakeSubscriber() as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def publisher() -> Iterator[FakePublisher]:
    with FakePublisher() as fake:
        yield fake  # type: ignore[misc]


FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def deliveries_via_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send the hub's deliveries through requests, where ``responses`` sees them.

    The delivery logic is tested against ``responses``; the urllib3 transport
    that replaces it here is tested over real sockets (``tests/test_http.py``
    and ``test_end_to_end.py``).
    """
    session = requests.Session()
    session.trust_env = False

    def post(
        self: http.Poster,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        max_bytes: int,
        timeout: http.Timeout | None = None,
    ) -> http.Answer:
        try:
            response = http.request(
                "POST",
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                max_bytes=max_bytes,
                session=session,
            )
        except ResponseTooLarge as exc:
            status = exc.response.status_code if exc.response is not None else 0
            return http.Answer(status, b"", False)
        return http.Answer(response.status_code, response.content, True)

    monkeypatch.setattr(http.Poster, "post", post)
