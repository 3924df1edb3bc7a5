"""The multipart routes against moto: every answer of every route, the part plan, and
completion racing the S3 event."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from infra.local.lambdas import invoke
from mediaport import expiry
from mediaport.multipart import MIN_PART_SIZE, PartPlan
from mediaport.services import current_services
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.test_processing import deliver, receive_all

MIB = 1024 * 1024
BASE = "/media/upload/multipart"


def mp4_of(size: int) -> bytes:
    """Bytes that verify as video/mp4, ``size`` long."""
    return samples.MP4_BYTES + b"\x00" * (size - len(samples.MP4_BYTES))


def initiate(
    stack: Stack,
    size: int,
    user: str | None = "alice",
    headers: dict[str, str] | None = None,
    **body: Any,
) -> Any:
    body.setdefault("filename", "ride.mp4")
    body.setdefault("contentType", "video/mp4")
    return stack.call(
        "POST", f"{BASE}/initiate", user=user, json={"size": size, **body}, headers=headers or {}
    )


def started(stack: Stack, data: bytes, **body: Any) -> dict[str, Any]:
    response = initiate(stack, len(data), **body)
    assert response.status_code == 201, response.get_data(as_text=True)
    upload: dict[str, Any] = response.get_json()
    return upload


def sign(stack: Stack, asset_id: str, numbers: list[int], user: str = "alice", **body: Any) -> Any:
    return stack.call(
        "POST",
        f"{BASE}/part",
        user=user,
        json={"assetId": asset_id, "partNumbers": numbers, **body},
    )


def put_parts(
    stack: Stack, upload: dict[str, Any], data: bytes, numbers: list[int]
) -> list[dict[str, Any]]:
    """PUT these parts with nothing but their URLs, as a browser would; their ETags."""
    urls = sign(stack, upload["assetId"], numbers).get_json()["urls"]
    size = upload["partSize"]
    parts = []
    for number in numbers:
        chunk = data[(number - 1) * size : number * size]
        response = requests.put(urls[str(number)], data=chunk, timeout=30)
        assert response.ok, response.text
        parts.append({"partNumber": number, "etag": response.headers["ETag"]})
    return parts


def complete(stack: Stack, asset_id: str, parts: list[dict[str, Any]], user: str = "alice") -> Any:
    return stack.call(
        "POST", f"{BASE}/complete", user=user, json={"assetId": asset_id, "parts": parts}
    )


def abort(stack: Stack, asset_id: str, user: str = "alice") -> Any:
    return stack.call("POST", f"{BASE}/abort", user=user, json={"assetId": asset_id})


def uploads_in_progress(stack: Stack) -> list[str]:
    return [
        u["UploadId"]
        for u in stack.s3.list_multipart_uploads(Bucket=stack.bucket).get("Uploads", [])
    ]


def uploaded(stack: Stack, data: bytes, **body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    upload = started(stack, data, **body)
    parts = put_parts(stack, upload, data, list(range(1, upload["partCount"] + 1)))
    return upload, parts


# --- the plan ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "part_size", "part_count"),
    [
        (1, 8 * MIB, 1),
        (8 * MIB, 8 * MIB, 1),
        (8 * MIB + 1, 8 * MIB, 2),
        (120 * MIB, 8 * MIB, 15),
        # 10,000 parts of 8 MiB hold 78 GiB; past that the parts grow by whole MiB.
        (100 * 1024 * MIB, 11 * MIB, 9310),
        (5 * 1024**4, 525 * MIB, 9987),
    ],
)
def test_the_plan_keeps_parts_between_5_mib_and_10000_only_the_last_smaller(
    size: int, part_size: int, part_count: int
) -> None:
    plan = PartPlan.for_size(size, 8 * MIB)
    assert (plan.part_size, plan.part_count) == (part_size, part_count)
    assert plan.part_count <= 10_000
    assert plan.part_size >= MIN_PART_SIZE
    assert sum(plan.size_of(n) for n in range(1, plan.part_count + 1)) == size
    assert 0 < plan.size_of(plan.part_count) <= plan.part_size


# --- initiate ------------------------------------------------------------------------


def test_initiate_records_a_pending_asset_with_its_upload_and_plan(stack: Stack) -> None:
    response = initiate(stack, 20 * MIB, folder="trips/2026")

    assert response.status_code == 201
    upload = response.get_json()
    assert set(upload) == {"assetId", "key", "uploadId", "partSize", "partCount", "expiresAt"}
    assert (upload["partSize"], upload["partCount"]) == (8 * MIB, 3)
    item = stack.asset_item(upload["assetId"])
    assert item["status"] == "PENDING"
    assert item["uploadId"] == upload["uploadId"]
    assert item["declaredSize"] == 20 * MIB
    assert item["folder"] == "trips/2026"
    assert upload["key"] == item["key"]
    assert uploads_in_progress(stack) == [upload["uploadId"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"size": 101 * MIB}, "size"),  # GENERIC stops at 100 MiB
        ({"contentType": "application/zip"}, "contentType"),
        ({"scope": "NOPE"}, "scope"),
        ({"scope": "PROFILE_AVATAR"}, "contentType"),
        ({"size": 0}, "size"),
        ({"folder": "../etc"}, "folder"),
        ({"checksumSha256": "not base64"}, "checksumSha256"),
    ],
)
def test_initiate_refuses_what_the_scope_or_the_rules_do_not_allow(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    response = initiate(stack, body.pop("size", 10 * MIB), **body)

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in {error["field"] for error in response.get_json()["errors"]}
    assert stack.dynamodb.Table(stack.table).scan()["Items"] == []
    assert uploads_in_progress(stack) == []


def test_a_retried_initiate_with_its_idempotency_key_gets_the_same_upload(stack: Stack) -> None:
    key = {"Idempotency-Key": "0b6e2a4c-5d1f-4e8a-9c3b-7f2d1a6e8b90"}

    first = initiate(stack, 20 * MIB, headers=key)
    again = initiate(stack, 20 * MIB, headers=key)
    other = initiate(stack, 30 * MIB, headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert other.status_code == 422
    assert len(stack.dynamodb.Table(stack.table).scan()["Items"]) == 1
    assert uploads_in_progress(stack) == [first.get_json()["uploadId"]]


def test_initiate_without_a_token_is_401(stack: Stack) -> None:
    assert initiate(stack, 10 * MIB, user=None).status_code == 401


# --- sign parts ---------------------------------------------------------------------


def test_each_part_url_signs_its_exact_length(stack: Stack) -> None:
    upload = started(stack, mp4_of(20 * MIB))

    response = sign(stack, upload["assetId"], [3, 1, 2])

    assert response.status_code == 200
    urls = response.get_json()["urls"]
    assert set(urls) == {"1", "2", "3"}
    for number in ("1", "2", "3"):
        query = parse_qs(urlsplit(urls[number]).query)
        assert query["partNumber"] == [number]
        assert query["uploadId"] == [upload["uploadId"]]
        # The length is a signed header: S3 refuses a body of any other size (moto checks
        # no signature; the plan's lengths are checked in the plan's own test).
        assert "content-length" in query["X-Amz-SignedHeaders"][0].split(";")


def test_a_part_checksum_is_signed_into_its_url(stack: Stack) -> None:
    upload = started(stack, mp4_of(12 * MIB))
    digest = base64.b64encode(hashlib.sha256(b"part one").digest()).decode()

    response = sign(
        stack, upload["assetId"], [1, 2], checksums=[{"partNumber": 1, "checksumSha256": digest}]
    )

    urls = response.get_json()["urls"]
    first, second = (parse_qs(urlsplit(urls[n]).query) for n in ("1", "2"))
    assert "x-amz-checksum-sha256" in first["X-Amz-SignedHeaders"][0].split(";")
    assert "x-amz-checksum-sha256" not in second["X-Amz-SignedHeaders"][0].split(";")


@pytest.mark.parametrize(
    ("numbers", "extra", "field"),
    [
        ([0], {}, "partNumbers.0"),
        ([4], {}, "partNumbers"),  # the plan has 3 parts
        (list(range(1, 102)), {}, "partNumbers"),
        ([], {}, "partNumbers"),
        (
            [1],
            {
                "checksums": [
                    {
                        "partNumber": 2,
                        "checksumSha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                    }
                ]
            },
            "checksums",
        ),
    ],
)
def test_signing_parts_outside_the_plan_is_400(
    stack: Stack, numbers: list[int], extra: dict[str, Any], field: str
) -> None:
    upload = started(stack, mp4_of(20 * MIB))

    response = sign(stack, upload["assetId"], numbers, **extra)

    assert response.status_code == 400, response.get_data(as_text=True)
    assert field in {error["field"] for error in response.get_json()["errors"]}


def test_signing_someone_elses_or_an_unknown_upload_is_403_or_404(stack: Stack) -> None:
    upload = started(stack, mp4_of(12 * MIB))

    assert sign(stack, upload["assetId"], [1], user="bob").status_code == 403
    assert sign(stack, "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", [1]).status_code == 404


def test_signing_parts_of_a_presigned_asset_is_409(stack: Stack) -> None:
    presigned = stack.presign(filename="a.jpg", contentType="image/jpeg", size=10).get_json()

    response = sign(stack, presigned["assetId"], [1])

    assert response.status_code == 409
    assert response.get_json()["type"].endswith("upload-not-in-progress")


# --- list parts and complete --------------------------------------------------------


def test_a_file_in_parts_is_listed_then_completed_ready_and_untagged(stack: Stack) -> None:
    data = mp4_of(13 * MIB)
    upload = started(stack, data)
    first = put_parts(stack, upload, data, [1])

    listed = stack.call("GET", f"{BASE}/{upload['assetId']}/parts")

    assert listed.status_code == 200
    assert listed.get_json()["parts"] == [
        {"partNumber": 1, "etag": first[0]["etag"].strip('"'), "size": 8 * MIB}
    ]
    rest = put_parts(stack, upload, data, [2])
    response = complete(stack, upload["assetId"], first + rest)

    assert response.status_code == 200, response.get_data(as_text=True)
    asset = response.get_json()
    assert asset["status"] == "READY"
    assert asset["size"] == 13 * MIB
    assert asset["mimeType"] == "video/mp4"
    item = stack.asset_item(upload["assetId"])
    assert "uploadId" not in item
    assert stack.s3.get_object_tagging(Bucket=stack.bucket, Key=upload["key"])["TagSet"] == []
    stored = stack.s3.get_object(Bucket=stack.bucket, Key=upload["key"])["Body"].read()
    assert stored == data
    assert uploads_in_progress(stack) == []


def test_complete_sends_storage_only_part_numbers_and_etags(stack: Stack) -> None:
    data = mp4_of(12 * MIB)
    upload, parts = uploaded(stack, data)
    decorated = [{**part, "size": 123, "ChecksumCRC32": "AAAAAA==", "x": [1]} for part in parts]

    response = complete(stack, upload["assetId"], decorated)

    assert response.status_code == 200, response.get_data(as_text=True)


def test_complete_with_a_missing_part_is_400_and_the_upload_goes_on(stack: Stack) -> None:
    data = mp4_of(20 * MIB)
    upload, parts = uploaded(stack, data)

    response = complete(stack, upload["assetId"], parts[:2])

    assert response.status_code == 400
    assert response.get_json()["errors"] == [{"field": "parts", "detail": "part 3 missing"}]
    assert stack.asset_item(upload["assetId"])["status"] == "PENDING"
    assert complete(stack, upload["assetId"], parts).status_code == 200


def test_complete_with_a_wrong_etag_is_400_and_the_upload_goes_on(stack: Stack) -> None:
    data = mp4_of(12 * MIB)
    upload, parts = uploaded(stack, data)
    wrong = [{**parts[0], "etag": '"0123456789abcdef0123456789abcdef"'}, parts[1]]

    response = complete(stack, upload["assetId"], wrong)

    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["errors"][0]["field"] == "parts"
    assert stack.asset_item(upload["assetId"])["status"] == "PENDING"
    assert complete(stack, upload["assetId"], parts).status_code == 200


def test_a_completed_file_that_fails_verification_is_422_and_deleted(stack: Stack) -> None:
    data = samples.png_bytes() + b"\x00" * (6 * MIB)  # declared video/mp4
    upload, parts = uploaded(stack, data)

    response = complete(stack, upload["assetId"], parts)

    assert response.status_code == 422
    assert response.get_json()["rejectReason"] == "TYPE_MISMATCH"
    assert stack.asset_item(upload["assetId"])["status"] == "REJECTED"
    assert not stack.object_exists(upload["key"])


def test_completing_again_answers_the_outcome_again(stack: Stack) -> None:
    data = mp4_of(12 * MIB)
    upload, parts = uploaded(stack, data)
    assert complete(stack, upload["assetId"], parts).status_code == 200
    version = stack.asset_item(upload["assetId"])["version"]

    again = complete(stack, upload["assetId"], parts)

    assert again.status_code == 200
    assert again.get_json()["status"] == "READY"
    assert stack.asset_item(upload["assetId"])["version"] == version


def test_after_completion_parts_and_abort_are_409(stack: Stack) -> None:
    data = mp4_of(12 * MIB)
    upload, parts = uploaded(stack, data)
    complete(stack, upload["assetId"], parts)

    assert sign(stack, upload["assetId"], [1]).status_code == 409
    assert stack.call("GET", f"{BASE}/{upload['assetId']}/parts").status_code == 409
    assert abort(stack, upload["assetId"]).status_code == 409
    assert stack.asset_item(upload["assetId"])["status"] == "READY"


def test_the_parts_of_someone_elses_upload_are_403(stack: Stack) -> None:
    upload, parts = uploaded(stack, mp4_of(12 * MIB))

    assert stack.call("GET", f"{BASE}/{upload['assetId']}/parts", user="bob").status_code == 403
    assert complete(stack, upload["assetId"], parts, user="bob").status_code == 403
    assert abort(stack, upload["assetId"], user="bob").status_code == 403
    assert stack.asset_item(upload["assetId"])["status"] == "PENDING"


# --- completion racing the S3 event -------------------------------------------------


def test_complete_then_the_event_make_exactly_one_transition(stack: Stack) -> None:
    data = mp4_of(12 * MIB)
    upload, parts = uploaded(stack, data)
    created = stack.asset_item(upload["assetId"])["version"]

    assert complete(stack, upload["assetId"], parts).status_code == 200
    assert deliver(stack, receive_all(stack)) == []

    item = stack.asset_item(upload["assetId"])
    assert item["status"] == "READY"
    assert item["version"] == created + 1


def test_the_event_first_then_complete_answers_its_verdict_once(stack: Stack) -> None:
    # Storage assembled the parts (the complete call got that far, then its function
    # died), and the CompleteMultipartUpload event settles the asset first.
    data = mp4_of(12 * MIB)
    upload, parts = uploaded(stack, data)
    stack.s3.complete_multipart_upload(
        Bucket=stack.bucket,
        Key=upload["key"],
        UploadId=upload["uploadId"],
        MultipartUpload={
            "Parts": [{"PartNumber": p["partNumber"], "ETag": p["etag"]} for p in parts]
        },
    )
    assert deliver(stack, receive_all(stack)) == []
    settled = stack.asset_item(upload["assetId"])
    assert settled["status"] == "READY"

    retried = complete(stack, upload["assetId"], parts)

    assert retried.status_code == 200
    assert retried.get_json()["status"] == "READY"
    assert stack.asset_item(upload["assetId"])["version"] == settled["version"]


def test_storage_done_but_not_settled_is_verified_by_complete(stack: Stack) -> None:
    # Storage assembled it (a first complete died after that), no event came yet.
    data = mp4_of(12 * MIB)
    upload, parts = uploaded(stack, data)
    stack.s3.complete_multipart_upload(
        Bucket=stack.bucket,
        Key=upload["key"],
        UploadId=upload["uploadId"],
        MultipartUpload={
            "Parts": [{"PartNumber": p["partNumber"], "ETag": p["etag"]} for p in parts]
        },
    )

    response = complete(stack, upload["assetId"], parts)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "READY"


# --- abort and the end of stale uploads ---------------------------------------------


def test_abort_frees_the_parts_and_rejects_the_asset_as_aborted(stack: Stack) -> None:
    data = mp4_of(12 * MIB)
    upload, parts = uploaded(stack, data)

    response = abort(stack, upload["assetId"])

    assert response.status_code == 200
    assert response.get_json()["status"] == "REJECTED"
    assert response.get_json()["rejectReason"] == "ABORTED"
    assert uploads_in_progress(stack) == []
    item = stack.asset_item(upload["assetId"])
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "ABORTED")
    assert "expiresAt" in item
    assert abort(stack, upload["assetId"]).status_code == 409
    assert complete(stack, upload["assetId"], parts).status_code == 409


def test_an_upload_the_lifecycle_rule_aborted_ends_its_asset(stack: Stack) -> None:
    upload = started(stack, mp4_of(12 * MIB))
    # What the abort-incomplete-multipart-uploads rule does a day later.
    stack.s3.abort_multipart_upload(
        Bucket=stack.bucket, Key=upload["key"], UploadId=upload["uploadId"]
    )

    response = stack.call("GET", f"{BASE}/{upload['assetId']}/parts")

    assert response.status_code == 409
    item = stack.asset_item(upload["assetId"])
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "ABORTED")


def test_an_expiring_record_aborts_its_upload(stack: Stack) -> None:
    upload = started(stack, mp4_of(12 * MIB))
    image = stack.asset_item(upload["assetId"])

    removed = expiry.remove_expired_files(current_services(), expiry.ExpiredAsset.from_image(image))

    assert removed
    assert uploads_in_progress(stack) == []


def test_the_expire_function_aborts_the_upload_of_a_ttl_removed_record(stack: Stack) -> None:
    upload = started(stack, mp4_of(12 * MIB))
    item = stack.asset_item(upload["assetId"])
    from boto3.dynamodb.types import TypeSerializer

    image = {name: TypeSerializer().serialize(value) for name, value in item.items()}
    event = {
        "Records": [
            {
                "eventName": "REMOVE",
                "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
                "dynamodb": {"OldImage": image, "Keys": {"assetId": image["assetId"]}},
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/s",
            }
        ]
    }

    invoke("expire_assets", event)

    assert uploads_in_progress(stack) == []


# --- a declared checksum at presign -------------------------------------------------


def test_a_declared_checksum_is_signed_into_the_put_and_recorded(stack: Stack) -> None:
    data = samples.jpeg_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()

    response = stack.presign(
        filename="a.jpg", contentType="image/jpeg", size=len(data), checksumSha256=digest
    )

    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["headers"]["x-amz-checksum-sha256"] == digest
    signed = parse_qs(urlsplit(ticket["uploadUrl"]).query)["X-Amz-SignedHeaders"][0]
    assert "x-amz-checksum-sha256" in signed.split(";")
    stack.upload(ticket, data)
    confirmed = stack.call(
        "PATCH",
        f"/media/{ticket['assetId']}/confirm",
        headers={"Prefer": "return=representation"},
    )
    assert confirmed.get_json()["checksumSha256"] == digest


def test_a_checksum_with_a_post_form_is_400(stack: Stack) -> None:
    response = stack.presign(
        filename="a.jpg",
        contentType="image/jpeg",
        size=10,
        method="POST",
        checksumSha256="47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    )

    assert response.status_code == 400


def test_bytes_stored_with_another_checksum_than_declared_are_rejected(stack: Stack) -> None:
    # S3 refuses a signed PUT whose checksum header differs; an emulator that records the
    # header without checking it does not. Verification compares what storage recorded.
    data = samples.jpeg_bytes()
    declared = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    ticket = stack.presign(
        filename="a.jpg", contentType="image/jpeg", size=len(data), checksumSha256=declared
    ).get_json()
    # Storage computes and records the SHA-256 of what it stored.
    stack.s3.put_object(
        Bucket=stack.bucket, Key=ticket["key"], Body=data, ChecksumAlgorithm="SHA256"
    )

    response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")

    assert response.status_code == 422
    assert response.get_json()["rejectReason"] == "CHECKSUM_MISMATCH"
    assert not stack.object_exists(ticket["key"])
