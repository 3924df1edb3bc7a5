"""Debian's Chromium driven by Playwright, for the browser tests: launch it, open the demo
page, and collect what the page logs as errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Generous: the tests must pass on a loaded two-core machine.
DEFAULT_TIMEOUT_MS = 30_000


def launch_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless. Missing fails (never skips): `make browser` installs it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `make browser` "
            "(apt-get install chromium). Never `playwright install`.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleErrors:
    """Errors the page logs (console.error, uncaught exceptions, failed resources)."""

    expected: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.seen.append(f"uncaught: {error}"))

    def expect(self, text: str, url: str) -> None:
        """A resource error the test itself provokes, e.g. the 422 of a rejected confirm."""
        self.expected.append((text, re.compile(url)))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if any(text in message.text and pattern.search(url) for text, pattern in self.expected):
            return
        self.seen.append(f"{message.text} ({url})")

    def assert_none(self) -> None:
        assert self.seen == [], "the page logged errors:\n" + "\n".join(self.seen)


@dataclass(frozen=True)
class Demo:
    page: Page
    errors: ConsoleErrors


def open_demo(browser: Browser, api_url: str) -> Demo:
    """A fresh browser context on the demo page, with its errors collected."""
    context = browser.new_context(viewport={"width": 1180, "height": 900}, base_url=api_url)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    errors = ConsoleErrors()
    errors.watch(page)
    page.goto("/")
    return Demo(page, errors)


def sign_in(page: Page, user: str) -> None:
    page.get_by_label("User name").fill(user)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {user}").wait_for()


def throttle_uploads(page: Page, bytes_per_second: int) -> None:
    """Slow every upload from this page, as DevTools' network throttling does."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )
