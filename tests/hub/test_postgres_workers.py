"""Several worker processes on one PostgreSQL database lose no delivery.

The pytest process publishes; separate worker processes (django-tasks-db's
``db_worker`` or ``push_hub_work --loop``) fetch and deliver to fake
subscribers listening on 127.0.0.1. Each subscriber records what it got and
which worker sent it (each worker has its own ``PUSH_HUB_URL``, sent as
``rel=hub``). Runs only on PostgreSQL (tox env ``postgres``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from django_push.hub import api
from django_push.hub.models import Delivery, HubSubscription, Publish
from django_push.links import parse_link_header, urls_for

from .fakes import FakeServer, FakeSubscriber, Received, Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs DATABASE_URL (PostgreSQL)"
    ),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]

#: Longest wait for anything the workers do; generous for a loaded machine.
DEADLINE = 90.0

#: Seconds after which a dead worker's claims are taken again.
CLAIM_TIMEOUT = 3

TASKS_DB = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

BODY = re.compile(rb"<feed><id>(?P<path>[^<]+)</id><v>(?P<version>\d+)</v></feed>")


class VersionedPublisher(FakeServer):
    """Serves every path with a body naming the path and the current version."""

    def __init__(self) -> None:
        super().__init__()
        self.version = 0

    def topic(self, number: int) -> str:
        return f"{self.base_url}/topic/{number}"

    def respond(self, request: Received) -> Reply:
        body = f"<feed><id>{request.path}</id><v>{self.version}</v></feed>"
        return Reply(200, body.encode(), {"Content-Type": "application/atom+xml"})


def receipts(requests: list[Received]) -> list[tuple[str, int, str]]:
    """(topic path, version, hub URL) of each delivery request, in order."""
    found = []
    for request in requests:
        match = BODY.fullmatch(request.body)
        assert match is not None, request.body
        (hub,) = urls_for(parse_link_header(request.headers.get("Link")), "hub")
        found.append((match["path"].decode(), int(match["version"]), hub))
    return found


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll *condition* until it holds; fail after :data:`DEADLINE` seconds."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            statuses = Counter(Delivery.objects.values_list("status", "error"))
            publishes = Counter(Publish.objects.values_list("status", flat=True))
            pytest.fail(
                f"timed out waiting for {what}; deliveries {dict(statuses)}, "
                f"publishes {dict(publishes)}"
            )
        time.sleep(0.2)


class Workers:
    """Worker processes on the test database, always stopped at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *command: str) -> str:
        """Start ``manage.py <command>`` as worker *name*; return its hub URL."""
        hub_url = f"http://{name}.hub.test/hub/"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.hub.postgres_settings",
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
            ),
            "PUSH_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
            "PUSH_TEST_HUB_URL": hub_url,
            "PUSH_TEST_CLAIM_TIMEOUT": str(CLAIM_TIMEOUT),
        }
        log = (self.logs / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "django", *command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return hub_url

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None and process.returncode != -signal.SIGKILL:
                log = (self.logs / f"{name}.log").read_text(errors="replace")
                pytest.fail(f"worker {name} exited {process.returncode}:\n{log}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def workers(transactional_db, tmp_path, settings) -> Iterator[Workers]:
    # The pytest process enqueues into the database, like a web process.
    settings.TASKS = TASKS_DB
    group = Workers(tmp_path)
    try:
        yield group
    finally:
        group.stop()


@pytest.fixture
def publisher() -> Iterator[VersionedPublisher]:
    with VersionedPublisher() as server:
        yield server  # type: ignore[misc]


def subscribe_all(subscribers: list[FakeSubscriber], topics: list[str]) -> None:
    lease_end = timezone.now() + timedelta(days=1)
    HubSubscription.objects.bulk_create(
        HubSubscription(
            topic=topic,
            callback=subscriber.callback(),
            state=HubSubscription.State.ACTIVE,
            lease_seconds=86400,
            lease_expires_at=lease_end,
        )
        for subscriber in subscribers
        for topic in topics
    )


def publish(publisher: VersionedPublisher, topics: list[str], version: int) -> None:
    """Publish every topic with bodies at *version*, as a web process would."""
    publisher.version = version
    before = Publish.objects.count()
    api.publish(topics)
    assert Publish.objects.count() == before + len(topics)


def all_delivered(workers: Workers, expected: int) -> Callable[[], bool]:
    """Whether *expected* deliveries exist and all were delivered."""

    def check() -> bool:
        workers.check_alive()
        deliveries = Delivery.objects.all()
        count = deliveries.count()
        assert count <= expected, f"{count} deliveries planned, not {expected}"
        return (
            count == expected
            and not deliveries.exclude(status=Delivery.Status.DELIVERED).exists()
        )

    return check


def publish_rounds(
    publisher: VersionedPublisher,
    topics: list[str],
    subscribers: int,
    versions: range,
    workers: Workers,
) -> None:
    """Publish each version in turn, each once the previous one is delivered.

    A newer publish replaces deliveries of the same topic still waiting, so
    waiting makes every version a publish each subscriber must receive.
    """
    for version in versions:
        total = Delivery.objects.count() + subscribers * len(topics)
        publish(publisher, topics, version)
        wait_for(all_delivered(workers, total), f"the deliveries of version {version}")


def expected_receipts(topics: list[str], versions: range) -> Counter[tuple[str, int]]:
    paths = [urlsplit(topic).path for topic in topics]
    return Counter((path, version) for path in paths for version in versions)


def test_two_db_workers_deliver_each_publish_exactly_once(workers, publisher):
    with ExitStack() as stack:
        subscribers = [stack.enter_context(FakeSubscriber()) for _ in range(4)]
        topics = [publisher.topic(n) for n in range(3)]
        subscribe_all(subscribers, topics)
        hubs = {
            workers.start(name, "db_worker", "--interval", "0.1", "--no-startup-delay")
            for name in ("dbw-a", "dbw-b")
        }
        versions = range(1, 4)
        publish_rounds(publisher, topics, len(subscribers), versions, workers)
        total = len(subscribers) * len(topics) * len(versions)
        wait_for(
            lambda: sum(len(s.requests("POST")) for s in subscribers) >= total,
            "the subscribers to record every delivery",
        )
        expected = expected_receipts(topics, versions)
        for subscriber in subscribers:
            got = receipts(subscriber.requests("POST"))
            assert Counter((path, version) for path, version, _ in got) == expected
            assert {hub for _, _, hub in got} <= hubs


def test_two_sweepers_racing_for_the_same_rows_send_each_once(workers, publisher):
    """Small claims force the two processes to interleave on every pass."""
    with ExitStack() as stack:
        subscribers = [stack.enter_context(FakeSubscriber()) for _ in range(5)]
        topics = [publisher.topic(n) for n in range(8)]
        subscribe_all(subscribers, topics)
        hubs = {
            workers.start(
                name, "push_hub_work", "--loop", "--interval", "0.05", "--limit", "1"
            )
            for name in ("race-a", "race-b")
        }
        versions = range(1, 3)
        publish_rounds(publisher, topics, len(subscribers), versions, workers)
        expected = expected_receipts(topics, versions)
        senders: set[str] = set()
        for subscriber in subscribers:
            got = receipts(subscriber.requests("POST"))
            assert Counter((path, version) for path, version, _ in got) == expected
            senders |= {hub for _, _, hub in got}
        assert senders <= hubs


class HeldSubscriber(FakeSubscriber):
    """Holds its first delivery until :attr:`gate` opens (bounded)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.first: Received | None = None

    def respond(self, request: Received) -> Reply:
        if request.method == "POST":
            with self.lock:
                hold = self.first is None
                if hold:
                    self.first = request
            if hold:
                self.gate.wait(DEADLINE)
        return super().respond(request)


class FlakySubscriber(FakeSubscriber):
    """Answers 503 to its first *failures* deliveries; keeps those it took."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.accepted: list[Received] = []

    def respond(self, request: Received) -> Reply:
        if request.method != "POST":
            return super().respond(request)
        with self.lock:
            self.failures -= 1
            if self.failures >= 0:
                return Reply(503)
            self.accepted.append(request)
        return Reply(204)


def check_at_least_once(
    got: list[tuple[str, int, str]],
    expected: Counter[tuple[str, int]],
    dead_hub: str,
    survivor_hub: str,
) -> None:
    """Each publish arrived; a repeat is the dead worker's copy, then one more."""
    counts = Counter((path, version) for path, version, _ in got)
    assert set(counts) == set(expected)
    for key, count in counts.items():
        senders = [hub for path, version, hub in got if (path, version) == key]
        if count > 1:
            assert count == 2, (key, senders)
            assert senders == [dead_hub, survivor_hub], (key, senders)


def test_a_killed_worker_loses_nothing(workers, publisher):
    with ExitStack() as stack:
        steady = [stack.enter_context(FakeSubscriber()) for _ in range(3)]
        held = stack.enter_context(HeldSubscriber())
        stack.callback(held.gate.set)
        flaky = stack.enter_context(FlakySubscriber(failures=2))
        subscribers = [*steady, held, flaky]
        topics = [publisher.topic(n) for n in range(3)]
        subscribe_all(subscribers, topics)
        hubs = {
            name: workers.start(name, "push_hub_work", "--loop", "--interval", "0.2")
            for name in ("loop-a", "loop-b")
        }
        publish(publisher, topics, 1)
        wait_for(lambda: held.first is not None, "a worker to reach the held callback")
        assert held.first is not None
        (dead_hub,) = urls_for(parse_link_header(held.first.headers.get("Link")), "hub")
        (survivor_hub,) = (hub for hub in hubs.values() if hub != dead_hub)
        # The worker is in the middle of a batch: its rows are claimed.
        assert Delivery.objects.filter(status=Delivery.Status.IN_PROGRESS).exists()
        workers.kill(next(name for name, hub in hubs.items() if hub == dead_hub))
        held.gate.set()
        # The survivor takes the dead worker's rows once their claim expires,
        # then goes on with new publishes alone.
        wait_for(
            all_delivered(workers, len(subscribers) * len(topics)),
            "the survivor to deliver the dead worker's rows",
        )
        publish_rounds(publisher, topics, len(subscribers), range(2, 3), workers)
        expected = expected_receipts(topics, range(1, 3))
        for subscriber in [*steady, held]:
            got = receipts(subscriber.requests("POST"))
            check_at_least_once(got, expected, dead_hub, survivor_hub)
            assert {hub for _, version, hub in got if version == 2} == {survivor_hub}
        check_at_least_once(receipts(flaky.accepted), expected, dead_hub, survivor_hub)
        assert flaky.failures < 0
        assert len(flaky.requests("POST")) > len(flaky.accepted)
