"""Resume in our own client: a multipart upload on the demo page survives a reload, and
only the parts storage did not have yet are sent again."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Page, Request, Response, Route, expect

from tests.e2e.browser import Demo, sign_in
from tests.e2e.conftest import ARTIFACTS, LocalStack
from tests.samples import MP4_BYTES

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
# Above the demo page's multipart threshold (32 MiB), within the GENERIC scope (100 MiB,
# video/mp4 allowed): several parts of the API's part size (8 MiB by default).
SIZE = 60 * MIB
NAME = "resume-ride.mp4"
# The same file after the reload: same name, size and lastModified (and bytes).
LAST_MODIFIED = 1_767_225_600_000
# Slow enough that the reload lands mid-way, fast enough to keep the test short.
THROTTLED_BYTES_PER_SECOND = 12 * MIB
READY_TIMEOUT_MS = 60_000
# A part is 8 MiB: at the throttled rate storage has the first in well under a second.
FIRST_PART_TIMEOUT_S = 30

# Builds the file in the page (an ftyp box, then zeros) and picks it with the file input,
# as a user choosing it would.
CHOOSE_FILE = """([name, size, lastModified, head]) => {
    const bytes = new Uint8Array(size);
    bytes.set(head);
    const file = new File([bytes], name, { type: "video/mp4", lastModified });
    const picked = new DataTransfer();
    picked.items.add(file);
    const input = document.getElementById("file-input");
    input.files = picked.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
}"""


def _choose_the_file(page: Page) -> None:
    page.evaluate(CHOOSE_FILE, [NAME, SIZE, LAST_MODIFIED, list(MP4_BYTES[:32])])


def _part_number(url: str) -> int | None:
    values = parse_qs(urlsplit(url).query).get("partNumber")
    return int(values[0]) if values else None


def _upload_throughput(page: Page, bytes_per_second: int) -> None:
    """Throttle (or, with -1, stop throttling) this page's uploads, as DevTools does."""
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


class PartTraffic:
    """The part PUTs the page sends, and the ones storage accepted, before and after."""

    def __init__(self) -> None:
        self.phase = "before"
        self.sent: dict[str, list[int]] = {"before": [], "after": []}
        self.stored: dict[str, set[int]] = {"before": set(), "after": set()}
        self.listed: list[list[int]] = []

    def watch(self, page: Page) -> None:
        page.on("request", self._on_request)
        page.on("response", self._on_response)

    def _on_request(self, request: Request) -> None:
        number = _part_number(request.url)
        if request.method == "PUT" and number is not None:
            self.sent[self.phase].append(number)

    def _on_response(self, response: Response) -> None:
        number = _part_number(response.url)
        if response.request.method == "PUT" and number is not None and response.ok:
            self.stored[self.phase].add(number)
        elif re.search(r"/media/upload/multipart/[^/]+/parts$", response.url) and response.ok:
            self.listed.append([part["partNumber"] for part in response.json()["parts"]])


def test_a_multipart_upload_resumes_after_a_reload_without_resending_stored_parts(
    demo: Demo, local_stack: LocalStack
) -> None:
    page = demo.page
    user = f"resume-{uuid.uuid4().hex[:10]}"
    traffic = PartTraffic()
    traffic.watch(page)
    # Given a signed-in user uploading a 60 MiB video over a slow link
    sign_in(page, user)
    _upload_throughput(page, THROTTLED_BYTES_PER_SECOND)
    _choose_the_file(page)
    row = page.locator("li.upload", has_text=NAME)
    expect(row.locator(".note")).to_contain_text("parts")
    asset_id = row.get_attribute("data-asset-id")
    assert asset_id

    # When the page is reloaded once storage has some parts, but not all
    page.wait_for_function("() => document.querySelector('li.upload progress')?.value >= 1")
    deadline = time.monotonic() + FIRST_PART_TIMEOUT_S
    while not traffic.stored["before"]:
        assert time.monotonic() < deadline, "storage had no part of the upload in time"
        page.wait_for_timeout(50)
    assert row.get_attribute("data-status") == "uploading"
    page.reload()
    # Whatever the old page sent until it went counts as before the reload.
    traffic.phase = "after"
    _upload_throughput(page, -1)

    # Then the page names the unfinished upload
    unfinished = page.get_by_role("region", name="Unfinished uploads")
    expect(unfinished).to_contain_text(NAME)
    page.screenshot(path=str(ARTIFACTS / "demo-resume-unfinished.png"))

    # When the same file is added again
    _choose_the_file(page)

    # Then it continues the same upload and ends READY
    row = page.locator("li.upload", has_text=NAME)
    expect(row).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT_MS)
    assert row.get_attribute("data-asset-id") == asset_id
    expect(unfinished).to_be_hidden()
    note = row.locator(".note").inner_text()
    resumed = re.fullmatch(r"Resumed: (\d+) of (\d+) parts were already uploaded", note)
    assert resumed, note
    already, part_count = int(resumed[1]), int(resumed[2])
    page.screenshot(path=str(ARTIFACTS / "demo-resume.png"), full_page=True)

    # And no part storage had before the reload was sent again; every other part was,
    # once each
    assert len(traffic.listed) == 1
    listed = set(traffic.listed[0])
    assert len(listed) == already
    assert traffic.stored["before"] <= listed
    resent = traffic.sent["after"]
    assert not set(resent) & traffic.stored["before"]
    assert sorted(resent) == sorted(set(range(1, part_count + 1)) - listed)
    assert 0 < already < part_count

    # And the asset is the whole file, verified; the browser remembers nothing of it
    asset = requests.get(
        f"{local_stack.api_url}/media/{asset_id}", headers=local_stack.auth(user), timeout=10
    )
    assert asset.status_code == 200, asset.text
    view = asset.json()
    assert (view["status"], view["size"], view["mimeType"]) == ("READY", SIZE, "video/mp4")
    remembered = page.evaluate(
        "() => Object.keys(localStorage).filter((key) => key.startsWith('mediaport.multipart'))"
    )
    assert remembered == []
    demo.errors.assert_none()


