"""Nothing is left behind: rejected records expire, a rejected asset keeps no facts and no
files, an interrupted cleanup completes on the next delivery, and an object whose asset
never became READY is removed even when its pending tag is gone. Nothing of ours is
mocked; AWS failures are injected at the client (tests/integration/faults.py)."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local.lambdas import invoke
from infra.local.worker import StreamWorker
from mediaport.adapters import storage
from mediaport.config import get_settings
from mediaport.services import current_services
from tests.integration.conftest import Stack
from tests.integration.faults import aws_fails, s3_key_of
from tests.integration.test_processing import REGION, deliver, receive_all, upload_and_process
from tests.samples import HTML_BYTES, encode, photo, truncated_jpeg

THIRTY_DAYS = 30 * 24 * 3600
IMAGE_FACTS = ("width", "height", "aspectRatio", "dominantColor", "placeholder", "variants")


def derived_keys(stack: Stack, asset_id: str) -> list[str]:
    listing = stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix=f"derived/alice/{asset_id}/")
    return [item["Key"] for item in listing.get("Contents", [])]


def pending_tagged(stack: Stack, key: str) -> bool:
    tags = stack.s3.get_object_tagging(Bucket=stack.bucket, Key=key)["TagSet"]
    return {"Key": "mediaport-upload", "Value": "pending"} in tags


def ready_image_with_variants(stack: Stack) -> tuple[dict[str, Any], list[str]]:
    ticket = stack.start_upload(encode(photo(600, 400), "JPEG"), "image/jpeg")
    assert deliver(stack, receive_all(stack)) == []
    variants = derived_keys(stack, ticket["assetId"])
    assert len(variants) == 3
    return ticket, variants


# --- REJECTED records expire -----------------------------------------------------------


@pytest.mark.parametrize("path", ["event", "confirm"])
def test_a_rejected_upload_record_expires_after_thirty_days(stack: Stack, path: str) -> None:
    assert get_settings().rejected_ttl_seconds == THIRTY_DAYS  # the default
    ticket = stack.start_upload(truncated_jpeg(), "image/jpeg")
    before = int(time.time())
    if path == "event":
        assert deliver(stack, receive_all(stack)) == []
    else:
        assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 422
    after = int(time.time())

    item = stack.asset_item(ticket["assetId"])
    assert item["status"] == "REJECTED"
    assert before + THIRTY_DAYS <= int(item["expiresAt"]) <= after + THIRTY_DAYS + 1


def test_a_rejected_overwrite_expires_and_keeps_no_facts_of_the_old_bytes(stack: Stack) -> None:
    ticket, _variants = ready_image_with_variants(stack)
    stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=HTML_BYTES)
    before = int(time.time())

    assert deliver(stack, receive_all(stack)) == []

    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "SIZE_MISMATCH")
    assert before + THIRTY_DAYS <= int(item["expiresAt"]) <= int(time.time()) + THIRTY_DAYS + 1
    assert not {*IMAGE_FACTS, "checksum", "size", "mimeType", "processing"} & set(item)
    assert not stack.object_exists(ticket["key"])
    assert derived_keys(stack, ticket["assetId"]) == []


# --- An interrupted cleanup completes on the next delivery ------------------------------


def test_variants_a_failed_cleanup_left_are_deleted_when_the_event_comes_again(
    stack: Stack,
) -> None:
    ticket, variants = ready_image_with_variants(stack)
    stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=HTML_BYTES)
    messages = receive_all(stack)

    # S3 fails the variants' deletion: the record is REJECTED, the delivery fails.
    with aws_fails(storage.s3_client(), "DeleteObjects") as hit:
        assert len(deliver(stack, messages)) == 1
    assert hit
    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"
    assert sorted(derived_keys(stack, ticket["assetId"])) == sorted(variants)

    # The record no longer names its variants; the redelivered event still finds them.
    assert deliver(stack, messages) == []
    assert derived_keys(stack, ticket["assetId"]) == []
    assert not stack.object_exists(ticket["key"])


def test_an_object_a_failed_cleanup_left_is_deleted_when_the_event_comes_again(
    stack: Stack,
) -> None:
    ticket, _variants = ready_image_with_variants(stack)
    stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=HTML_BYTES)
    messages = receive_all(stack)

    with aws_fails(storage.s3_client(), "DeleteObject", when=lambda r: "media/" in s3_key_of(r)):
        assert len(deliver(stack, messages)) == 1
    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"
    assert stack.object_exists(ticket["key"])

    assert deliver(stack, messages) == []
    assert not stack.object_exists(ticket["key"])
    assert derived_keys(stack, ticket["assetId"]) == []


# --- An untagged object whose asset never became READY ---------------------------------


def test_a_failed_ready_write_puts_the_pending_tag_back(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(200, 100), "JPEG"), "image/jpeg")
    assert pending_tagged(stack, ticket["key"])
    table_client = current_services().assets.record._get_connection().connection.client

    # DynamoDB fails the READY write (with its usage, one transaction; after the object
    # was untagged for it).
    with aws_fails(table_client, "TransactWriteItems", code="InternalServerError") as hit:
        response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")
    assert hit
    assert response.status_code == 503

    assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"
    assert pending_tagged(stack, ticket["key"])  # the lifecycle rule still expires it


def expire_as_ttl_would(stack: Stack, days_from_now: int) -> StreamWorker:
    """The local stand-in for DynamoDB TTL and the stream mapping, as it would act some
    days from now (moto runs no TTL of its own): expired items are deleted, their REMOVE
    records handed to expire_assets in Lambda's DynamoDB stream event shape."""
    worker = StreamWorker(stack.table, REGION, None)
    worker.expire_due_items(now=time.time() + days_from_now * 24 * 3600)
    worker.poll_once()
    return worker


