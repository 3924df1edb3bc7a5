"""The demo page's storage bar in a real browser: the tier, used of limit, the breakdown by
type, refreshed after each upload, and a file that does not fit refused in plain words."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import Demo, sign_in
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

READY_TIMEOUT_MS = 60_000
# The local stack fixture's "race" tier: 3,000,000 bytes.
TIER = "race"


def pdf_of(size: int) -> bytes:
    """A valid PDF of exactly ``size`` bytes."""
    head, tail = b"%PDF-1.4\n1 0 obj<<>>endobj\n", b"trailer<<>>\n%%EOF\n"
    return head + b"%" + b"x" * (size - len(head) - len(tail) - 2) + b"\n" + tail


def _choose(page: Page, name: str, size: int) -> None:
    page.get_by_label("Choose files").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": pdf_of(size)}
    )


def test_the_usage_bar_fills_and_a_file_that_does_not_fit_is_refused_in_plain_words(
    demo: Demo,
) -> None:
    page = demo.page
    # The presign of the file that does not fit answers 403 on purpose.
    demo.errors.expect("status of 403", r"/media/presign$")
    user = f"usage-{uuid.uuid4().hex[:10]}"
    bar = page.locator("#usage")

    # Given a user of the 3 MB tier, signed in with it
    page.get_by_label("Tier").fill(TIER)
    sign_in(page, user)
    expect(bar.locator("#usage-tier")).to_have_text("race tier")
    expect(bar.locator("#usage-text")).to_have_text("0 B of 3 MB used · 0 files")
    expect(page.get_by_role("progressbar", name="Storage")).to_have_attribute("aria-valuenow", "0")

    # When they upload a 2.9 MB document
    _choose(page, "report.pdf", 2_900_000)
    expect(page.locator("li.upload", has_text="report.pdf")).to_have_attribute(
        "data-status", "ready", timeout=READY_TIMEOUT_MS
    )

    # Then the bar shows it, the warning and the breakdown by type
    expect(bar.locator("#usage-text")).to_have_text("2.9 MB of 3 MB used · 1 file")
    expect(page.get_by_role("progressbar", name="Storage")).to_have_attribute("aria-valuenow", "97")
    expect(bar.locator("#usage-warning")).to_have_text("Your storage is almost full: 100 KB left.")
    expect(bar.get_by_role("list", name="Usage by type").locator("li")).to_have_text(
        ["Documents 2.9 MB · 1"]
    )

    # When they add a 400 KB document, which does not fit
    _choose(page, "minutes.pdf", 400_000)

    # Then it is refused at once, in plain words, and the bar is unchanged
    row = page.locator("li.upload", has_text="minutes.pdf")
    expect(row).to_have_attribute("data-status", "rejected", timeout=READY_TIMEOUT_MS)
    expect(row.locator(".state")).to_have_text("Doesn't fit")
    expect(row.locator(".detail")).to_have_text(
        "This file doesn't fit: 2.9 MB of your 3 MB are used."
    )
    expect(bar.locator("#usage-text")).to_have_text("2.9 MB of 3 MB used · 1 file")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-usage.png"), full_page=True)
    demo.errors.assert_none()