EXPIRED = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
    "<Message>Request has expired</Message></Error>"
)


def test_failed_parts_are_retried_and_an_expired_part_url_is_signed_afresh(
    demo: Demo, local_stack: LocalStack
) -> None:
    page = demo.page
    demo.errors.expect("status of 403", re.escape(local_stack.aws_endpoint))
    demo.errors.expect("net::ERR_FAILED", re.escape(local_stack.aws_endpoint))
    # Given storage refuses part 1's first URL as expired, and part 2's first PUT dies on
    # the network
    first_tries: set[int] = set()
    calls: list[str] = []

    def fail_first_tries(route: Route) -> None:
        number = _part_number(route.request.url)
        if route.request.method != "PUT" or number not in (1, 2) or number in first_tries:
            route.continue_()
            return
        first_tries.add(number)
        if number == 1:
            route.fulfill(status=403, content_type="application/xml", body=EXPIRED)
        else:
            route.abort("failed")

    page.route(f"{local_stack.aws_endpoint}/**", fail_first_tries)

    def note(request: Request) -> None:
        if request.method == "PUT" and _part_number(request.url):
            calls.append(f"PUT {_part_number(request.url)}")
        elif request.url.endswith("/media/upload/multipart/part"):
            calls.append("sign")

    page.on("request", note)
    sign_in(page, f"retry-{uuid.uuid4().hex[:10]}")

    # When the module uploads a 20 MiB video in parts, two at a time
    result = page.evaluate(
        """async ([head, size]) => {
            const { upload } = await import("/mediaport.js");
            const token = JSON.parse(sessionStorage.getItem("mediaport.demo.session")).token;
            const bytes = new Uint8Array(size);
            bytes.set(head);
            const file = new File([bytes], "retried.mp4", { type: "video/mp4", lastModified: 1 });
            const loaded = [];
            const asset = await upload(file, {
                token, scope: "GENERIC", multipartThreshold: 5 * 1024 * 1024, partConcurrency: 2,
                onProgress: (progress) => loaded.push(progress.loaded),
            });
            return { status: asset.status, size: asset.size, loaded, total: file.size };
        }""",
        [list(MP4_BYTES[:32]), 20 * MIB],
    )

    # Then it is READY, progress ran across all parts to the whole size, part 1 was
    # signed afresh (one more signing call) and each failed part was sent once more
    assert (result["status"], result["size"]) == ("READY", 20 * MIB)
    assert result["loaded"][-1] == result["total"]
    assert max(result["loaded"]) == result["total"]
    assert calls.count("sign") == 2
    puts = sorted(call for call in calls if call.startswith("PUT"))
    assert puts == ["PUT 1", "PUT 1", "PUT 2", "PUT 2", "PUT 3"]
    demo.errors.assert_none()


def test_cancelling_a_multipart_upload_aborts_it(demo: Demo, local_stack: LocalStack) -> None:
    page = demo.page
    user = f"cancel-{uuid.uuid4().hex[:10]}"
    aborts: list[str] = []
    page.on(
        "request",
        lambda request: (
            aborts.append(request.post_data or "")
            if request.url.endswith("/media/upload/multipart/abort")
            else None
        ),
    )
    # Given a 60 MiB video going up in parts over a slow link
    sign_in(page, user)
    _upload_throughput(page, 4 * MIB)
    _choose_the_file(page)
    row = page.locator("li.upload", has_text=NAME)
    page.wait_for_function("() => document.querySelector('li.upload progress')?.value >= 1")

    # When the user cancels it
    row.get_by_role("button", name=f"Cancel upload of {NAME}").click()

    # Then the row says so, the API was told, and the asset ends REJECTED (ABORTED)
    expect(row).to_have_attribute("data-status", "failed")
    expect(row.locator(".state")).to_have_text("Cancelled")
    asset_id = row.get_attribute("data-asset-id")
    assert asset_id
    assert len(aborts) == 1
    assert asset_id in aborts[0]
    asset = requests.get(
        f"{local_stack.api_url}/media/{asset_id}", headers=local_stack.auth(user), timeout=10
    ).json()
    assert (asset["status"], asset["rejectReason"]) == ("REJECTED", "ABORTED")
    # And nothing is left to resume
    remembered = page.evaluate(
        "() => Object.keys(localStorage).filter((key) => key.startsWith('mediaport.multipart'))"
    )
    assert remembered == []
    demo.errors.assert_none()
