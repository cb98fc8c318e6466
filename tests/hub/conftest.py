from __future__ import annotations

from collections.abc import Iterator

import pytest

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
