"""Uppy from npm, unchanged, against the local stack: ``@uppy/core`` and ``@uppy/aws-s3``
(pinned in package.json) bundled by esbuild at test time, driven in Debian's Chromium with
nothing but a session's ``companionEndpoint`` (docs/uppy.md)."""

from __future__ import annotations

import base64
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Request, Route

from tests import samples
from tests.e2e.browser import DEFAULT_TIMEOUT_MS, ConsoleErrors
from tests.e2e.conftest import LARGE_SCOPE, ROOT, LocalStack

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
ENTRY = Path(__file__).resolve().parent / "uppy" / "entry.js"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
# Over Uppy's default multipart threshold (100 MiB), so it goes in parts.
LARGE = 120 * MIB
READY_TIMEOUT_S = 120

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Uppy against Mediaport</title></head>
<body><script src="/uppy-test.js"></script></body></html>"""

# Builds both files in the page (the video: an ftyp box, then zeros) and uploads them with
# the bundled entry; answers what Uppy reported for each.
UPLOAD = """async ([endpoint, videoHead, videoSize, imageBase64]) => {
    const video = new Uint8Array(videoSize);
    video.set(videoHead);
    const image = Uint8Array.from(atob(imageBase64), (c) => c.charCodeAt(0));
    const files = [
        Object.assign(new File([video], "ride.mp4", { type: "video/mp4" }), {
            meta: { caption: "Alps, day 2", tags: ["alps", "ride"] },
        }),
        Object.assign(new File([image], "summit.jpg", { type: "image/jpeg" }), {
            meta: { altText: "A red summit", tags: ["alps", "summit"], scope: "PROFILE_AVATAR" },
        }),
    ];
    const result = await window.uploadWithUppy(endpoint, files);
    return {
        successful: result.successful.map((file) => ({
            name: file.name,
            key: file.response.body.key,
            uploadURL: file.response.uploadURL,
        })),
        failed: result.failed.map((file) => ({ name: file.name, error: String(file.error) })),
    };
}"""


def test_the_bundled_entry_is_the_setup_docs_uppy_md_shows() -> None:
    (snippet,) = re.findall(r"```js\n(.*?)```", (ROOT / "docs/uppy.md").read_text(), re.DOTALL)
    entry = ENTRY.read_text()
    setup = [line for line in snippet.splitlines() if line.startswith(("import ", "const uppy = "))]
    assert setup, "docs/uppy.md's snippet shows no Uppy import or setup"
    for line in setup:
        assert line in entry, line


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """entry.js and the npm packages it imports, as one script (never written to the repo)."""
    if not ESBUILD.exists():
        pytest.fail(
            f"{ESBUILD.relative_to(ROOT)} is missing: `make test` installs the npm packages "
            "(npm ci) before the tests.",
            pytrace=False,
        )
    output = tmp_path_factory.mktemp("uppy") / "uppy-test.js"
    subprocess.run(
        [str(ESBUILD), str(ENTRY), "--bundle", "--format=iife", f"--outfile={output}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return output.read_bytes()


def _open_session(stack: LocalStack) -> str:
    """What the app's backend does with the user's bearer token."""
    response = requests.post(
        f"{stack.api_url}/uploads/sessions",
        json={"scope": LARGE_SCOPE, "folder": "trips/alps"},
        headers=stack.auth("alice"),
        timeout=30,
    )
    assert response.status_code == 201, response.text
    endpoint: str = response.json()["companionEndpoint"]
    return endpoint


def _context(browser: Browser) -> BrowserContext:
    # The test fulfils the page itself, so Chromium cannot place it on loopback and treats
    # it as public: reaching the API and storage on 127.0.0.1 then needs Local Network
    # Access, which a real app (public page, public API) never asks for.
    context = browser.new_context(permissions=["local-network-access"])
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


def _ready(stack: LocalStack, asset_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        asset: dict[str, Any] = requests.get(
            f"{stack.api_url}/media/{asset_id}", headers=stack.auth("alice"), timeout=30
        ).json()
        if asset["status"] != "PENDING" or time.monotonic() > deadline:
            return asset
        time.sleep(0.5)


def test_uppy_uploads_a_large_video_in_parts_and_an_image_in_one_post_to_ready(
    browser: Browser, bundle: bytes, local_stack: LocalStack
) -> None:
    endpoint = _open_session(local_stack)
    # The page's origin is one the API allows, and another than the endpoint's
    # (http://127.0.0.1:…): every Companion call is a cross-origin request, as in production.
    origin = local_stack.api_url.replace("127.0.0.1", "localhost")
    context = _context(browser)
    page = context.new_page()
    errors = ConsoleErrors()
    errors.watch(page)
    # Uppy reads the ETag of its POST upload if it may (it needs none: the location is the
    # bucket URL and the key). S3 applies the bucket's CORS rule, which exposes ETag, to a
    # POST's answer too; moto adds no CORS headers to it, so Chromium says it refused.
    errors.expect('Refused to get unsafe header "etag"', r"/uppy-test\.js$")
    calls: list[str] = []

    def note(request: Request) -> None:
        if "/uppy/" in request.url:
            calls.append(f"{request.method} {request.url.split('/s3', 1)[1].split('?')[0]}")

    def serve(body: bytes, content_type: str) -> Any:
        return lambda route: route.fulfill(status=200, body=body, content_type=content_type)

    page.on("request", note)
    page.route(f"{origin}/uppy-test.html", serve(PAGE.encode(), "text/html"))
    page.route(f"{origin}/uppy-test.js", serve(bundle, "text/javascript"))
    try:
        page.goto(f"{origin}/uppy-test.html")
        image = samples.jpeg_bytes(320, 240)
        result = page.evaluate(
            UPLOAD,
            [endpoint, list(samples.MP4_BYTES[:32]), LARGE, base64.b64encode(image).decode()],
        )
    finally:
        context.close()

    assert result["failed"] == [], result
    uploaded = {file["name"]: file for file in result["successful"]}
    assert set(uploaded) == {"ride.mp4", "summit.jpg"}
    # Uppy went through the Companion routes only: parts for the video, one POST policy
    # for the image (the POST itself goes to storage).
    assert calls.count("POST /multipart") == 1
    assert calls.count("GET /params") == 1
    assert calls.count(f"POST /multipart/{_upload_id(calls)}/complete") == 1
    # Uppy's default part size for 120 MiB: S3's 5 MiB minimum, so 24 parts, each signed.
    signed = [call for call in calls if call.startswith("GET /multipart/") and call.count("/") == 3]
    assert len(signed) == LARGE // (5 * MIB)

    video = _ready(local_stack, uploaded["ride.mp4"]["key"].split("/")[2])
    photo = _ready(local_stack, uploaded["summit.jpg"]["key"].split("/")[2])
    assert (video["status"], video["mimeType"], video["size"]) == ("READY", "video/mp4", LARGE)
    assert video["declaredSize"] is None
    assert (video["caption"], video["tags"], video["folder"]) == (
        "Alps, day 2",
        ["alps", "ride"],
        "trips/alps",
    )
    assert (photo["status"], photo["mimeType"], photo["size"]) == (
        "READY",
        "image/jpeg",
        len(image),
    )
    assert (photo["altText"], photo["tags"], photo["scope"]) == (
        "A red summit",
        ["alps", "summit"],
        LARGE_SCOPE,
    )
    errors.assert_none()
    # The capability in the endpoint never reached the local stack's log.
    assert endpoint.rsplit("/", 1)[1] not in local_stack.log.read_text()


def _upload_id(calls: list[str]) -> str:
    (started,) = [call for call in calls if call.startswith("GET /multipart/")][:1]
    return started.split("/")[2]


def test_a_revoked_session_stops_uppy_and_starts_nothing(
    browser: Browser, bundle: bytes, local_stack: LocalStack
) -> None:
    endpoint = _open_session(local_stack)
    token = endpoint.rsplit("/", 1)[1]
    revoked = requests.delete(
        f"{local_stack.api_url}/uploads/sessions/{token}",
        headers=local_stack.auth("alice"),
        timeout=30,
    )
    assert revoked.status_code == 204
    before = _asset_ids_of(local_stack, "alice")
    context = _context(browser)
    page = context.new_page()
    errors = ConsoleErrors()
    errors.watch(page)
    # Each Companion call of a revoked session answers 404, which Chromium logs, and Uppy
    # reports as the reason each file failed.
    errors.expect("responded with a status of 404", rf"/uppy/{re.escape(token)}/")
    errors.expect("Companion request failed: NOT FOUND", r"/uppy-test\.js$")
    origin = local_stack.api_url.replace("127.0.0.1", "localhost")
    page.route(
        f"{origin}/uppy-test.html", lambda route: _fulfill(route, PAGE.encode(), "text/html")
    )
    page.route(f"{origin}/uppy-test.js", lambda route: _fulfill(route, bundle, "text/javascript"))
    try:
        page.goto(f"{origin}/uppy-test.html")
        result = page.evaluate(
            UPLOAD,
            [endpoint, list(samples.MP4_BYTES[:32]), 1024, base64.b64encode(b"x").decode()],
        )
    finally:
        context.close()

    assert result["successful"] == []
    assert {file["name"] for file in result["failed"]} == {"ride.mp4", "summit.jpg"}
    assert _asset_ids_of(local_stack, "alice") == before
    errors.assert_none()


def _asset_ids_of(stack: LocalStack, user: str) -> set[str]:
    """Every asset of the user, in the library and in the trash, page after page."""
    ids: set[str] = set()
    for deleted in ("false", "true"):
        cursor: str | None = None
        while True:
            params = {"deleted": deleted, "limit": "100", **({"cursor": cursor} if cursor else {})}
            response = requests.get(
                f"{stack.api_url}/media", params=params, headers=stack.auth(user), timeout=30
            )
            assert response.status_code == 200, response.text
            page = response.json()
            ids |= {item["assetId"] for item in page["items"]}
            cursor = page.get("nextCursor")
            if not cursor:
                break
    return ids


def _fulfill(route: Route, body: bytes, content_type: str) -> None:
    route.fulfill(status=200, body=body, content_type=content_type)
