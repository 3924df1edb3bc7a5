"""The demo gallery in a real browser: public images are shown through their CDN URLs (the
local stack's ``/cdn`` stand-in), and a second page load takes them from the browser's
cache, not the network."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from tests import samples
from tests.e2e.browser import Demo, sign_in
from tests.e2e.conftest import LocalStack
from tests.e2e.test_cdn import _bandwidth, _processed, _upload

pytestmark = pytest.mark.e2e


@pytest.fixture
def user() -> str:
    return f"gallery-{uuid.uuid4().hex[:10]}"


def _gallery_images(page: Page) -> Locator:
    images = page.get_by_role("list", name="Ready media", exact=True).get_by_role("img")
    expect(images).to_have_count(2)
    for image in images.all():
        expect(image).to_have_js_property("complete", True)
        expect(image).to_have_js_property("naturalWidth", 512)
    return images


def _transferred(response: Response) -> int:
    """The bytes of the response, headers and body, that crossed the network: Chromium's
    ``encodedDataLength``, 0 for a response from its cache (which Playwright reports as a
    body of minus the headers' size)."""
    sizes = response.request.sizes()
    return int(sizes["responseHeadersSize"] + sizes["responseBodySize"])


def test_public_images_come_from_the_cdn_and_then_from_the_browser_cache(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    cdn = f"{local_stack.api_url}/cdn/"
    # Given two public photos (post attachments), processed
    thumbnails: set[str] = set()
    for colour in ((40, 140, 200), (200, 120, 40)):
        data = samples.jpeg_bytes(900, 600, colour)
        ticket = _upload(local_stack, user, data, "POST_ATTACHMENT")
        asset: dict[str, Any] = _processed(local_stack, user, ticket["assetId"])
        thumbnails.add(asset["variants"]["512"]["cdnUrl"])
    assert all(url.startswith(cdn) for url in thumbnails)
    seen: list[Response] = []
    page.on("response", lambda response: seen.append(response) if cdn in response.url else None)

    # When the gallery shows them
    sign_in(page, user)
    images = _gallery_images(page)

    # Then each image is its thumbnail's CDN URL, fetched from the CDN
    assert {image.get_attribute("src") for image in images.all()} == thumbnails
    first = {response.url: response for response in seen}
    assert set(first) == thumbnails
    for response in first.values():
        assert response.status == 200
        assert response.header_value("cache-control") == "public, max-age=31536000, immutable"
        assert _transferred(response) > 0
        assert response.request.timing["requestStart"] >= 0  # a request was sent
    served = _bandwidth(local_stack, user)["usedBytes"]
    assert served == sum(
        response.request.sizes()["responseBodySize"] for response in first.values()
    )

    # When the page is loaded again
    seen.clear()
    page.goto("/")
    _gallery_images(page)

    # Then the browser takes them from its cache: Playwright still sees each response, but
    # no request was sent, no byte crossed the network, and the CDN served nothing more
    # (not even a 304)
    again = {response.url: response for response in seen}
    assert set(again) == thumbnails
    for response in again.values():
        assert response.status == 200
        assert response.request.timing["requestStart"] == -1
        assert _transferred(response) == 0
    assert _bandwidth(local_stack, user)["usedBytes"] == served
    demo.errors.assert_none()
