"""A large file through the native multipart routes, against the running local stack:
initiate, sign the parts, PUT each straight to storage, list them, complete."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import LARGE_SCOPE, LocalStack
from tests.samples import MP4_BYTES

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
SIZE = 120 * MIB
# The ftyp box that makes the bytes sniff as video/mp4; zeros after it.
MP4_HEAD = MP4_BYTES[:32]


def _parts(size: int, part_size: int) -> Iterator[tuple[int, bytes]]:
    """The file's parts, one at a time: an mp4 head on the first, zeros everywhere else."""
    zeros = bytes(part_size)
    count = -(-size // part_size)
    for number in range(1, count + 1):
        length = min(part_size, size - part_size * (number - 1))
        if number == 1:
            yield number, MP4_HEAD + zeros[len(MP4_HEAD) : length]
        else:
            yield number, zeros[:length] if length < part_size else zeros


def test_a_120_mib_file_uploaded_through_the_native_multipart_routes_ends_ready(
    local_stack: LocalStack,
) -> None:
    api, auth = local_stack.api_url, local_stack.auth(f"multipart-{uuid.uuid4().hex[:10]}")

    # Given a multipart upload of a 120 MiB video in a scope that allows it
    started = requests.post(
        f"{api}/media/upload/multipart/initiate",
        json={
            "filename": "ride.mp4",
            "contentType": "video/mp4",
            "size": SIZE,
            "scope": LARGE_SCOPE,
        },
        headers=auth,
        timeout=30,
    )
    assert started.status_code == 201, started.text
    plan = started.json()
    asset_id, part_size, part_count = plan["assetId"], plan["partSize"], plan["partCount"]
    assert part_size >= 5 * MIB
    assert part_count == -(-SIZE // part_size)
    assert plan["uploadId"]
    assert plan["key"].endswith("/ride.mp4")

    # When every part's URL is signed (at most 100 per call) and its bytes are PUT there
    numbers = list(range(1, part_count + 1))
    urls: dict[str, str] = {}
    for first in range(0, part_count, 100):
        signed = requests.post(
            f"{api}/media/upload/multipart/part",
            json={"assetId": asset_id, "partNumbers": numbers[first : first + 100]},
            headers=auth,
            timeout=30,
        )
        assert signed.status_code == 200, signed.text
        urls |= signed.json()["urls"]
    assert sorted(urls, key=int) == [str(number) for number in numbers]

    etags: dict[int, str] = {}
    with requests.Session() as storage:
        for number, data in _parts(SIZE, part_size):
            put = storage.put(urls[str(number)], data=data, timeout=120)
            assert put.status_code == 200, put.text
            etags[number] = put.headers["ETag"]

    # Then the parts route lists each part with its ETag and size
    listed = requests.get(
        f"{api}/media/upload/multipart/{asset_id}/parts", headers=auth, timeout=30
    )
    assert listed.status_code == 200, listed.text
    parts = listed.json()["parts"]
    assert [part["partNumber"] for part in parts] == numbers
    assert [part["size"] for part in parts] == [part_size] * (part_count - 1) + [
        SIZE - part_size * (part_count - 1)
    ]
    assert {part["partNumber"]: part["etag"].strip('"') for part in parts} == {
        number: etag.strip('"') for number, etag in etags.items()
    }

    # When the upload is completed with those ETags
    completed = requests.post(
        f"{api}/media/upload/multipart/complete",
        json={
            "assetId": asset_id,
            "parts": [{"partNumber": n, "etag": etag} for n, etag in sorted(etags.items())],
        },
        headers=auth,
        timeout=120,
    )

    # Then it is verified at once: READY, a 120 MiB mp4
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "READY", completed.json()
    asset = requests.get(f"{api}/media/{asset_id}", headers=auth, timeout=30)
    assert asset.status_code == 200, asset.text
    view = asset.json()
    assert (view["status"], view["size"], view["mimeType"]) == ("READY", SIZE, "video/mp4")
    assert view["scope"] == LARGE_SCOPE
