"""The event path over real HTTP: upload with the presigned URL, never confirm, and the
local stack's event worker (moto's S3 → SQS notifications) makes the asset READY."""

import io
import time

import requests
from PIL import Image

from tests import samples
from tests.e2e.conftest import LocalStack


def _wait_for_processing(stack: LocalStack, asset_id: str, within_seconds: float) -> dict:
    deadline = time.monotonic() + within_seconds
    while True:
        response = requests.get(
            f"{stack.api_url}/media/{asset_id}", headers=stack.auth(), timeout=10
        )
        assert response.status_code == 200, response.text
        asset: dict = response.json()
        if asset["status"] != "PENDING" and asset["processing"] != "PENDING":
            return asset
        assert time.monotonic() < deadline, f"still not processed: {asset}"
        time.sleep(0.25)


def test_an_upload_without_confirm_becomes_ready_with_variants(local_stack: LocalStack) -> None:
    photo = samples.encode(samples.photo(1600, 1200), "JPEG", quality=85)
    presign = requests.post(
        f"{local_stack.api_url}/media/presign",
        json={"filename": "été photo.jpg", "contentType": "image/jpeg", "size": len(photo)},
        headers=local_stack.auth(),
        timeout=10,
    )
    assert presign.status_code == 201, presign.text
    ticket = presign.json()

    upload = requests.put(ticket["uploadUrl"], data=photo, headers=ticket["headers"], timeout=30)
    assert upload.status_code == 200, upload.text

    asset = _wait_for_processing(local_stack, ticket["assetId"], within_seconds=20)
    assert asset["status"] == "READY"
    assert asset["processing"] == "DONE"
    assert (asset["width"], asset["height"]) == (1600, 1200)
    assert asset["placeholder"].startswith("data:image/webp;base64,")
    expected = {"1024": (1024, 768), "512": (512, 384), "128": (128, 96)}
    assert {name: (v["width"], v["height"]) for name, v in asset["variants"].items()} == expected
    for name, variant in asset["variants"].items():
        download = requests.get(variant["url"], timeout=10)
        assert download.status_code == 200
        assert download.headers["Content-Type"] == "image/webp"
        image = Image.open(io.BytesIO(download.content))
        assert (image.format, image.size) == ("WEBP", expected[name])


def test_the_presigned_put_cannot_overwrite_an_upload(local_stack: LocalStack) -> None:
    first = samples.encode(samples.photo(300, 200), "JPEG")
    presign = requests.post(
        f"{local_stack.api_url}/media/presign",
        json={"filename": "a.jpg", "contentType": "image/jpeg", "size": len(first)},
        headers=local_stack.auth(),
        timeout=10,
    )
    ticket = presign.json()
    assert ticket["headers"]["If-None-Match"] == "*"
    put = requests.put(ticket["uploadUrl"], data=first, headers=ticket["headers"], timeout=30)
    assert put.status_code == 200

    again = requests.put(
        ticket["uploadUrl"], data=samples.HTML_BYTES, headers=ticket["headers"], timeout=30
    )

    assert again.status_code == 412
    asset = _wait_for_processing(local_stack, ticket["assetId"], within_seconds=20)
    assert (asset["status"], asset["size"]) == ("READY", len(first))