def test_an_untagged_object_of_an_expired_pending_asset_is_removed(stack: Stack) -> None:
    # Given an upload whose settling crashed between untagging the object and the READY
    # write: the object is untagged (the lifecycle rule ignores it), the asset PENDING.
    ticket = stack.start_upload(encode(photo(200, 100), "JPEG"), "image/jpeg")
    stack.s3.delete_object_tagging(Bucket=stack.bucket, Key=ticket["key"])
    kept = stack.start_upload(encode(photo(200, 100), "JPEG"), "image/jpeg")
    assert stack.call("PATCH", f"/media/{kept['assetId']}/confirm").status_code == 204

    # When its record expires (TTL, a day after presign),
    expire_as_ttl_would(stack, days_from_now=2)

    # Then its object is removed; a READY asset's is not.
    assert stack.asset_item(ticket["assetId"]) == {}
    assert not stack.object_exists(ticket["key"])
    assert stack.object_exists(kept["key"])
    assert stack.asset_item(kept["assetId"])["status"] == "READY"


def test_an_expired_rejected_asset_takes_left_over_variants_with_it(stack: Stack) -> None:
    ticket, variants = ready_image_with_variants(stack)
    stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=HTML_BYTES)
    with aws_fails(storage.s3_client(), "DeleteObjects"):
        assert len(deliver(stack, receive_all(stack))) == 1  # then dead-lettered, say
    assert sorted(derived_keys(stack, ticket["assetId"])) == sorted(variants)

    expire_as_ttl_would(stack, days_from_now=31)

    assert stack.asset_item(ticket["assetId"]) == {}
    assert derived_keys(stack, ticket["assetId"]) == []


def test_a_record_deleted_by_anyone_but_ttl_leaves_the_files_alone(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(200, 100), "JPEG"), "image/jpeg")
    stack.dynamodb.Table(stack.table).delete_item(Key={"assetId": ticket["assetId"]})

    worker = StreamWorker(stack.table, REGION, None)
    worker.poll_once()

    assert stack.object_exists(ticket["key"])


def test_expire_assets_deletes_only_for_removals_made_by_ttl(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(200, 100), "JPEG"), "image/jpeg")
    image = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=stack.table, Key={"assetId": {"S": ticket["assetId"]}}
    )["Item"]

    def removal(identity: dict[str, str] | None, sequence: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "eventID": sequence,
            "eventName": "REMOVE",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": {
                "Keys": {"assetId": image["assetId"]},
                "OldImage": image,
                "SequenceNumber": sequence,
                "SizeBytes": 100,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x",
        }
        if identity is not None:
            record["userIdentity"] = identity
        return record

    by_user = {"Records": [removal(None, "1")]}
    assert invoke("expire_assets", by_user)["batchItemFailures"] == []
    assert stack.object_exists(ticket["key"])

    by_ttl = {
        "Records": [removal({"type": "Service", "principalId": "dynamodb.amazonaws.com"}, "2")]
    }
    assert invoke("expire_assets", by_ttl)["batchItemFailures"] == []
    assert not stack.object_exists(ticket["key"])


def test_a_processed_image_is_not_touched_by_expiry(stack: Stack) -> None:
    asset_id = upload_and_process(stack, encode(photo(300, 200), "JPEG"), "image/jpeg")
    expire_as_ttl_would(stack, days_from_now=365)
    assert stack.asset_item(asset_id)["status"] == "READY"
    assert len(derived_keys(stack, asset_id)) == 3


def test_untagging_an_object_a_racing_rejection_deleted_is_not_an_outage(stack: Stack) -> None:
    # Confirm clears the pending tag just as the event path's rejection deletes the object:
    # S3 answers NoSuchKey (the local stack's emulator is patched to, as moto 5.2.5 fails).
    ticket = stack.start_upload(encode(photo(60, 40), "JPEG"), "image/jpeg")
    stack.s3.delete_object(Bucket=stack.bucket, Key=ticket["key"])

    storage.clear_tags(stack.bucket, ticket["key"])  # no StorageUnavailable

    assert not stack.object_exists(ticket["key"])


def test_the_stream_worker_keeps_reading_after_a_cancelled_transaction(stack: Stack) -> None:
    # Given the worker has read the stream, and then a transaction on the table was
    # cancelled (as a confirm racing the S3 event makes one; moto alone rebuilt the
    # table's stream shard when it rolled one back)
    worker = StreamWorker(stack.table, REGION, None)
    worker.poll_once()
    with pytest.raises(ClientError, match="TransactionCanceled"):
        stack.dynamodb.meta.client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": stack.table,
                        "Key": {"assetId": {"S": "no-such-asset"}},
                        "ConditionExpression": "attribute_exists(assetId)",
                    }
                }
            ]
        )
    ticket = stack.start_upload(HTML_BYTES, "image/png")
    assert len(deliver(stack, receive_all(stack))) == 0  # REJECTED
    leftover = f"derived/alice/{ticket['assetId']}/0123abcd/128.webp"
    stack.s3.put_object(Bucket=stack.bucket, Key=leftover, Body=b"left over")

    # When the REJECTED record expires, the same worker still hands its removal on.
    worker.expire_due_items(now=time.time() + 31 * 24 * 3600)
    worker.poll_once()

    assert stack.asset_item(ticket["assetId"]) == {}
    assert not stack.object_exists(leftover)
