"""The API over real HTTP against the local stack: the README's walk-through, for real."""

import requests

from tests import samples
from tests.e2e.conftest import LocalStack


def _presign(stack: LocalStack, **body: object) -> dict:
    response = requests.post(
        f"{stack.api_url}/media/presign", json=body, headers=stack.auth(), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()


def _confirm_and_read(stack: LocalStack, asset_id: str) -> dict:
    confirm = requests.patch(
        f"{stack.api_url}/media/{asset_id}/confirm", headers=stack.auth(), timeout=30
    )
    assert confirm.status_code == 204, confirm.text
    read = requests.get(f"{stack.api_url}/media/{asset_id}", headers=stack.auth(), timeout=10)
    assert read.status_code == 200
    return read.json()


def test_presign_put_confirm_read(local_stack: LocalStack) -> None:
    photo = samples.jpeg_bytes(1200, 800)
    ticket = _presign(local_stack, filename="photo.jpg", contentType="image/jpeg", size=len(photo))

    upload = requests.put(ticket["uploadUrl"], data=photo, headers=ticket["headers"], timeout=30)
    assert upload.status_code == 200

    asset = _confirm_and_read(local_stack, ticket["assetId"])
    assert asset["status"] == "READY"
    assert (asset["width"], asset["height"]) == (1200, 800)
    assert requests.get(asset["url"], timeout=10).content == photo


def test_presign_post_policy_confirm_read(local_stack: LocalStack) -> None:
    image = samples.png_bytes(90, 60)
    ticket = _presign(
        local_stack,
        filename="logo.png",
        contentType="image/png",
        size=len(image),
        scope="PROFILE_AVATAR",
        method="POST",
    )

    upload = requests.post(
        ticket["uploadUrl"], data=ticket["fields"], files={"file": ("logo.png", image)}, timeout=30
    )
    assert upload.status_code in (200, 204), upload.text

    asset = _confirm_and_read(local_stack, ticket["assetId"])
    assert asset["status"] == "READY"
    assert asset["mimeType"] == "image/png"
    assert asset["size"] == len(image)


def test_a_spoofed_upload_is_rejected_over_http(local_stack: LocalStack) -> None:
    ticket = _presign(
        local_stack, filename="x.png", contentType="image/png", size=len(samples.HTML_BYTES)
    )
    requests.put(
        ticket["uploadUrl"], data=samples.HTML_BYTES, headers=ticket["headers"], timeout=30
    )

    response = requests.patch(
        f"{local_stack.api_url}/media/{ticket['assetId']}/confirm",
        headers=local_stack.auth(),
        timeout=30,
    )

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["rejectReason"] == "TYPE_MISMATCH"


def test_the_api_refuses_requests_without_a_valid_token(local_stack: LocalStack) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = requests.post(
            f"{local_stack.api_url}/media/presign", json={}, headers=headers, timeout=10
        )
        assert response.status_code == 401
        assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_browser_on_the_demo_origin_may_upload_to_the_bucket(local_stack: LocalStack) -> None:
    ticket = _presign(local_stack, filename="a.jpg", contentType="image/jpeg", size=10)
    preflight = requests.options(
        ticket["uploadUrl"],
        headers={
            "Origin": local_stack.api_url,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,x-amz-tagging",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == local_stack.api_url
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]


def test_the_api_answers_cors_for_the_demo_origin_only(local_stack: LocalStack) -> None:
    def preflight(origin: str) -> requests.Response:
        return requests.options(
            f"{local_stack.api_url}/media/presign",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=10,
        )

    allowed = preflight(local_stack.api_url)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == local_stack.api_url
    assert "idempotency-key" in allowed.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in preflight("https://evil.example").headers
    # A page on that origin may read how long a 429 or 503 asks it to wait, the ETag an
    # edit sends back as If-Match, and where a created resource is.
    answer = requests.get(
        f"{local_stack.api_url}/health", headers={"Origin": local_stack.api_url}, timeout=10
    )
    assert answer.headers["Access-Control-Expose-Headers"] == "Retry-After,ETag,Location"


def test_swagger_ui_and_the_openapi_document_are_served(local_stack: LocalStack) -> None:
    docs = requests.get(f"{local_stack.api_url}/docs", timeout=10)
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert (
        requests.get(f"{local_stack.api_url}/docs/swagger-ui-bundle.min.js", timeout=10).status_code
        == 200
    )
    document = requests.get(f"{local_stack.api_url}/openapi.json", timeout=10).json()
    assert "/media/presign" in document["paths"]
    assert document["servers"] == [{"url": local_stack.api_url}]
