"""POST /media/presign: a PENDING asset and a presigned upload, or a clear 400."""

import base64
import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.conftest import Stack


def test_presign_records_a_pending_asset_and_returns_a_signed_put(stack: Stack) -> None:
    response = stack.presign(filename="holiday photo.jpg", contentType="image/jpeg", size=1234)

    assert response.status_code == 201
    ticket = response.get_json()
    assert re.fullmatch(r"media/alice/[0-9a-f-]{36}/holiday-photo\.jpg", ticket["key"])
    assert ticket["method"] == "PUT"
    assert ticket["headers"] == {
        "Content-Type": "image/jpeg",
        "Content-Length": "1234",
        "x-amz-tagging": "mediaport-upload=pending",
        "If-None-Match": "*",
    }
    assert "X-Amz-Signature=" in ticket["uploadUrl"]
    signed = parse_qs(urlsplit(ticket["uploadUrl"]).query)["X-Amz-SignedHeaders"][0].split(";")
    assert "content-length" in signed  # S3 refuses a body of any other size
    assert "if-none-match" in ticket["uploadUrl"].lower()  # signed: S3 refuses an overwrite
    assert "x-amz-tagging" in ticket["uploadUrl"].lower()
    assert datetime.fromisoformat(ticket["expiresAt"]) > datetime.now(UTC)

    item = stack.asset_item(ticket["assetId"])
    assert item["status"] == "PENDING"
    assert item["userId"] == "alice"
    assert item["scope"] == "GENERIC"
    assert item["declaredType"] == "image/jpeg"
    assert item["declaredSize"] == 1234
    assert item["originalFilename"] == "holiday photo.jpg"
    assert item["expiresAt"] > datetime.now(UTC).timestamp()
    assert not stack.object_exists(ticket["key"])


def test_presign_post_returns_a_policy_that_limits_size_and_type(stack: Stack) -> None:
    response = stack.presign(
        filename="a.png", contentType="image/png", size=4096, scope="PROFILE_AVATAR", method="POST"
    )

    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["method"] == "POST"
    assert ticket["headers"] is None
    fields = ticket["fields"]
    assert fields["key"] == ticket["key"]
    assert fields["Content-Type"] == "image/png"
    assert "policy" in fields
    policy = json.loads(base64.b64decode(fields["policy"]))
    # Exactly the declared size, not merely the scope's maximum.
    assert ["content-length-range", 4096, 4096] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]


def test_declared_type_aliases_are_normalized(stack: Stack) -> None:
    response = stack.presign(filename="a.jpg", contentType="image/JPG", size=5)
    assert response.status_code == 201
    assert stack.asset_item(response.get_json()["assetId"])["declaredType"] == "image/jpeg"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filename": "a.jpg", "contentType": "image/jpeg", "size": 1, "scope": "NOPE"}, "scope"),
        (
            {"filename": "a.gif", "contentType": "image/gif", "size": 1, "scope": "PROFILE_AVATAR"},
            "contentType",
        ),
        (
            {"filename": "a.exe", "contentType": "application/x-msdownload", "size": 1},
            "contentType",
        ),
        (
            {
                "filename": "a.jpg",
                "contentType": "image/jpeg",
                "size": 3 * 1024 * 1024,
                "scope": "PROFILE_AVATAR",
            },
            "size",
        ),
        ({"filename": "a.jpg", "contentType": "image/jpeg"}, "size"),
        ({"filename": "a.jpg", "contentType": "image/jpeg", "size": 0}, "size"),
        ({"filename": "a.jpg", "contentType": "image/jpeg", "size": -5}, "size"),
        ({"filename": "a.jpg", "contentType": "image/jpeg", "size": "big"}, "size"),
        ({"filename": "", "contentType": "image/jpeg", "size": 1}, "filename"),
        ({"filename": "../", "contentType": "image/jpeg", "size": 1}, "filename"),
        ({"filename": "x" * 2000 + ".jpg", "contentType": "image/jpeg", "size": 1}, "filename"),
        ({"contentType": "image/jpeg", "size": 1}, "filename"),
        ({"filename": "a.jpg", "size": 1}, "contentType"),
        ({"filename": "a.jpg", "contentType": "image/jpeg", "size": 1, "method": "GET"}, "method"),
    ],
)
def test_bad_requests_get_a_400_problem_naming_the_field(
    stack: Stack, body: dict[str, object], field: str
) -> None:
    response = stack.call("POST", "/media/presign", json=body)

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400
    assert field in {error["field"] for error in problem["errors"]}
    assert stack.dynamodb.Table(stack.table).scan()["Count"] == 0


@pytest.mark.parametrize("body", ["not json", "[1, 2]", ""])
def test_a_body_that_is_not_a_json_object_is_a_400(stack: Stack, body: str) -> None:
    response = stack.call(
        "POST", "/media/presign", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "name", ["été photo ü.jpg", "a b  c.jpg", "../../x.jpg", "ctl\x00\x1b.jpg", "n" * 300 + ".jpg"]
)
def test_any_reasonable_filename_gets_a_safe_key(stack: Stack, name: str) -> None:
    response = stack.presign(filename=name, contentType="image/jpeg", size=10)
    assert response.status_code == 201
    key = response.get_json()["key"]
    assert re.fullmatch(r"media/alice/[0-9a-f-]{36}/[A-Za-z0-9._-]{1,100}\.jpg", key)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer garbage", "Token abc"],
)
def test_presign_without_a_valid_token_is_401(stack: Stack, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = stack.call(
        "POST",
        "/media/presign",
        user=None,
        headers=headers,
        json={"filename": "a.jpg", "contentType": "image/jpeg", "size": 1},
    )
    assert response.status_code == 401
    assert response.get_json() == {"message": "Unauthorized"}
    assert stack.dynamodb.Table(stack.table).scan()["Count"] == 0


def test_health_needs_no_token(stack: Stack) -> None:
    response = stack.call("GET", "/health", user=None)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
