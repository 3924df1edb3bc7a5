"""Malware scanning on the local stack (MEDIAPORT_SCAN=local), over real HTTP: the stand-in
scanner reads each new upload, tags it and sends GuardDuty's event to scan_result, and
the API serves only what is clean, quarantines the EICAR test file, and lets an admin
release it. And image operations on demand, made by transform_media from the jobs queue."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from PIL import Image

from infra.local.scanner import EICAR
from infra.local.tokens import issue_token
from tests import samples
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": f"Bearer {issue_token('root', admin=True)}"}
DEADLINE_S = 30


def eicar_jpeg() -> bytes:
    """A valid photo carrying the EICAR test string in a JPEG comment (COM) segment."""
    buffer = io.BytesIO()
    samples.photo(320, 240).save(buffer, "JPEG", quality=85, comment=EICAR)
    data = buffer.getvalue()
    assert EICAR in data
    Image.open(io.BytesIO(data)).verify()
    return data


def uploaded(stack: LocalStack, data: bytes, user: str = "alice") -> str:
    ticket = requests.post(
        f"{stack.api_url}/media/presign",
        json={"filename": "photo.jpg", "contentType": "image/jpeg", "size": len(data)},
        headers=stack.auth(user),
        timeout=10,
    ).json()
    put = requests.put(ticket["uploadUrl"], data=data, headers=ticket["headers"], timeout=30)
    assert put.ok, put.text
    return str(ticket["assetId"])


def read(stack: LocalStack, asset_id: str, user: str = "alice") -> dict[str, Any]:
    response = requests.get(
        f"{stack.api_url}/media/{asset_id}", headers=stack.auth(user), timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def eventually(what: str, check: Callable[[], Any]) -> Any:
    """``check()``'s first truthy answer, polled until the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not (answer := check()):
        assert time.monotonic() < deadline, f"{what} did not happen in {DEADLINE_S} s"
        time.sleep(0.2)
    return answer


def test_a_clean_photo_is_served_once_scanned(scanning_stack: LocalStack) -> None:
    asset_id = uploaded(scanning_stack, samples.jpeg_bytes(640, 480))

    served = eventually(
        "the scan's result",
        lambda: (a := read(scanning_stack, asset_id))["scanStatus"] == "CLEAN" and a,
    )

    assert served["status"] == "READY"
    assert requests.get(served["url"], timeout=10).status_code == 200


def test_the_eicar_photo_is_quarantined_then_released_by_an_admin(
    scanning_stack: LocalStack,
) -> None:
    api = scanning_stack.api_url
    asset_id = uploaded(scanning_stack, eicar_jpeg())

    quarantined = eventually(
        "the quarantine",
        lambda: (a := read(scanning_stack, asset_id))["status"] == "QUARANTINED" and a,
    )
    assert quarantined["scanStatus"] == "INFECTED"
    assert quarantined["url"] is None
    assert quarantined["variants"] == {}
    download = requests.get(
        f"{api}/media/{asset_id}/download", headers=scanning_stack.auth(), timeout=10
    )
    attach = requests.put(
        f"{api}/media/{asset_id}/attachments/vehicle/v-{asset_id[:8]}",
        json={},
        headers=scanning_stack.auth(),
        timeout=10,
    )
    assert (download.status_code, attach.status_code) == (409, 409)

    listed = requests.get(
        f"{api}/admin/media/quarantined", params={"userId": "alice"}, headers=ADMIN, timeout=10
    )
    assert asset_id in [item["assetId"] for item in listed.json()["items"]]
    refused = requests.post(
        f"{api}/admin/media/{asset_id}/release",
        json={"reason": "mine"},
        headers=scanning_stack.auth(),
        timeout=10,
    )
    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith("application/problem+json")

    released = requests.post(
        f"{api}/admin/media/{asset_id}/release",
        json={"reason": "the EICAR test file, on purpose"},
        headers=ADMIN,
        timeout=30,
    )

    assert released.status_code == 200, released.text
    assert (released.json()["status"], released.json()["scanStatus"]) == ("READY", "CLEAN")
    served = eventually(
        "the released photo's thumbnails",
        lambda: (a := read(scanning_stack, asset_id))["processing"] == "DONE" and a,
    )
    assert set(served["variants"]) == {"1024", "512", "128"}
    # Served from the released copy: the very bytes uploaded, EICAR string and all.
    assert EICAR in requests.get(served["url"], timeout=10).content


def test_a_resize_is_made_by_the_jobs_queue(local_stack: LocalStack) -> None:
    api = local_stack.api_url
    asset_id = uploaded(local_stack, samples.jpeg_bytes(800, 600))
    requests.patch(f"{api}/media/{asset_id}/confirm", headers=local_stack.auth(), timeout=30)

    accepted = requests.post(
        f"{api}/media/{asset_id}/resize",
        json={"width": 200, "height": 200, "fit": "cover", "format": "avif"},
        headers=local_stack.auth(),
        timeout=10,
    )

    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["Location"]
    variant = eventually(
        "the variant",
        lambda: (
            (v := requests.get(f"{api}{location}", headers=local_stack.auth(), timeout=10).json())[
                "status"
            ]
            == "READY"
            and v
        ),
    )
    picture = Image.open(io.BytesIO(requests.get(variant["url"], timeout=10).content))
    assert (picture.format, picture.size) == ("AVIF", (200, 200))
