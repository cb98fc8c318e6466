"""push_hub_work."""

from __future__ import annotations

import signal
from io import StringIO

import pytest
from django.core.management import call_command

from django_push.hub import engine

pytestmark = pytest.mark.django_db


def test_one_pass_reports_counts(monkeypatch):
    calls = []

    def run_due(limit=None):
        calls.append(limit)
        return {"delivered": 3, "fetched": 1}

    monkeypatch.setattr(engine, "run_due", run_due)
    out = StringIO()
    call_command("push_hub_work", "--limit", "7", stdout=out)
    assert calls == [7]
    assert "delivered=3 fetched=1" in out.getvalue()


def test_one_pass_on_an_empty_hub_does_nothing():
    out = StringIO()
    call_command("push_hub_work", stdout=out)
    assert "delivered=0" in out.getvalue()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_loop_stops_cleanly_on_signal(monkeypatch, signum):
    calls = []

    def run_due(limit=None):
        calls.append(limit)
        if len(calls) == 2:
            signal.raise_signal(signum)
        return dict.fromkeys(engine.COUNT_KEYS, 0)

    monkeypatch.setattr(engine, "run_due", run_due)
    before = signal.getsignal(signum)
    out = StringIO()
    call_command("push_hub_work", "--loop", "--interval", "0", stdout=out)
    assert len(calls) == 2
    assert out.getvalue().strip().endswith("Stopped.")
    assert signal.getsignal(signum) is before


def test_loop_survives_a_failed_pass(monkeypatch, caplog):
    calls = []

    def run_due(limit=None):
        calls.append(limit)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        signal.raise_signal(signal.SIGTERM)
        return {"delivered": 2}

    monkeypatch.setattr(engine, "run_due", run_due)
    out = StringIO()
    call_command("push_hub_work", "--loop", "--interval", "0", stdout=out)
    assert len(calls) == 2
    assert "delivered=2" in out.getvalue()
    assert "push_hub_work_pass_failed" in caplog.text
