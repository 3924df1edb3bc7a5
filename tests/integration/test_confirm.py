"""PATCH /media/{id}/confirm: verify the stored bytes now."""

import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from mediaport.processing import process_uploaded_object
from mediaport.services import current_services
from mediaport.settlement import settle_upload
from mediaport.uploads import confirm_upload
from tests import samples
from tests.integration.conftest import Stack


def confirm(stack: Stack, asset_id: str, user: str = "alice"):
    return stack.call("PATCH", f"/media/{asset_id}/confirm", user=user)


def test_a_real_photo_is_confirmed_ready(stack: Stack) -> None:
    photo = samples.jpeg_bytes(800, 600)
    ticket = stack.start_upload(photo, "image/jpeg", filename="photo.jpg")

    response = confirm(stack, ticket["assetId"])

    assert response.status_code == 204
    assert response.get_data() == b""
    item = stack.asset_item(ticket["assetId"])
    assert item["status"] == "READY"
    assert item["mimeType"] == "image/jpeg"
    assert item["size"] == len(photo)
    assert (item["width"], item["height"]) == (800, 600)
    assert "expiresAt" not in item
    tags = stack.s3.get_object_tagging(Bucket=stack.bucket, Key=ticket["key"])["TagSet"]
    assert tags == []


def test_confirming_again_is_idempotent(stack: Stack) -> None:
    ticket = stack.start_upload(samples.png_bytes(), "image/png")
    assert confirm(stack, ticket["assetId"]).status_code == 204
    version = stack.asset_item(ticket["assetId"])["version"]

    assert confirm(stack, ticket["assetId"]).status_code == 204
    assert stack.asset_item(ticket["assetId"])["version"] == version


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (samples.PDF_BYTES, "application/pdf"),
        (samples.MP3_BYTES, "audio/mpeg"),
        (samples.MP4_BYTES, "video/mp4"),
        (samples.gif_bytes(), "image/gif"),
        (samples.webp_bytes(), "image/webp"),
    ],
)
def test_every_supported_type_verifies(stack: Stack, data: bytes, content_type: str) -> None:
    ticket = stack.start_upload(data, content_type)
    assert confirm(stack, ticket["assetId"]).status_code == 204
    assert stack.asset_item(ticket["assetId"])["mimeType"] == content_type


def test_a_spoofed_file_is_rejected_and_deleted(stack: Stack) -> None:
    ticket = stack.start_upload(samples.HTML_BYTES, "image/png", filename="cat.png")

    response = confirm(stack, ticket["assetId"])

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["rejectReason"] == "TYPE_MISMATCH"
    assert "text/html" in problem["detail"]
    item = stack.asset_item(ticket["assetId"])
    assert item["status"] == "REJECTED"
    assert item["rejectReason"] == "TYPE_MISMATCH"
    assert not stack.object_exists(ticket["key"])
    # Asking again gives the same answer, never a READY asset.
    assert confirm(stack, ticket["assetId"]).status_code == 422
    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"


@pytest.mark.parametrize(
    ("data", "content_type", "scope", "reason"),
    [
        (b"", "image/png", "GENERIC", "EMPTY_FILE"),
        (
            samples.jpeg_bytes() + b"\0" * (3 * 1024 * 1024),
            "image/jpeg",
            "PROFILE_AVATAR",
            "TOO_LARGE",
        ),
        (b"just some text, not media", "image/jpeg", "GENERIC", "UNRECOGNIZED_TYPE"),
        (samples.png_bomb(), "image/png", "GENERIC", "IMAGE_TOO_MANY_PIXELS"),
        (samples.jpeg_bytes(400, 300)[:600], "image/jpeg", "GENERIC", "IMAGE_CORRUPT"),
        (samples.png_bytes(200, 200)[:-40], "image/png", "GENERIC", "IMAGE_CORRUPT"),
    ],
)
def test_files_that_fail_verification_are_rejected_with_a_reason(
    stack: Stack, data: bytes, content_type: str, scope: str, reason: str
) -> None:
    response = stack.presign(
        filename="f", contentType=content_type, size=max(len(data), 1), scope=scope
    )
    if response.status_code == 400:  # declared honestly, the size alone is refused up front
        response = stack.presign(filename="f", contentType=content_type, size=1, scope=scope)
    ticket = response.get_json()
    stack.upload(ticket, data)

    response = confirm(stack, ticket["assetId"])

    assert response.status_code == 422
    assert response.get_json()["rejectReason"] == reason
    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["rejectReason"]) == ("REJECTED", reason)
    assert not stack.object_exists(ticket["key"])


