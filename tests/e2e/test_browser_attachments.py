"""The browser client's attachment functions, in a real browser against the local stack:
attach an image to a post, what the post shows, detach, and a user's avatar set, read by
someone else, and cleared (docs/attachments.md has the rules)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
import requests
from playwright.sync_api import Page

from infra.local.tokens import issue_token
from tests.e2e.browser import Demo, sign_in
from tests.e2e.conftest import LocalStack
from tests.samples import jpeg_bytes

pytestmark = pytest.mark.e2e

ENTITY_FULL = "urn:mediaport:problem:entity-full"

# Calls one export of /mediaport.js with the page's own session token (or the one given),
# and answers {value} or, for a MediaportError, {error: {status, type}}.
CALL = """async ([name, args, options, token]) => {
    const mediaport = await import("/mediaport.js");
    token ??= JSON.parse(sessionStorage.getItem("mediaport.demo.session")).token;
    try {
        return { value: (await mediaport[name](...args, { ...options, token })) ?? null };
    } catch (error) {
        if (!(error instanceof mediaport.MediaportError)) throw error;
        return { error: { status: error.status, type: error.type } };
    }
}"""

# Uploads images with the module's upload() in parallel; answers their READY asset ids.
UPLOAD = """async (images) => {
    const { upload } = await import("/mediaport.js");
    const token = JSON.parse(sessionStorage.getItem("mediaport.demo.session")).token;
    const assets = await Promise.all(images.map(({ name, scope, data }) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        return upload(new File([bytes], name, { type: "image/jpeg" }), { token, scope });
    }));
    return assets.map((asset) => asset.assetId);
}"""


@pytest.fixture
def user() -> str:
    return f"attach-{uuid.uuid4().hex[:10]}"


def _call(
    page: Page, name: str, *args: Any, token: str | None = None, **options: Any
) -> dict[str, Any]:
    answer: dict[str, Any] = page.evaluate(CALL, [name, list(args), options, token])
    return answer


def _value(page: Page, name: str, *args: Any, **options: Any) -> Any:
    answer = _call(page, name, *args, **options)
    assert "value" in answer, f"{name}{args} failed: {answer}"
    return answer["value"]


def _upload(page: Page, *images: tuple[str, str, bytes]) -> list[str]:
    payload = [
        {"name": name, "scope": scope, "data": base64.b64encode(data).decode()}
        for name, scope, data in images
    ]
    asset_ids: list[str] = page.evaluate(UPLOAD, payload)
    return asset_ids


def test_an_image_is_attached_to_a_post_once_shown_to_others_and_detached(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    # The second image on a one-image post answers 422 on purpose; Chromium logs it.
    demo.errors.expect("status of 422", r"/attachments/post/")
    sign_in(page, user)
    post = f"post-{uuid.uuid4().hex[:8]}"
    cover, other = _upload(
        page,
        ("cover.jpg", "POST_ATTACHMENT", jpeg_bytes(800, 600, (30, 90, 160))),
        ("other.jpg", "POST_ATTACHMENT", jpeg_bytes(640, 480, (160, 90, 30))),
    )

    # When they attach the cover to the post, then attach it again without a role
    first = _value(page, "attachAsset", cover, "post", post, role="cover")
    again = _value(page, "attachAsset", cover, "post", post)

    # Then the first call created the attachment and the second found it, role kept
    assert first["created"] is True
    assert again["created"] is False
    for attachment in (first, again):
        assert (attachment["assetId"], attachment["entityType"], attachment["entityId"]) == (
            cover,
            "post",
            post,
        )
        assert attachment["role"] == "cover"
        assert attachment["attachedAt"]

    # When they attach a second image to the same post, it is refused: a post takes one
    assert _call(page, "attachAsset", other, "post", post) == {
        "error": {"status": 422, "type": ENTITY_FULL}
    }

    # Then another signed-in user reading the post sees the cover alone, with a working URL
    media = _value(page, "getAttachments", "post", post, token=issue_token("reader"))
    assert (media["entityType"], media["entityId"]) == ("post", post)
    assert [(item["assetId"], item["role"]) for item in media["items"]] == [(cover, "cover")]
    assert media["items"][0]["variants"]
    original = requests.get(media["items"][0]["url"], timeout=10)
    assert original.status_code == 200
    assert original.headers["Content-Type"] == "image/jpeg"

    # When they detach it, the post shows nothing
    assert _value(page, "detachAsset", cover, "post", post) is None
    assert _value(page, "getAttachments", "post", post)["items"] == []
    demo.errors.assert_none()


def test_an_avatar_is_set_read_by_anyone_and_cleared(
    demo: Demo, local_stack: LocalStack, user: str
) -> None:
    page = demo.page
    # A user without an avatar answers 404, which getAvatar() turns into null.
    demo.errors.expect("status of 404", r"/users/[^/]+/avatar$")
    sign_in(page, user)
    (avatar,) = _upload(page, ("me.jpg", "PROFILE_AVATAR", jpeg_bytes(512, 512, (200, 150, 90))))
    reader = issue_token("reader")

    # When they make the image their avatar
    chosen = _value(page, "setAvatar", avatar)

    # Then it is theirs, and another user reads the same avatar with a working URL
    assert chosen["assetId"] == avatar
    assert chosen["url"]
    assert chosen["variants"]
    seen = _value(page, "getAvatar", user, token=reader)
    assert seen["assetId"] == avatar
    assert requests.get(seen["url"], timeout=10).status_code == 200

    # When they clear it, they have none, and nobody reads one
    assert _value(page, "setAvatar", None) is None
    assert _value(page, "getAvatar", user, token=reader) is None
    demo.errors.assert_none()
