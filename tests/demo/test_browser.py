"""The demo page in a real headless Chromium (tox env ``browser``)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests.demo.conftest import WAIT, Demo

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.browser
def test_entry_added_with_the_form_appears_as_a_pushed_notification(
    start_demo: Callable[..., Demo],
) -> None:
    # Imported here: only the browser environment installs Playwright.
    from playwright.sync_api import expect, sync_playwright

    demo = start_demo("--entries", "0")
    base_url = demo.base_url()
    demo.wait_for_line(r"\[subscriber\] subscription \d+ to .* is verified")
    title = "Written in the browser"
    timeout_ms = WAIT * 1000
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page()
            page.goto(f"{base_url}/")
            subscriptions = page.locator("#subscriptions")
            expect(subscriptions).to_contain_text("verified", timeout=timeout_ms)
            notifications = page.locator("#notifications li.notification")
            expect(notifications).to_have_count(0)

            page.fill("#id_title", title)
            page.fill("#id_body", "Typed into the demo page's form.")
            page.click("#publish")

            expect(notifications.filter(has_text=title)).to_have_count(
                1, timeout=timeout_ms
            )
            expect(page.locator("#deliveries")).to_contain_text(
                "delivered", timeout=timeout_ms
            )
        finally:
            browser.close()
    demo.wait_for_line(rf"\[subscriber\] received notification: '{title}'")
    assert demo.interrupt() == 0, demo.output
