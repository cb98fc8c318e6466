"""Run the demo (``python -m example``) in a subprocess for the demo tests."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)/")
#: Upper bound on any single wait for the demo's output.
WAIT = 60.0


class Demo:
    """A running demo process whose output lines are read in a thread."""

    def __init__(self, *args: str, port: int = 0) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "example", "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as stream:
            for line in stream:
                self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        """Return the first new output line matching *pattern*."""
        regex = re.compile(pattern)
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r}; output:\n{self.output}")
            if line is None:
                pytest.fail(f"demo exited before {pattern!r}; output:\n{self.output}")
            self.lines.append(line)
            match = regex.search(line)
            if match:
                return match

    def base_url(self) -> str:
        return self.wait_for_line(SERVING.pattern).group(1)

    def finish(self, timeout: float = WAIT) -> int:
        """Wait for the process to exit by itself; return its exit status."""
        status = self.process.wait(timeout=timeout)
        self._drain()
        return status

    def interrupt(self, signum: int = signal.SIGINT, timeout: float = WAIT) -> int:
        """Send Ctrl-C (or *signum*) and return the exit status."""
        self.process.send_signal(signum)
        return self.finish(timeout)

    def stop(self) -> None:
        """Stop the demo if it still runs: Ctrl-C first, so it cleans up."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=WAIT)

    def _drain(self) -> None:
        while True:
            try:
                line = self._queue.get(timeout=WAIT)
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def start_demo() -> Iterator[Callable[..., Demo]]:
    """Start demos with given arguments; any still running are stopped."""
    started: list[Demo] = []

    def start(*args: str) -> Demo:
        demo = Demo(*args)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.stop()
