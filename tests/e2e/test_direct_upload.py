"""POST /media/upload over real HTTP against the local stack: a small file in one request,
READY in the answer; a large one refused with 413 (by API Gateway or by us)."""

import requests

from tests import samples
from tests.e2e.conftest import LocalStack

MIB = 1024 * 1024


def _direct_upload(stack: LocalStack, filename: str, data: bytes, content_type: str, **fields):
    return requests.post(
        f"{stack.api_url}/media/upload",
        files={"file": (filename, data, content_type)},
        data=fields,
        headers=stack.auth(),
        timeout=60,
    )


def test_a_direct_upload_of_a_real_jpeg_is_ready_in_the_answer(local_stack: LocalStack) -> None:
    photo = samples.jpeg_bytes(1200, 800)

    response = _direct_upload(local_stack, "photo.jpg", photo, "image/jpeg", folder="trips/2026")

    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["status"] == "READY"
    assert asset["mimeType"] == "image/jpeg"
    assert (asset["width"], asset["height"]) == (1200, 800)
    assert asset["folder"] == "trips/2026"
    assert requests.get(asset["url"], timeout=10).content == photo
    read = requests.get(
        f"{local_stack.api_url}/media/{asset['assetId']}", headers=local_stack.auth(), timeout=10
    )
    assert read.json()["status"] == "READY"


def test_a_5_mib_direct_upload_gets_413(local_stack: LocalStack) -> None:
    # Base64-encoded, the body is over Lambda's 6 MB event: API Gateway answers it.
    response = _direct_upload(local_stack, "big.jpg", b"\xff" * (5 * MIB), "image/jpeg")

    assert response.status_code == 413, response.text


def test_a_file_over_4_mib_that_reaches_the_function_gets_our_413(
    local_stack: LocalStack,
) -> None:
    # 4.25 MiB fits the 6 MB event once base64-encoded: our function answers, with the limit.
    response = _direct_upload(local_stack, "big.jpg", b"\xff" * (4 * MIB + MIB // 4), "image/jpeg")

    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 413
    assert problem["limitBytes"] == 4_194_304
