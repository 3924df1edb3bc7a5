"""The demo page in a real browser (Debian's Chromium) against the running local stack:
what a user sees when uploading photos, a spoofed file, and when cancelling."""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import (
    FileChooser,
    Locator,
    Page,
    Request,
    Route,
    expect,
)

from tests.e2e.browser import Demo, sign_in, throttle_uploads
from tests.e2e.conftest import ARTIFACTS, LocalStack
from tests.samples import HTML_BYTES, PDF_BYTES, jpeg_bytes

pytestmark = pytest.mark.e2e

# Upload, verification and thumbnails of three photos on a loaded two-core machine.
READY_TIMEOUT_MS = 60_000
PHOTOS = {
    "harbour.jpg": (1600, 1200, (32, 96, 160)),
    "meadow.jpg": (1200, 1600, (70, 150, 60)),
    "sunset.jpg": (2000, 1125, (220, 110, 40)),
}


@pytest.fixture
def user() -> str:
    return f"browser-{uuid.uuid4().hex[:10]}"


def _row(page: Page, filename: str) -> Locator:
    return page.locator("li.upload", has_text=filename)


def _assets_of(stack: LocalStack, user: str) -> list[dict]:
    response = requests.get(f"{stack.api_url}/media", headers=stack.auth(user), timeout=10)
    assert response.status_code == 200, response.text
    items: list[dict] = response.json()["items"]
    return items


def _choose_photo(page: Page, name: str) -> None:
    page.get_by_label("Choose files").set_input_files(
        {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_bytes(800, 600)}
    )


