"""The local stack's CloudFront stand-in over real HTTP: ``/cdn/{key}`` serves public, served
media with CloudFront's cache headers and a 304 on a matching ``If-None-Match``, refuses
everything else with 403, and counts the bytes it serves as the owner's bandwidth."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

from tests import samples
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture
def user() -> str:
    return f"cdn-{uuid.uuid4().hex[:10]}"


def _upload(stack: LocalStack, user: str, data: bytes, scope: str) -> dict[str, Any]:
    """Presign, PUT and confirm; the ticket."""
    presign = requests.post(
        f"{stack.api_url}/media/presign",
        json={
            "filename": "photo.jpg",
            "contentType": "image/jpeg",
            "size": len(data),
            "scope": scope,
        },
        headers=stack.auth(user),
        timeout=10,
    )
    assert presign.status_code == 201, presign.text
    ticket: dict[str, Any] = presign.json()
    put = requests.put(ticket["uploadUrl"], data=data, headers=ticket["headers"], timeout=30)
    assert put.status_code == 200, put.text
    confirm = requests.patch(
        f"{stack.api_url}/media/{ticket['assetId']}/confirm", headers=stack.auth(user), timeout=30
    )
    assert confirm.status_code == 204, confirm.text
    return ticket


def _processed(stack: LocalStack, user: str, asset_id: str) -> dict[str, Any]:
    """The asset once its thumbnails are made (the local worker makes them)."""
    deadline = time.monotonic() + 60
    while True:
        asset: dict[str, Any] = requests.get(
            f"{stack.api_url}/media/{asset_id}", headers=stack.auth(user), timeout=10
        ).json()
        if asset["processing"] != "PENDING":
            return asset
        assert time.monotonic() < deadline, f"still not processed: {asset}"
        time.sleep(0.25)


def _bandwidth(stack: LocalStack, user: str) -> dict[str, Any]:
    usage = requests.get(f"{stack.api_url}/media/usage", headers=stack.auth(user), timeout=10)
    assert usage.status_code == 200, usage.text
    bandwidth: dict[str, Any] = usage.json()["bandwidth"]
    return bandwidth


def test_a_public_image_is_served_with_cache_headers_and_revalidated(
    local_stack: LocalStack, user: str
) -> None:
    photo = samples.jpeg_bytes(800, 600)
    ticket = _upload(local_stack, user, photo, "POST_ATTACHMENT")
    asset = _processed(local_stack, user, ticket["assetId"])
    assert asset["cdnUrl"] == f"{local_stack.api_url}/cdn/{ticket['key']}"

    original = requests.get(asset["cdnUrl"], timeout=10)  # no token: it is public
    assert original.status_code == 200
    assert original.content == photo
    assert original.headers["Content-Type"] == "image/jpeg"
    assert original.headers["Cache-Control"] == "public, max-age=300"
    etag = original.headers["ETag"]
    revalidated = requests.get(asset["cdnUrl"], headers={"If-None-Match": etag}, timeout=10)
    assert revalidated.status_code == 304
    assert revalidated.content == b""

    (thumbnail, *_) = asset["variants"].values()
    variant = requests.get(thumbnail["cdnUrl"], timeout=10)
    assert variant.status_code == 200
    assert variant.headers["Content-Type"] == "image/webp"
    assert variant.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(variant.content) == thumbnail["bytes"]
    assert (
        requests.get(
            thumbnail["cdnUrl"], headers={"If-None-Match": variant.headers["ETag"]}, timeout=10
        ).status_code
        == 304
    )


def test_private_pending_and_deleted_media_are_refused(local_stack: LocalStack, user: str) -> None:
    cdn = f"{local_stack.api_url}/cdn"
    private = _upload(local_stack, user, samples.jpeg_bytes(), "GENERIC")
    public = _upload(local_stack, user, samples.jpeg_bytes(), "PROFILE_AVATAR")
    pending = requests.post(
        f"{local_stack.api_url}/media/presign",
        json={
            "filename": "p.jpg",
            "contentType": "image/jpeg",
            "size": 10,
            "scope": "POST_ATTACHMENT",
        },
        headers=local_stack.auth(user),
        timeout=10,
    ).json()
    assert _processed(local_stack, user, private["assetId"])["cdnUrl"] is None
    assert requests.get(f"{cdn}/{public['key']}", timeout=10).status_code == 200
    deleted = requests.delete(
        f"{local_stack.api_url}/media/{public['assetId']}",
        headers=local_stack.auth(user),
        timeout=10,
    )
    assert deleted.status_code == 204

    for key in (private["key"], pending["key"], public["key"], "media/x/y/z.jpg"):
        refused = requests.get(f"{cdn}/{key}", timeout=10)
        assert refused.status_code == 403, key
        assert "AccessDenied" in refused.text


def test_the_bytes_served_show_as_bandwidth(local_stack: LocalStack, user: str) -> None:
    photo = samples.jpeg_bytes(640, 480)
    ticket = _upload(local_stack, user, photo, "POST_ATTACHMENT")
    url = _processed(local_stack, user, ticket["assetId"])["cdnUrl"]
    assert _bandwidth(local_stack, user)["usedBytes"] == 0

    etag = requests.get(url, timeout=10).headers["ETag"]
    requests.get(url, timeout=10)
    assert requests.get(url, headers={"If-None-Match": etag}, timeout=10).status_code == 304

    bandwidth = _bandwidth(local_stack, user)
    assert bandwidth["usedBytes"] == 2 * len(photo)
    assert bandwidth["limitBytes"] == 10 * 1024**3
    assert bandwidth["warning"] is None
    assert bandwidth["resetAt"].endswith("-01T00:00:00Z")