def test_confirm_before_the_upload_is_409_and_keeps_the_asset_pending(stack: Stack) -> None:
    ticket = stack.presign(filename="a.jpg", contentType="image/jpeg", size=10).get_json()

    response = confirm(stack, ticket["assetId"])

    assert response.status_code == 409
    assert response.get_json()["type"] == "urn:mediaport:problem:object-not-uploaded"
    assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"


def test_confirm_of_someone_elses_asset_is_403_and_changes_nothing(stack: Stack) -> None:
    ticket = stack.start_upload(samples.jpeg_bytes(), "image/jpeg")

    response = confirm(stack, ticket["assetId"], user="mallory")

    assert response.status_code == 403
    assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"


def test_confirm_of_an_unknown_asset_is_404(stack: Stack) -> None:
    response = confirm(stack, "00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_an_asset_id_that_is_not_a_uuid_is_a_400_naming_it(stack: Stack) -> None:
    response = confirm(stack, "not-an-id")
    assert response.status_code == 400
    assert [error["field"] for error in response.get_json()["errors"]] == ["id"]


def test_confirm_without_a_token_is_401(stack: Stack) -> None:
    ticket = stack.start_upload(samples.jpeg_bytes(), "image/jpeg")
    response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm", user=None)
    assert response.status_code == 401
    assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"


def test_ten_concurrent_confirms_make_exactly_one_transition(stack: Stack) -> None:
    ticket = stack.start_upload(samples.jpeg_bytes(), "image/jpeg")
    created_version = stack.asset_item(ticket["assetId"])["version"]
    barrier = Barrier(10)

    def confirm_at_once(_: int) -> bool:
        barrier.wait()
        return confirm_upload(current_services(), "alice", ticket["assetId"]).transitioned

    with ThreadPoolExecutor(max_workers=10) as pool:
        transitions = list(pool.map(confirm_at_once, range(10)))

    assert transitions.count(True) == 1
    item = stack.asset_item(ticket["assetId"])
    assert item["status"] == "READY"
    assert item["version"] == created_version + 1
    assert confirm(stack, ticket["assetId"]).status_code == 204


def test_a_confirm_that_loses_the_race_to_the_event_answers_with_its_verdict(
    stack: Stack,
) -> None:
    # Given confirm has read the asset while it was PENDING...
    ticket = stack.start_upload(samples.HTML_BYTES, "image/png")
    snapshot = current_services().assets.get(ticket["assetId"])
    assert snapshot is not None
    # ...when the S3 event path settles it first (REJECTED, object deleted)...
    process_uploaded_object(current_services(), stack.bucket, ticket["key"])
    assert not stack.object_exists(ticket["key"])

    # ...then the late settle reports that verdict instead of "not uploaded" or an outage.
    settlement = settle_upload(current_services(), snapshot)

    assert settlement.transitioned is False
    assert settlement.asset.status.value == "REJECTED"
    assert confirm(stack, ticket["assetId"]).status_code == 422


def test_bytes_of_another_size_than_declared_are_rejected_as_a_size_mismatch(
    stack: Stack,
) -> None:
    # Given a ticket for 1,000 bytes (moto, unlike S3, does not enforce the signed length)...
    photo = samples.jpeg_bytes(64, 64)
    ticket = stack.presign(
        filename="p.jpg", contentType="image/jpeg", size=len(photo) + 1000
    ).get_json()
    stack.upload(ticket, photo)

    response = confirm(stack, ticket["assetId"])

    assert response.status_code == 422
    assert response.get_json()["rejectReason"] == "SIZE_MISMATCH"
    assert stack.asset_item(ticket["assetId"])["rejectReason"] == "SIZE_MISMATCH"
    assert not stack.object_exists(ticket["key"])


def test_confirm_answers_the_asset_when_asked_to_with_prefer(stack: Stack) -> None:
    ticket = stack.start_upload(samples.png_bytes(), "image/png")

    response = stack.call(
        "PATCH",
        f"/media/{ticket['assetId']}/confirm",
        headers={"Prefer": "respond-async, return=representation"},
    )

    assert response.status_code == 200
    asset = response.get_json()
    assert (asset["assetId"], asset["status"], asset["mimeType"]) == (
        ticket["assetId"],
        "READY",
        "image/png",
    )
    assert asset["url"]
    # Without the preference, 204 stays the answer.
    assert confirm(stack, ticket["assetId"]).status_code == 204


def test_a_rejected_record_expires_after_the_configured_time(stack: Stack) -> None:
    ticket = stack.start_upload(samples.HTML_BYTES, "image/png")

    assert confirm(stack, ticket["assetId"]).status_code == 422

    expires = int(stack.asset_item(ticket["assetId"])["expiresAt"])
    thirty_days = 30 * 24 * 3600
    assert abs(expires - (time.time() + thirty_days)) < 120