def _asset(stack: LocalStack, user: str, asset_id: str) -> dict:
    response = requests.get(
        f"{stack.api_url}/media/{asset_id}", headers=stack.auth(user), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_three_photos_upload_to_ready_with_their_thumbnails(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    # Given a signed-in user
    sign_in(page, user)

    # When they pick three photos at once
    page.get_by_label("Choose files").set_input_files(
        [
            {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_bytes(w, h, color)}
            for name, (w, h, color) in PHOTOS.items()
        ]
    )

    # Then each row's progress reaches 100 % and the row becomes ready
    for name in PHOTOS:
        row = _row(page, name)
        expect(row).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT_MS)
        expect(row.locator("progress")).to_have_js_property("value", 100)
        expect(row.locator(".state")).to_have_text("Ready")

    # And the gallery shows each photo's 512 px variant, loaded, over its dominant colour
    gallery = page.get_by_role("list", name="Ready media")
    for name in PHOTOS:
        asset_id = _row(page, name).get_attribute("data-asset-id")
        assert asset_id
        asset = _asset(local_stack, user, asset_id)
        assert asset["processing"] == "DONE", asset
        image = gallery.get_by_role("img", name=name)
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
        assert (
            urlsplit(image.get_attribute("src") or "").path
            == urlsplit(asset["variants"]["512"]["url"]).path
        )
        tile = gallery.get_by_role("button", name=f"Open {name}")
        assert tile.evaluate("el => el.style.backgroundColor") != ""

    # When they open one, the 1024 px variant shows in a dialog
    gallery.get_by_role("button", name="Open sunset.jpg").click()
    dialog = page.get_by_role("dialog", name="sunset.jpg")
    expect(dialog).to_be_visible()
    large = dialog.get_by_role("img", name="sunset.jpg")
    expect(large).to_have_js_property("complete", True)
    assert large.evaluate("img => img.naturalWidth") == 1024
    page.screenshot(path=str(ARTIFACTS / "demo-viewer.png"))
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    demo.errors.assert_none()


def test_a_spoofed_png_is_rejected_with_the_reason_in_plain_words(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    # The API answers the confirm with 422 on purpose; Chromium logs that response.
    demo.errors.expect("status of 422", r"/media/[^/]+/confirm$")
    sign_in(page, user)

    # When they upload HTML bytes named .png, declared image/png
    page.get_by_label("Choose files").set_input_files(
        {"name": "cat.png", "mimeType": "image/png", "buffer": HTML_BYTES}
    )

    # Then the row is rejected and shows the API's reason
    row = _row(page, "cat.png")
    expect(row).to_have_attribute("data-status", "rejected", timeout=READY_TIMEOUT_MS)
    expect(row.locator(".state")).to_have_text("Rejected")
    asset = _asset(local_stack, user, row.get_attribute("data-asset-id") or "")
    assert asset["status"] == "REJECTED"
    assert asset["rejectDetail"]
    reason = re.escape(asset["rejectDetail"].rstrip("."))
    expect(row.locator(".detail")).to_contain_text(re.compile(reason, re.IGNORECASE))
    expect(row.locator(".detail")).to_contain_text("text/html")
    # And nothing joins the gallery
    expect(page.get_by_role("list", name="Ready media").locator("li")).to_have_count(0)
    demo.errors.assert_none()


def test_cancelling_a_large_upload_midway_leaves_nothing_ready(
    demo: Demo, local_stack: LocalStack, user: str, tmp_path: Path
) -> None:
    page = demo.page
    # Given a 24 MB file going up at 2 MB/s: twelve seconds, unless cancelled
    big = tmp_path / "big-report.pdf"
    big.write_bytes(PDF_BYTES + b"\0" * (24 * 1024 * 1024))
    throttle_uploads(page, 2 * 1024 * 1024)
    sign_in(page, user)
    page.get_by_label("Scope").select_option("GENERIC")
    page.get_by_label("Choose files").set_input_files(big)

    # When they cancel it once some bytes have gone
    row = _row(page, big.name)
    page.wait_for_function(
        "() => document.querySelector('li.upload progress')?.value >= 2", timeout=30_000
    )
    row.get_by_role("button", name=f"Cancel upload of {big.name}").click()

    # Then the row says so, short of 100 %
    expect(row).to_have_attribute("data-status", "failed")
    expect(row.locator(".state")).to_have_text("Cancelled")
    assert row.locator("progress").evaluate("bar => bar.value") < 100
    expect(row.get_by_role("button", name=f"Cancel upload of {big.name}")).to_be_hidden()

    # And the asset can never become READY: storage has no complete file to confirm
    asset_id = row.get_attribute("data-asset-id")
    assert asset_id
    confirm = requests.patch(
        f"{local_stack.api_url}/media/{asset_id}/confirm",
        headers=local_stack.auth(user),
        timeout=30,
    )
    assert confirm.status_code in (409, 422), confirm.text
    assert _asset(local_stack, user, asset_id)["status"] != "READY"
    listing = requests.get(
        f"{local_stack.api_url}/media",
        params={"status": "READY"},
        headers=local_stack.auth(user),
        timeout=10,
    )
    assert listing.status_code == 200, listing.text
    assert listing.json()["items"] == []
    demo.errors.assert_none()


def test_the_drop_zone_opens_the_file_picker_from_the_keyboard(demo: Demo, user: str) -> None:
    page = demo.page
    # Playwright turns on file-chooser interception without waiting for Chromium to
    # acknowledge it: listen from the start so it is on before the key press.
    choosers: list[FileChooser] = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    sign_in(page, user)
    drop_zone = page.get_by_role("button", name="Drop files here")
    drop_zone.focus()
    expect(drop_zone).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    assert chooser.value.is_multiple()
    demo.errors.assert_none()


def test_a_bad_user_name_is_refused_in_plain_words(demo: Demo) -> None:
    page = demo.page
    demo.errors.expect("status of 400", r"/local/token$")
    page.get_by_label("User name").fill("not a name!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("userId must be")
    demo.errors.assert_none()


def test_a_network_failure_on_the_way_to_storage_is_retried(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    # Given the first attempt to reach storage dies on the network
    storage = f"{local_stack.aws_endpoint}/**"
    demo.errors.expect("net::ERR_FAILED", re.escape(local_stack.aws_endpoint))
    failures: list[str] = []

    def fail_once(route: Route) -> None:
        if route.request.method == "PUT" and not failures:
            failures.append(route.request.url)
            route.abort("failed")
        else:
            route.continue_()

    page.route(storage, fail_once)
    sign_in(page, user)

    # When a photo is uploaded
    page.get_by_label("Choose files").set_input_files(
        {"name": "retry.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(800, 600)}
    )

    # Then the client retries and the photo still becomes ready
    expect(_row(page, "retry.jpg")).to_have_attribute(
        "data-status", "ready", timeout=READY_TIMEOUT_MS
    )
    assert len(failures) == 1
    demo.errors.assert_none()


def test_a_file_the_scope_refuses_is_rejected_at_once_and_never_retried(
    demo: Demo, user: str
) -> None:
    page = demo.page
    demo.errors.expect("status of 400", r"/media/presign$")
    presigns: list[str] = []
    page.on(
        "request",
        lambda request: presigns.append(request.url) if "/media/presign" in request.url else None,
    )
    sign_in(page, user)

    # When a PDF goes to the avatar scope, which takes only images
    page.get_by_label("Scope").select_option("PROFILE_AVATAR")
    page.get_by_label("Choose files").set_input_files(
        {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )

    # Then the row is rejected with the API's field error, after a single request
    row = _row(page, "cv.pdf")
    expect(row).to_have_attribute("data-status", "rejected")
    expect(row.locator(".detail")).to_contain_text("not allowed in scope PROFILE_AVATAR")
    assert len(presigns) == 1
    demo.errors.assert_none()


def test_upload_all_keeps_to_its_concurrency_limit(demo: Demo, user: str) -> None:
    page = demo.page
    sign_in(page, user)
    calls: list[str] = []

    def note(request: Request) -> None:
        if "/media/presign" in request.url:
            calls.append("presign")
        elif request.method == "PUT":
            calls.append("put")

    page.on("request", note)
    photos = [base64.b64encode(jpeg_bytes(640, 480, (i * 60, 90, 120))).decode() for i in range(3)]

    # When the module's uploadAll() sends three files one at a time
    results = page.evaluate(
        """async (photos) => {
            const { uploadAll } = await import("/mediaport.js");
            const token = JSON.parse(sessionStorage.getItem("mediaport.demo.session")).token;
            const files = photos.map((data, i) => new File(
                [Uint8Array.from(atob(data), (c) => c.charCodeAt(0))],
                `batch-${i}.jpg`, { type: "image/jpeg" }));
            const results = await uploadAll(files, { token, concurrency: 1 });
            return results.map(({ file, asset, error }) =>
                ({ name: file.name, status: asset?.status, error: error && String(error) }));
        }""",
        photos,
    )

    # Then every file is READY, and no upload started before the previous one finished
    assert results == [
        {"name": f"batch-{i}.jpg", "status": "READY", "error": None} for i in range(3)
    ]
    assert calls == ["presign", "put"] * 3
    demo.errors.assert_none()


def test_a_presigned_post_form_upload_reaches_ready(demo: Demo, user: str) -> None:
    page = demo.page
    sign_in(page, user)
    photo = base64.b64encode(jpeg_bytes(900, 600)).decode()

    # When the client asks for a POST form instead of a PUT URL
    result = page.evaluate(
        """async (photo) => {
            const { upload } = await import("/mediaport.js");
            const token = JSON.parse(sessionStorage.getItem("mediaport.demo.session")).token;
            const file = new File([Uint8Array.from(atob(photo), (c) => c.charCodeAt(0))],
                "form.jpg", { type: "image/jpeg" });
            const seen = [];
            const asset = await upload(file, {
                token, method: "POST", scope: "POST_ATTACHMENT",
                onProgress: ({ fraction }) => seen.push(fraction),
            });
            return { asset, lastFraction: seen.at(-1) };
        }""",
        photo,
    )

    # Then the asset is READY with its real dimensions, and progress ended at 100 %
    asset = result["asset"]
    assert (asset["status"], asset["width"], asset["height"]) == ("READY", 900, 600)
    assert asset["scope"] == "POST_ATTACHMENT"
    assert result["lastFraction"] == 1
    demo.errors.assert_none()


TOO_MANY_REQUESTS = json.dumps(
    {"type": "about:blank", "title": "Too Many Requests", "status": 429, "detail": "slow down"}
)


@pytest.mark.parametrize("form", ["delta-seconds", "http-date"])
def test_a_429_on_presign_is_retried_once_its_retry_after_has_passed(
    demo: Demo, local_stack: LocalStack, user: str, form: str
) -> None:
    page = demo.page
    demo.errors.expect("status of 429", r"/media/presign$")
    # Given the API answers the first presign 429, saying when to come back
    presigns: list[tuple[float, str | None]] = []
    retry_at: list[float] = []

    def throttle_once(route: Route) -> None:
        now = time.time()
        presigns.append((now, route.request.header_value("Idempotency-Key")))
        if len(presigns) > 1:
            route.continue_()
            return
        if form == "delta-seconds":
            retry_after, at = "1", now + 1
        else:  # HTTP-date, whole seconds
            at = math.ceil(now) + 2
            retry_after = formatdate(at, usegmt=True)
        retry_at.append(at)
        route.fulfill(
            status=429,
            headers={"Retry-After": retry_after},
            content_type="application/problem+json",
            body=TOO_MANY_REQUESTS,
        )

    page.route("**/media/presign", throttle_once)
    sign_in(page, user)

    # When a photo is uploaded
    _choose_photo(page, "throttled.jpg")

    # Then it becomes ready, after exactly one retry that came no sooner than asked
    # (a lower bound a correct client always meets, however slow the machine; the clocks
    # agree to well under the 0.1 s allowed)
    row = _row(page, "throttled.jpg")
    expect(row).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT_MS)
    assert len(presigns) == 2
    assert presigns[1][0] >= retry_at[0] - 0.1
    # And the retry carried the same Idempotency-Key; one asset exists
    assert presigns[0][1]
    assert presigns[0][1] == presigns[1][1]
    assert [asset["assetId"] for asset in _assets_of(local_stack, user)] == [
        row.get_attribute("data-asset-id")
    ]
    demo.errors.assert_none()


def test_a_presign_whose_answer_was_lost_is_retried_with_its_key_and_makes_one_asset(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    demo.errors.expect("net::ERR_FAILED", r"/media/presign$")
    # Given the API handles the first presign, but its answer never reaches the page
    presigns: list[dict[str, str | None]] = []

    def lose_first_answer(route: Route) -> None:
        presigns.append({"key": route.request.header_value("Idempotency-Key")})
        if len(presigns) > 1:
            route.continue_()
            return
        answered = route.fetch()
        assert answered.status == 201, answered.text()
        presigns[0]["assetId"] = answered.json()["assetId"]
        route.abort("failed")

    page.route("**/media/presign", lose_first_answer)
    sign_in(page, user)

    # When a photo is uploaded
    _choose_photo(page, "lost.jpg")

    # Then the client retries with the same key, gets the first ticket back, and the
    # photo becomes ready as the one asset the first request recorded
    row = _row(page, "lost.jpg")
    expect(row).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT_MS)
    assert len(presigns) == 2
    assert presigns[0]["key"]
    assert presigns[0]["key"] == presigns[1]["key"]
    assert row.get_attribute("data-asset-id") == presigns[0]["assetId"]
    assert [asset["assetId"] for asset in _assets_of(local_stack, user)] == [presigns[0]["assetId"]]
    demo.errors.assert_none()


KEY_IN_PROGRESS = json.dumps(
    {
        "type": "urn:mediaport:problem:idempotency-key-in-progress",
        "title": "A request with this key is running",
        "status": 409,
        "detail": "the first request with this key is still in progress; retry shortly.",
    }
)


def test_a_409_for_a_key_still_in_progress_is_waited_out_and_makes_one_asset(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    demo.errors.expect("net::ERR_FAILED", r"/media/presign$")
    demo.errors.expect("status of 409", r"/media/presign$")
    # Given the first presign's answer is lost, and its retry arrives while the API would
    # still be running the first (the API's own 409, with its Retry-After)
    presigns: list[dict[str, str | None]] = []

    def slow_first_request(route: Route) -> None:
        presigns.append({"key": route.request.header_value("Idempotency-Key")})
        if len(presigns) == 1:
            answered = route.fetch()
            assert answered.status == 201, answered.text()
            presigns[0]["assetId"] = answered.json()["assetId"]
            route.abort("failed")
        elif len(presigns) == 2:
            route.fulfill(
                status=409,
                headers={"Retry-After": "1"},
                content_type="application/problem+json",
                body=KEY_IN_PROGRESS,
            )
        else:
            route.continue_()

    page.route("**/media/presign", slow_first_request)
    sign_in(page, user)

    # When a photo is uploaded
    _choose_photo(page, "patient.jpg")

    # Then the client waits, asks again with the same key, and gets the first ticket back
    row = _row(page, "patient.jpg")
    expect(row).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT_MS)
    assert len(presigns) == 3
    assert presigns[0]["key"] == presigns[1]["key"] == presigns[2]["key"]
    assert [asset["assetId"] for asset in _assets_of(local_stack, user)] == [presigns[0]["assetId"]]
    demo.errors.assert_none()


def test_each_upload_gets_its_own_idempotency_key(demo: Demo, user: str) -> None:
    page = demo.page
    keys: list[str | None] = []
    page.on(
        "request",
        lambda request: (
            keys.append(request.header_value("Idempotency-Key"))
            if request.url.endswith("/media/presign")
            else None
        ),
    )
    sign_in(page, user)

    page.get_by_label("Choose files").set_input_files(
        [
            {"name": f"own-key-{i}.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(320, 240)}
            for i in range(2)
        ]
    )

    for i in range(2):
        expect(_row(page, f"own-key-{i}.jpg")).to_have_attribute(
            "data-status", "ready", timeout=READY_TIMEOUT_MS
        )
    assert len(keys) == 2
    assert all(re.fullmatch(r"[0-9a-f-]{36}", key or "") for key in keys)
    assert keys[0] != keys[1]
    demo.errors.assert_none()


def test_a_429_asking_for_longer_than_the_client_waits_fails_at_once(demo: Demo, user: str) -> None:
    page = demo.page
    demo.errors.expect("status of 429", r"/media/presign$")
    presigns: list[str] = []

    def throttle_for_an_hour(route: Route) -> None:
        presigns.append(route.request.url)
        route.fulfill(
            status=429,
            headers={"Retry-After": "3600"},
            content_type="application/problem+json",
            body=TOO_MANY_REQUESTS,
        )

    page.route("**/media/presign", throttle_for_an_hour)
    sign_in(page, user)

    # When the module's upload() meets a 429 that says "come back in an hour"
    failure = page.evaluate(
        """async () => {
            const { upload } = await import("/mediaport.js");
            const token = JSON.parse(sessionStorage.getItem("mediaport.demo.session")).token;
            const file = new File(["x"], "later.jpg", { type: "image/jpeg" });
            try {
                await upload(file, { token });
                return null;
            } catch (error) {
                return { status: error.status, retryAfter: error.retryAfter };
            }
        }"""
    )

    # Then it does not retry early: it fails with the wait the server asked for
    assert failure == {"status": 429, "retryAfter": 3_600_000}
    assert len(presigns) == 1
    demo.errors.assert_none()
