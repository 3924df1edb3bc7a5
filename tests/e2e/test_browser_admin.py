"""Malware scanning in a real browser, against a local stack with the stand-in scanner on
(MEDIAPORT_SCAN=local): the demo page's "Scanning…" and "Quarantined" states, and the local
admin page (admin.html) that lists quarantined media and releases it, or says plainly that
a token without the admin group may not."""

from __future__ import annotations

import json
import re
import struct
import uuid
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, FilePayload, Locator, Page, Route, expect

from infra.local.tokens import issue_token
from tests.e2e.browser import Demo, open_demo, sign_in
from tests.e2e.conftest import ARTIFACTS, LocalStack
from tests.samples import jpeg_bytes

pytestmark = pytest.mark.e2e

READY_TIMEOUT_MS = 60_000
# The scan, and after a release the thumbnails, are made by the stack's workers.
SCAN_TIMEOUT_MS = 60_000
# The EICAR test string: harmless, and recognised as "malware" by every scanner.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SOI = b"\xff\xd8"


def eicar_jpeg() -> bytes:
    """A valid small JPEG carrying the EICAR string in a comment (COM) segment after SOI."""
    clean = jpeg_bytes(320, 240, color=(30, 120, 60))
    assert clean.startswith(SOI)
    comment = b"\xff\xfe" + struct.pack(">H", len(EICAR) + 2) + EICAR
    return SOI + comment + clean[len(SOI) :]


@pytest.fixture
def scanning_demo(browser: Browser, scanning_stack: LocalStack) -> Iterator[Demo]:
    """The demo page of the scanning stack, in a fresh browser context."""
    demo = open_demo(browser, scanning_stack.api_url)
    try:
        yield demo
    finally:
        demo.page.context.close()


@pytest.fixture
def admin_page(browser: Browser, scanning_stack: LocalStack) -> Iterator[Demo]:
    """admin.html of the scanning stack, in a browser context of its own (its own tab storage)."""
    admin = open_demo(browser, scanning_stack.api_url)
    admin.page.goto("/admin.html")
    try:
        yield admin
    finally:
        admin.page.context.close()


# ---- what the pages show --------------------------------------------------------------------


def _item(page: Page, filename: str) -> Locator:
    return (
        page.get_by_role("list", name="Ready media", exact=True)
        .locator(":scope > li")
        .filter(has_text=filename)
    )


def _choose(page: Page, *files: tuple[str, bytes]) -> None:
    payloads: list[FilePayload] = [
        {"name": name, "mimeType": "image/jpeg", "buffer": data} for name, data in files
    ]
    page.get_by_label("Choose files").set_input_files(payloads)


def _upload_row(page: Page, filename: str) -> Locator:
    return page.locator("li.upload", has_text=filename)


def _use_token(page: Page, token: str) -> None:
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Use token").click()


def _quarantined(page: Page) -> Locator:
    return page.get_by_role("table", name="Quarantined media").locator("tbody tr")


def _expect_served(item: Locator) -> None:
    """Shown as a picture (a URL to it), and offered its variants and a download."""
    expect(item.locator(".scan-badge")).to_have_count(0, timeout=SCAN_TIMEOUT_MS)
    expect(item.get_by_role("img")).to_have_attribute("src", re.compile(r"^http"))
    expect(item.get_by_role("link", name=re.compile(r"^Download "))).to_be_visible()
    expect(item.get_by_role("button", name=re.compile(r"^Variants of "))).to_be_visible()


# ---- what the API holds -----------------------------------------------------------------------


def _stored(stack: LocalStack, user: str, asset_id: str) -> dict:
    response = requests.get(
        f"{stack.api_url}/media/{asset_id}", headers=stack.auth(user), timeout=10
    )
    assert response.status_code == 200, response.text
    asset: dict = response.json()
    return asset


# ---- tests ------------------------------------------------------------------------------------


