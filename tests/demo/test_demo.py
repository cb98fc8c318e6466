"""The README demo, run as a user runs it: ``python -m example``."""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.demo.conftest import WAIT, Demo


def test_demo_pushes_a_published_entry_back_to_its_subscriber(
    start_demo: Callable[..., Demo],
) -> None:
    demo = start_demo("--once", "--entries", "1", "--timeout", "30")
    demo.base_url()
    demo.wait_for_line(r"\[subscriber\] subscription \d+ to .* is verified")
    demo.wait_for_line(r"\[publisher\] new entry 'Entry 1'")
    demo.wait_for_line(r"\[subscriber\] received notification: 'Entry 1'")
    demo.wait_for_line(r"\[hub\] delivery \d+ -> 2\d\d")
    assert demo.finish() == 0, demo.output
    assert "[demo] done" in demo.lines, demo.output
    assert "[demo] stopped" in demo.lines, demo.output


def test_demo_page_state_lists_the_notification_and_its_delivery(
    start_demo: Callable[..., Demo],
) -> None:
    demo = start_demo("--entries", "1")
    base_url = demo.base_url()
    demo.wait_for_line(r"\[subscriber\] received notification: 'Entry 1'")
    # The hub marks the delivery once the callback's answer is back.
    demo.wait_for_line(r"\[hub\] delivery \d+ -> 2\d\d")
    with urllib.request.urlopen(f"{base_url}/state.json", timeout=WAIT) as response:
        state = json.load(response)
    assert [n["title"] for n in state["notifications"]] == ["Entry 1"]
    assert [e["title"] for e in state["entries"]] == ["Entry 1"]
    assert [s["verified"] for s in state["subscriptions"]] == [True]
    assert [d["state"] for d in state["deliveries"]] == ["delivered"]
    with urllib.request.urlopen(f"{base_url}/feed/", timeout=WAIT) as response:
        feed = response.read().decode()
    assert 'rel="hub"' in feed
    assert f"{base_url}/hub/" in feed


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_the_demo_cleanly(
    start_demo: Callable[..., Demo], signum: int
) -> None:
    demo = start_demo("--entries", "0")
    match = demo.wait_for_line(r"database in (\S+)\)")
    data_dir = Path(match.group(1))
    assert data_dir.is_dir()
    demo.wait_for_line(r"\[subscriber\] subscription \d+ to .* is verified")
    assert demo.interrupt(signum) == 0, demo.output
    assert "[demo] interrupted, stopping" in demo.lines, demo.output
    assert "[demo] stopped" in demo.lines, demo.output
    assert not data_dir.exists()


def test_demo_reports_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = Demo("--once", port=port)
        try:
            demo.wait_for_line(rf"cannot listen on 127\.0\.0\.1:{port}")
            assert demo.finish() == 2
        finally:
            demo.stop()


def test_demo_form_publishes_an_entry_and_rejects_an_empty_title(
    start_demo: Callable[..., Demo],
) -> None:
    demo = start_demo("--entries", "0")
    base_url = demo.base_url()
    demo.wait_for_line(r"\[subscriber\] subscription \d+ to .* is verified")
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(f"{base_url}/", timeout=WAIT) as response:
        page = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None, page
    token = match.group(1)

    def post(title: str) -> int:
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "title": title, "body": ""}
        ).encode()
        request = urllib.request.Request(
            f"{base_url}/entries/", data=form, headers={"Referer": f"{base_url}/"}
        )
        try:
            with opener.open(request, timeout=WAIT) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert post("") == 400
    # The redirect after a successful POST is followed to the page.
    assert post("Sent with the form") == 200
    demo.wait_for_line(r"\[subscriber\] received notification: 'Sent with the form'")
    with urllib.request.urlopen(f"{base_url}/state.json", timeout=WAIT) as response:
        state = json.load(response)
    assert [e["title"] for e in state["entries"]] == ["Sent with the form"]
