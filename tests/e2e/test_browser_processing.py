"""Image operations on the demo page, in a real browser against the local stack: an image's
variants listed, a resize asked for and shown once READY with its size, an optimize and what
it saved (or that it could save nothing), and a crop outside the image refused in plain words."""

from __future__ import annotations

import io
import re
import uuid

import pytest
import requests
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser import Demo, sign_in
from tests.e2e.conftest import ARTIFACTS, LocalStack
from tests.samples import encode, photo

pytestmark = pytest.mark.e2e

READY_TIMEOUT_MS = 60_000
# A variant is made by the jobs worker: generous, for a loaded two-core machine.
VARIANT_TIMEOUT_MS = 60_000
WIDTH, HEIGHT = 1200, 800


@pytest.fixture
def user() -> str:
    return f"variants-{uuid.uuid4().hex[:10]}"


def _upload(page: Page, filename: str, data: bytes) -> str:
    """Upload with the page's file input; the new asset's id once it is READY."""
    page.get_by_label("Choose files").set_input_files(
        {"name": filename, "mimeType": "image/jpeg", "buffer": data}
    )
    row = page.locator("li.upload", has_text=filename)
    expect(row).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT_MS)
    asset_id = row.get_attribute("data-asset-id")
    assert asset_id
    return asset_id


def _open_variants(page: Page, filename: str) -> Locator:
    page.get_by_role("button", name=f"Variants of {filename}", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Variants of {filename}")
    expect(dialog).to_be_visible()
    return dialog


def _rows(dialog: Locator) -> Locator:
    return dialog.locator("tbody tr")


def _stored(stack: LocalStack, user: str, path: str) -> dict:
    response = requests.get(f"{stack.api_url}{path}", headers=stack.auth(user), timeout=10)
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def test_a_resize_and_an_optimize_asked_for_on_the_page_show_their_result(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    # The crop outside the image answers 400 on purpose.
    demo.errors.expect("status of 400", r"/crop$")
    sign_in(page, user)

    # Given a 1200×800 photo, uploaded through the page
    asset_id = _upload(page, "harbour.jpg", encode(photo(WIDTH, HEIGHT), "JPEG", quality=95))

    # When they open its variants
    dialog = _open_variants(page, "harbour.jpg")

    # Then the three thumbnails are listed, READY, with their size, format and bytes
    expect(dialog.get_by_text("original 1200×800 · image/jpeg", exact=False)).to_be_visible()
    expect(_rows(dialog)).to_have_count(3)
    expect(_rows(dialog).locator("th code")).to_have_text(["1024", "512", "128"])
    expect(_rows(dialog).locator("td.size")).to_have_text(["1024×683", "512×341", "128×85"])
    expect(_rows(dialog).locator("td.format")).to_have_text(["WebP", "WebP", "WebP"])
    expect(_rows(dialog).locator("td.status")).to_have_text(["Ready", "Ready", "Ready"])
    expect(_rows(dialog).locator("td.bytes")).to_have_text([re.compile(r"^[\d.]+ K?B$")] * 3)
    expect(dialog.get_by_role("link", name="Open variant 512")).to_be_visible()

    # When they ask for a 400×300 WebP, cover
    dialog.get_by_label("Width", exact=True).fill("400")
    dialog.get_by_label("Height", exact=True).fill("300")
    dialog.get_by_label("Fit", exact=True).select_option("cover")
    dialog.get_by_label("Format", exact=True).select_option("webp")
    dialog.get_by_role("button", name="Resize", exact=True).click()

    # Then the page waits for it and shows it READY, with its dimensions
    result = dialog.get_by_role("status")
    expect(result).to_contain_text("Ready: 400×300 WebP", timeout=VARIANT_TIMEOUT_MS)
    resized = _rows(dialog).filter(has_text="resize to 400×300, cover")
    expect(resized.locator("td.size")).to_have_text("400×300")
    expect(resized.locator("td.status")).to_have_text("Ready")
    name = resized.locator("th code").inner_text()
    assert re.fullmatch(r"resize-[0-9a-f]{12}", name)
    expect(resized.get_by_role("link", name=f"Open variant {name}")).to_be_visible()

    # And the API holds it, and its URL serves a 400×300 WebP
    variant = _stored(local_stack, user, f"/media/{asset_id}/variants/{name}")
    assert (variant["status"], variant["width"], variant["height"], variant["format"]) == (
        "READY",
        400,
        300,
        "webp",
    )
    served = Image.open(io.BytesIO(requests.get(variant["url"], timeout=10).content))
    assert (served.format, served.size) == ("WEBP", (400, 300))

    # When they optimize it at quality 60
    dialog.get_by_label("Optimize", exact=True).check()
    expect(dialog.get_by_label("Width", exact=True)).to_be_hidden()
    dialog.get_by_label("Format", exact=True).select_option(label="Same as the original (JPEG)")
    dialog.get_by_label("Quality", exact=True).fill("60")
    dialog.get_by_role("button", name="Optimize", exact=True).click()

    # Then the page shows what it saved, as the asset records it
    expect(result).to_contain_text("optimized:", timeout=VARIANT_TIMEOUT_MS)
    asset = _stored(local_stack, user, f"/media/{asset_id}")
    assert asset["optimizedSize"] < asset["originalSize"] == asset["size"]
    ratio = f"{asset['compressionRatio']:.1f}".removesuffix(".0")
    expect(result).to_have_text(
        re.compile(rf"^optimized: [\d.]+ [KM]?B → [\d.]+ [KM]?B \({re.escape(ratio)}×\) Open it$")
    )
    optimized = _rows(dialog).filter(has=page.locator("code", has_text="optimized"))
    expect(optimized.locator("td.format")).to_have_text("JPEG")
    expect(optimized.locator("td.status")).to_have_text("Ready")
    expect(dialog.locator("#variants-meta")).to_contain_text("optimized: ")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-variants.png"))

    # When they optimize it again at quality 100, which makes nothing smaller
    dialog.get_by_label("Quality", exact=True).fill("100")
    dialog.get_by_role("button", name="Optimize", exact=True).click()

    # Then the page says so, and no copy is kept
    expect(result).to_have_text(
        "optimized: already as small as it gets; no copy was kept.", timeout=VARIANT_TIMEOUT_MS
    )
    expect(optimized.locator("td.status")).to_have_text("Failed: not smaller, no copy kept")
    assert _stored(local_stack, user, f"/media/{asset_id}/variants/optimized")["reason"] == (
        "NOT_SMALLER"
    )

    # When they ask for a crop that is not inside the image
    dialog.get_by_label("Crop", exact=True).check()
    dialog.get_by_label("X", exact=True).fill("1000")
    dialog.get_by_label("Y", exact=True).fill("0")
    dialog.get_by_label("Width", exact=True).fill("400")
    dialog.get_by_label("Height", exact=True).fill("400")
    dialog.get_by_role("button", name="Crop", exact=True).click()

    # Then it is refused in plain words, and nothing is added
    expect(dialog.get_by_role("alert")).to_have_text(
        "The crop was refused. The crop (400×400 at 1000,0) is not inside the image "
        "(1200×800 pixels, as displayed)."
    )
    expect(_rows(dialog)).to_have_count(5)
    demo.errors.assert_none()