def test_an_infected_upload_is_quarantined_and_an_admin_releases_it_on_the_admin_page(
    scanning_demo: Demo, admin_page: Demo, scanning_stack: LocalStack
) -> None:
    page = scanning_demo.page
    suffix = uuid.uuid4().hex[:8]
    clean, infected = f"harbour-{suffix}.jpg", f"eicar-{suffix}.jpg"

    # Given alice, signed in on the demo page
    sign_in(page, "alice")

    # When she uploads a clean photo and a photo carrying the EICAR test string
    _choose(page, (clean, jpeg_bytes(640, 480)), (infected, eicar_jpeg()))

    # Then the clean one is served once the scan finds it clean
    expect(_upload_row(page, clean)).to_have_attribute(
        "data-status", "ready", timeout=READY_TIMEOUT_MS
    )
    _expect_served(_item(page, clean))
    clean_id = _upload_row(page, clean).get_attribute("data-asset-id")
    assert clean_id
    assert _stored(scanning_stack, "alice", clean_id)["scanStatus"] == "CLEAN"

    # And the infected one is quarantined: no picture, no link, the scan result in words
    row = _upload_row(page, infected)
    expect(row).to_have_attribute("data-status", "quarantined", timeout=READY_TIMEOUT_MS)
    expect(row.locator(".state")).to_have_text("Quarantined")
    item = _item(page, infected)
    expect(item.locator(".scan-badge")).to_have_text("Quarantined")
    expect(item.locator(".scan-note")).to_have_text(
        "The malware scan found a threat in this file. It is not served; "
        "an administrator can release it after review."
    )
    expect(item.get_by_role("img")).to_have_count(0)
    expect(item.get_by_role("link")).to_have_count(0)
    expect(item.get_by_role("button", name=re.compile(r"^Variants of "))).to_have_count(0)
    infected_id = row.get_attribute("data-asset-id")
    assert infected_id
    stored = _stored(scanning_stack, "alice", infected_id)
    assert (stored["status"], stored["scanStatus"], stored["url"]) == (
        "QUARANTINED",
        "INFECTED",
        None,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-quarantined.png"), full_page=True)

    # When an admin opens admin.html with an admin token, and filters for alice's threats
    admin = admin_page.page
    expect(admin.get_by_role("note")).to_contain_text("Local only.")
    _use_token(admin, issue_token("root", admin=True))
    admin.get_by_label("User").fill("alice")
    admin.get_by_label("Scan status").select_option("INFECTED")
    admin.get_by_role("button", name="Apply").click()

    # Then the infected upload is listed, with its owner and the scan result; the clean one is not
    listed = _quarantined(admin).filter(has_text=infected)
    expect(listed).to_have_count(1)
    expect(listed).to_have_attribute("data-asset-id", infected_id)
    expect(listed).to_contain_text("alice")
    expect(listed).to_contain_text("Threat found")
    expect(listed).to_contain_text("A threat was found (THREATS_FOUND)")
    expect(_quarantined(admin).filter(has_text=clean)).to_have_count(0)
    admin.screenshot(path=str(ARTIFACTS / "admin-quarantined.png"), full_page=True)

    # When they release it, giving a reason
    listed.get_by_role("button", name=f"Release {infected} of alice").click()
    dialog = admin.get_by_role("dialog", name=f"Release {infected}")
    dialog.get_by_label("Reason").fill("EICAR test file: harmless, checked by hand")
    dialog.get_by_role("button", name="Release", exact=True).click()

    # Then it leaves the list, and the page says it is served again
    expect(_quarantined(admin).filter(has_text=infected)).to_have_count(0)
    expect(admin.get_by_role("status")).to_have_text(
        f"Released {infected} of alice: it is served again (by root)."
    )
    stored = _stored(scanning_stack, "alice", infected_id)
    assert (stored["status"], stored["scanStatus"]) == ("READY", "CLEAN")
    assert stored["releasedAt"]

    # And alice's demo page, reloaded, shows it served
    page.reload()
    _expect_served(_item(page, infected))
    expect(_item(page, infected).locator(".scan-note")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "demo-released.png"), full_page=True)
    scanning_demo.errors.assert_none()
    admin_page.errors.assert_none()


def test_an_upload_waiting_for_its_scan_shows_scanning_then_is_served(
    scanning_demo: Demo, scanning_stack: LocalStack
) -> None:
    page = scanning_demo.page
    user = f"scan-{uuid.uuid4().hex[:10]}"
    filename = "lake.jpg"
    # Given a photo uploaded through the API, which the scanner has found clean
    response = requests.post(
        f"{scanning_stack.api_url}/media/upload",
        files={"file": (filename, jpeg_bytes(640, 480), "image/jpeg")},
        headers=scanning_stack.auth(user),
        timeout=60,
    )
    assert response.status_code == 201, response.text
    asset_id = response.json()["assetId"]

    # And the page sees it as it was before its scan finished (the stand-in scanner takes
    # well under a second: the API's answers are held at "scan pending" until released)
    scanned = {"released": False}

    def as_before_the_scan(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        if not scanned["released"]:
            assets = body.get("items", [body])
            for asset in assets:
                if asset.get("assetId") == asset_id:
                    asset.update(scanStatus="PENDING", scannedAt=None, url=None, variants={})
        route.fulfill(response=answer, body=json.dumps(body))

    page.route(re.compile(rf"/media(\?.*status=READY.*|/{asset_id})$"), as_before_the_scan)

    # When the owner signs in
    sign_in(page, user)

    # Then the photo shows "Scanning…": no picture, no link, no variants
    item = _item(page, filename)
    expect(item.locator(".scan-badge")).to_have_text("Scanning…")
    expect(item.locator(".scan-note")).to_have_text(
        "Waiting for the malware scan: it is served once the scan finds it clean."
    )
    expect(item.get_by_role("img")).to_have_count(0)
    expect(item.get_by_role("link")).to_have_count(0)
    expect(item.get_by_role("button", name=f"Variants of {filename}")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "demo-scanning.png"), full_page=True)

    # When the scan's result reaches the page
    scanned["released"] = True

    # Then the page, which keeps reading it, shows it served
    _expect_served(item)
    expect(item.locator(".scan-note")).to_have_count(0)
    scanning_demo.errors.assert_none()


def test_a_token_without_the_admin_group_is_told_plainly_it_may_not(
    admin_page: Demo,
) -> None:
    page = admin_page.page
    # The admin route answers 403 on purpose.
    admin_page.errors.expect("status of 403", r"/admin/media/quarantined")

    # When a user who is not an admin uses their own token
    _use_token(page, issue_token("alice"))

    # Then the page says, in plain words, that the token is not an admin's, and lists nothing
    expect(page.get_by_role("alert")).to_have_text(
        "This token is not an administrator's: the admin routes answered 403 Forbidden "
        "(Administrators only). Only a token in the admin group may see and release "
        "quarantined media; `make token USER=root ADMIN=1` prints one."
    )
    expect(page.get_by_role("table", name="Quarantined media")).to_be_hidden()
    expect(page.get_by_label("Admin token")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-forbidden.png"))
    admin_page.errors.assert_none()
