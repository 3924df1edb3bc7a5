"""The S3 event path: moto's own bucket notifications, read from the queue, handed to the
process function in Lambda's SQS event shape. Nothing of ours is mocked."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageStat

from infra.definitions import MAX_RECEIVE_COUNT
from infra.local.events import sqs_event
from infra.local.lambdas import invoke, load_module, local_context
from infra.local.worker import EventWorker
from mediaport.adapters import storage
from mediaport.processing import process_uploaded_object
from mediaport.services import current_services
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.faults import aws_fails, s3_key_of
from tests.samples import (
    GPS_IFD,
    HTML_BYTES,
    PDF_BYTES,
    animated_gif,
    encode,
    jpeg_with_exif,
    photo,
    png_bomb,
    truncated_jpeg,
)

REGION = "us-east-1"


def receive_all(stack: Stack) -> list[dict[str, Any]]:
    """Every message S3 has put on the upload queue so far (test events included)."""
    messages: list[dict[str, Any]] = []
    while batch := stack.sqs.receive_message(
        QueueUrl=stack.queues["queue_url"], MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
    return messages


def deliver(stack: Stack, messages: list[dict[str, Any]]) -> list[str]:
    """Invoke the process function with these messages; the ids it reports as failed."""
    result = invoke("process_upload", sqs_event(messages, stack.queues["queue_arn"], REGION))
    return [item["itemIdentifier"] for item in result["batchItemFailures"]]


def upload_and_process(stack: Stack, data: bytes, content_type: str, **body: Any) -> str:
    ticket = stack.start_upload(data, content_type, **body)
    assert deliver(stack, receive_all(stack)) == []
    return str(ticket["assetId"])


def variant_images(stack: Stack, item: dict[str, Any]) -> dict[str, tuple[Image.Image, bytes]]:
    out = {}
    for name, variant in item["variants"].items():
        body = stack.s3.get_object(Bucket=stack.bucket, Key=variant["key"])
        assert body["ContentType"] == "image/webp"
        data = body["Body"].read()
        assert len(data) == variant["bytes"]
        out[name] = (Image.open(io.BytesIO(data)), data)
    return out


def sizes(item: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {name: (int(v["width"]), int(v["height"])) for name, v in item["variants"].items()}


@pytest.mark.parametrize(
    ("content_type", "data", "expected"),
    [
        (
            "image/jpeg",
            encode(photo(2000, 1500), "JPEG", quality=85),
            {"1024": (1024, 768), "512": (512, 384), "128": (128, 96)},
        ),
        (
            "image/png",
            encode(photo(600, 300, "RGBA"), "PNG"),
            {"1024": (600, 300), "512": (512, 256), "128": (128, 64)},
        ),
        (
            "image/webp",
            encode(photo(1200, 800), "WEBP"),
            {"1024": (1024, 683), "512": (512, 341), "128": (128, 85)},
        ),
        ("image/gif", animated_gif(80, 60), {"1024": (80, 60), "512": (80, 60), "128": (80, 60)}),
    ],
    ids=["jpeg", "png", "webp", "gif"],
)
def test_an_uploaded_image_becomes_ready_with_webp_variants_without_confirm(
    stack: Stack, content_type: str, data: bytes, expected: dict[str, tuple[int, int]]
) -> None:
    asset_id = upload_and_process(stack, data, content_type)

    item = stack.asset_item(asset_id)
    assert item["status"] == "READY"
    assert item["processing"] == "DONE"
    assert sizes(item) == expected
    assert (item["width"], item["height"]) == Image.open(io.BytesIO(data)).size
    assert item["dominantColor"].startswith("#")
    assert len(item["dominantColor"]) == 7
    assert item["placeholder"].startswith("data:image/webp;base64,")
    for name, (image, _) in variant_images(stack, item).items():
        assert image.format == "WEBP"
        assert image.size == expected[name]
    assert "expiresAt" not in item


def test_the_owner_reads_dimensions_placeholder_and_variant_urls(stack: Stack) -> None:
    asset_id = upload_and_process(stack, encode(photo(900, 600), "JPEG"), "image/jpeg")

    view = stack.call("GET", f"/media/{asset_id}").get_json()

    assert view["status"] == "READY"
    assert view["processing"] == "DONE"
    assert (view["width"], view["height"], view["aspectRatio"]) == (900, 600, 1.5)
    assert view["dominantColor"].startswith("#")
    assert view["placeholder"].startswith("data:image/webp;base64,")
    assert set(view["variants"]) == {"128", "512", "1024"}
    assert view["variants"]["512"]["width"] == 512
    checksum = stack.asset_item(asset_id)["checksum"]
    assert f"derived/alice/{asset_id}/{checksum}/512.webp" in view["variants"]["512"]["url"]


def test_exif_orientation_6_gives_portrait_variants(stack: Stack) -> None:
    # Stored 600×400 landscape; orientation 6 means "rotate 90° clockwise to display".
    asset_id = upload_and_process(stack, jpeg_with_exif(600, 400, orientation=6), "image/jpeg")

    item = stack.asset_item(asset_id)
    assert (item["width"], item["height"]) == (400, 600)
    assert sizes(item) == {"1024": (400, 600), "512": (341, 512), "128": (85, 128)}
    # Not merely swapped numbers: stored dark-top/bright-bottom turns into bright-left/dark-right.
    upright = variant_images(stack, item)["512"][0].getchannel("R")
    left = ImageStat.Stat(upright.crop((0, 0, 20, 512))).mean[0]
    right = ImageStat.Stat(upright.crop((321, 0, 341, 512))).mean[0]
    assert left > right + 100


def test_gps_and_other_metadata_never_reach_a_variant(stack: Stack) -> None:
    ticket = stack.start_upload(jpeg_with_exif(gps=True), "image/jpeg")
    original = Image.open(
        io.BytesIO(stack.s3.get_object(Bucket=stack.bucket, Key=ticket["key"])["Body"].read())
    )
    assert original.getexif().get_ifd(GPS_IFD)  # the upload really carries a location

    assert deliver(stack, receive_all(stack)) == []

    item = stack.asset_item(ticket["assetId"])
    for image, data in variant_images(stack, item).values():
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
        assert b"EXIF" not in data
        assert b"ICCP" not in data
        assert b"XMP " not in data
        assert b"secret" not in data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (truncated_jpeg(), "IMAGE_CORRUPT"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 200, "IMAGE_CORRUPT"),
        (png_bomb(40_000), "IMAGE_TOO_MANY_PIXELS"),
        (b"", "EMPTY_FILE"),
    ],
    ids=["truncated", "corrupt", "40000x40000-bomb", "zero-bytes"],
)
def test_a_bad_image_is_rejected_and_deleted_without_a_retry(
    stack: Stack, data: bytes, reason: str
) -> None:
    content_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    ticket = stack.presign(filename="x", contentType=content_type, size=max(1, len(data)))
    ticket_json = ticket.get_json()
    stack.upload(ticket_json, data)

    failures = deliver(stack, receive_all(stack))

    assert failures == []  # a content problem is final: never retried
    item = stack.asset_item(ticket_json["assetId"])
    assert item["status"] == "REJECTED"
    assert item["rejectReason"] == reason
    assert not stack.object_exists(ticket_json["key"])
    assert "variants" not in item


def test_a_document_is_ready_with_processing_skipped(stack: Stack) -> None:
    asset_id = upload_and_process(stack, PDF_BYTES, "application/pdf")

    item = stack.asset_item(asset_id)
    assert (item["status"], item["processing"]) == ("READY", "SKIPPED")
    assert "variants" not in item


def test_the_same_event_three_times_leaves_exactly_the_same_state(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(1500, 1000), "JPEG"), "image/jpeg")
    messages = receive_all(stack)

    assert deliver(stack, messages) == []
    first = stack.asset_item(ticket["assetId"])
    first_objects = stack.s3.list_objects_v2(Bucket=stack.bucket)["Contents"]
    assert deliver(stack, messages) == []
    assert deliver(stack, messages) == []

    assert stack.asset_item(ticket["assetId"]) == first  # version and updatedAt included
    assert stack.s3.list_objects_v2(Bucket=stack.bucket)["Contents"] == first_objects


def test_confirm_after_the_event_answers_204_and_changes_nothing(stack: Stack) -> None:
    asset_id = upload_and_process(stack, encode(photo(700, 500), "JPEG"), "image/jpeg")
    before = stack.asset_item(asset_id)

    assert stack.call("PATCH", f"/media/{asset_id}/confirm").status_code == 204

    assert stack.asset_item(asset_id) == before


def test_confirm_racing_the_event_settles_once_and_the_variants_are_made(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(1600, 1200), "JPEG"), "image/jpeg")
    messages = receive_all(stack)
    statuses: list[int] = []
    failures: list[list[str]] = []
    start = threading.Barrier(2)

    def confirm() -> None:
        start.wait()
        statuses.append(stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code)

    def event() -> None:
        start.wait()
        failures.append(deliver(stack, messages))

    threads = [threading.Thread(target=confirm), threading.Thread(target=event)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [204]
    assert failures == [[]]
    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["processing"]) == ("READY", "DONE")
    assert sizes(item)["1024"] == (1024, 768)


def test_confirm_first_then_the_event_makes_the_variants(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(300, 300), "PNG"), "image/png")
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204
    assert stack.asset_item(ticket["assetId"])["processing"] == "PENDING"

    assert deliver(stack, receive_all(stack)) == []

    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["processing"]) == ("READY", "DONE")


def test_an_event_key_arriving_url_encoded_finds_its_asset(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(320, 240), "JPEG"), "image/jpeg")
    messages = receive_all(stack)
    # S3 URL-encodes keys in notifications (here the slashes, as %2F).
    assert any("%2F" in message["Body"] for message in messages)

    assert deliver(stack, messages) == []

    assert stack.asset_item(ticket["assetId"])["status"] == "READY"


def test_an_object_no_asset_accounts_for_is_deleted(stack: Stack) -> None:
    # Spaces and unicode arrive URL-encoded ("+", "%C3%A9"); the delete must hit this key.
    stray = f"media/alice/{uuid.uuid4()}/été photo ü.jpg"
    stack.s3.put_object(Bucket=stack.bucket, Key=stray, Body=encode(photo(64, 64), "JPEG"))

    assert deliver(stack, receive_all(stack)) == []

    assert not stack.object_exists(stray)


def test_a_second_file_under_a_real_asset_is_deleted_and_the_asset_kept(stack: Stack) -> None:
    asset_id = upload_and_process(stack, encode(photo(200, 200), "JPEG"), "image/jpeg")
    stray = f"media/alice/{asset_id}/other.jpg"
    stack.s3.put_object(Bucket=stack.bucket, Key=stray, Body=HTML_BYTES)

    assert deliver(stack, receive_all(stack)) == []

    assert not stack.object_exists(stray)
    assert stack.asset_item(asset_id)["status"] == "READY"


def test_an_upload_to_a_rejected_asset_is_deleted(stack: Stack) -> None:
    ticket = stack.start_upload(truncated_jpeg(), "image/jpeg")
    assert deliver(stack, receive_all(stack)) == []
    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"

    stack.upload(ticket, encode(photo(100, 100), "JPEG"))  # the presigned URL reused
    assert deliver(stack, receive_all(stack)) == []

    assert not stack.object_exists(ticket["key"])
    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"


def test_a_verified_overwrite_of_a_ready_asset_is_adopted_and_reprocessed(stack: Stack) -> None:
    original = encode(photo(1200, 900), "JPEG")
    ticket = stack.start_upload(original, "image/jpeg")
    assert deliver(stack, receive_all(stack)) == []

    # The presigned URL reused: it signs Content-Length, so the new bytes have the declared
    # size (a JPEG decoder ignores what follows its end marker).
    replacement = encode(photo(300, 600), "JPEG")
    replacement += b"\0" * (len(original) - len(replacement))
    stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=replacement)
    assert deliver(stack, receive_all(stack)) == []

    item = stack.asset_item(ticket["assetId"])
    head = stack.s3.head_object(Bucket=stack.bucket, Key=ticket["key"])
    assert item["status"] == "READY"
    assert item["checksum"] == head["ETag"].strip('"')
    assert int(item["size"]) == head["ContentLength"]
    assert (item["width"], item["height"]) == (300, 600)
    assert sizes(item) == {"1024": (300, 600), "512": (256, 512), "128": (64, 128)}
    assert stack.s3.get_object_tagging(Bucket=stack.bucket, Key=ticket["key"])["TagSet"] == []


def test_an_unverifiable_overwrite_of_a_ready_asset_rejects_it(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(600, 400), "JPEG"), "image/jpeg")
    assert deliver(stack, receive_all(stack)) == []
    variant_keys = [v["key"] for v in stack.asset_item(ticket["assetId"])["variants"].values()]

    stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=HTML_BYTES)
    assert deliver(stack, receive_all(stack)) == []

    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "SIZE_MISMATCH")
    assert not stack.object_exists(ticket["key"])
    assert not any(stack.object_exists(key) for key in variant_keys)


def test_a_storage_failure_fails_only_that_record(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(200, 100), "JPEG"), "image/jpeg")
    messages = receive_all(stack)
    upload_ids = [m["MessageId"] for m in messages if "Records" in m["Body"]]
    assert len(messages) == 2
    assert len(upload_ids) == 1
    # DynamoDB really answers with an error: the table is gone.
    stack.dynamodb.Table(stack.table).delete()

    assert deliver(stack, messages) == upload_ids
    assert stack.object_exists(ticket["key"])  # nothing was decided about it


def test_a_message_that_keeps_failing_goes_to_the_dead_letter_queue(stack: Stack) -> None:
    stack.start_upload(encode(photo(200, 100), "JPEG"), "image/jpeg")
    stack.sqs.set_queue_attributes(
        QueueUrl=stack.queues["queue_url"], Attributes={"VisibilityTimeout": "0"}
    )
    stack.dynamodb.Table(stack.table).delete()
    worker = EventWorker(stack.queues["queue_url"], stack.queues["queue_arn"], REGION, None)

    received = [worker.poll_once() for _ in range(6)]

    assert received[:5] == [2, 1, 1, 1, 1]  # the test event is done the first time
    dead = stack.sqs.receive_message(QueueUrl=stack.queues["dlq_url"], MaxNumberOfMessages=10)
    assert len(dead.get("Messages", [])) == 1
    assert '"ObjectCreated:Put"' in dead["Messages"][0]["Body"]


def test_an_event_for_an_object_deleted_since_is_acknowledged(stack: Stack) -> None:
    ticket = stack.start_upload(encode(photo(200, 100), "JPEG"), "image/jpeg")
    messages = receive_all(stack)
    stack.s3.delete_object(Bucket=stack.bucket, Key=ticket["key"])

    assert deliver(stack, messages) == []  # nothing to verify; not retried

    assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"


# --- Variants are content-addressed (issue #8, 8) ------------------------------------


def derived_keys(stack: Stack, asset_id: str) -> list[str]:
    listing = stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix=f"derived/alice/{asset_id}/")
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_variant_keys_name_the_bytes_they_were_made_from_and_are_immutable(
    stack: Stack,
) -> None:
    asset_id = upload_and_process(stack, encode(photo(800, 600), "JPEG"), "image/jpeg")

    item = stack.asset_item(asset_id)
    prefix = f"derived/alice/{asset_id}/{item['checksum']}/"
    assert {v["key"] for v in item["variants"].values()} == {
        f"{prefix}{name}.webp" for name in ("1024", "512", "128")
    }
    assert derived_keys(stack, asset_id) == sorted(v["key"] for v in item["variants"].values())
    head = stack.s3.head_object(Bucket=stack.bucket, Key=f"{prefix}512.webp")
    assert head["CacheControl"] == "public, max-age=31536000, immutable"


def test_a_slow_render_of_old_bytes_is_never_recorded_for_new_bytes(stack: Stack) -> None:
    # Given a READY image (confirmed) whose variants are being made from bytes A…
    original = encode(photo(1200, 900), "JPEG")
    ticket = stack.start_upload(original, "image/jpeg")
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204
    checksum_a = stack.asset_item(ticket["assetId"])["checksum"]
    replacement = encode(photo(300, 600), "JPEG")
    replacement += b"\0" * (len(original) - len(replacement))
    services = current_services()

    def overwrite_and_reprocess(request: dict[str, Any]) -> None:
        # …while A's first variant is being written, the object is overwritten with bytes
        # B, which are verified and processed to the end (the event path, run directly).
        if checksum_a not in s3_key_of(request) or overwritten:
            return
        overwritten.append(True)
        stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=replacement)
        assert process_uploaded_object(services, stack.bucket, ticket["key"]) == "PROCESSED"

    overwritten: list[bool] = []
    messages = receive_all(stack)
    with aws_fails(
        storage.s3_client(), "PutObject", when=lambda _: False, before=overwrite_and_reprocess
    ):
        # When A's render finishes and tries to record its variants…
        assert deliver(stack, messages) == []

    # Then the asset has B's facts and B's variants, and nothing of A is left behind.
    item = stack.asset_item(ticket["assetId"])
    checksum_b = stack.s3.head_object(Bucket=stack.bucket, Key=ticket["key"])["ETag"].strip('"')
    assert overwritten
    assert checksum_b != checksum_a
    assert (item["checksum"], item["processing"]) == (checksum_b, "DONE")
    assert (item["width"], item["height"]) == (300, 600)
    assert all(f"/{checksum_b}/" in v["key"] for v in item["variants"].values())
    assert derived_keys(stack, ticket["assetId"]) == sorted(
        v["key"] for v in item["variants"].values()
    )


def test_a_verified_overwrite_removes_the_old_bytes_variants(stack: Stack) -> None:
    original = encode(photo(1200, 900), "JPEG")
    ticket = stack.start_upload(original, "image/jpeg")
    assert deliver(stack, receive_all(stack)) == []
    old_keys = derived_keys(stack, ticket["assetId"])

    replacement = encode(photo(300, 600), "JPEG")
    replacement += b"\0" * (len(original) - len(replacement))
    stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=replacement)
    assert deliver(stack, receive_all(stack)) == []

    item = stack.asset_item(ticket["assetId"])
    assert item["processing"] == "DONE"
    remaining = derived_keys(stack, ticket["assetId"])
    assert remaining == sorted(v["key"] for v in item["variants"].values())
    assert not set(old_keys) & set(remaining)


# --- The last delivery leaves a final state (issue #8, 10) ----------------------------


@pytest.fixture
def max_receives(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The function learns the queue's maxReceiveCount from its environment."""
    monkeypatch.setenv("MEDIAPORT_MAX_RECEIVE_COUNT", str(MAX_RECEIVE_COUNT))
    settings = load_module("process_upload").delivery_settings
    settings.cache_clear()
    yield MAX_RECEIVE_COUNT
    settings.cache_clear()


def as_delivery(messages: list[dict[str, Any]], receive_count: int) -> list[dict[str, Any]]:
    """The messages as SQS hands them over on their ``receive_count``-th receive."""
    return [
        {**m, "Attributes": {**m["Attributes"], "ApproximateReceiveCount": str(receive_count)}}
        for m in messages
    ]


def uploads_only(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if "ObjectCreated" in m["Body"]]


def test_variants_that_keep_failing_end_processing_failed_when_dead_lettered(
    stack: Stack, max_receives: int
) -> None:
    # Given a confirmed image whose variants cannot be written, delivery after delivery
    # (SQS really receives the message each time; the visibility timeout is 0).
    ticket = stack.start_upload(encode(photo(400, 300), "JPEG"), "image/jpeg")
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204
    stack.sqs.set_queue_attributes(
        QueueUrl=stack.queues["queue_url"], Attributes={"VisibilityTimeout": "0"}
    )
    worker = EventWorker(stack.queues["queue_url"], stack.queues["queue_arn"], REGION, None)
    refuse_variants = aws_fails(
        storage.s3_client(), "PutObject", when=lambda r: "derived" in s3_key_of(r)
    )

    with refuse_variants:
        # When every delivery before the last fails…
        for _ in range(max_receives - 1):
            worker.poll_once()
            assert stack.asset_item(ticket["assetId"])["processing"] == "PENDING"
        # …and the last one too,
        worker.poll_once()

    # Then the message is dead-lettered and the asset says FAILED, not PENDING for good.
    assert worker.poll_once() == 0
    dead = stack.sqs.receive_message(QueueUrl=stack.queues["dlq_url"], MaxNumberOfMessages=10)
    assert len(dead.get("Messages", [])) == 1
    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["processing"]) == ("READY", "FAILED")
    assert "variants" not in item


def test_a_crash_on_the_last_delivery_leaves_processing_failed(
    stack: Stack, max_receives: int
) -> None:
    ticket = stack.start_upload(encode(photo(400, 300), "JPEG"), "image/jpeg")
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204
    messages = as_delivery(uploads_only(receive_all(stack)), max_receives)

    # The run dies while it writes the variants (as a timeout or an out-of-memory would).
    crash = aws_fails(
        storage.s3_client(),
        "PutObject",
        when=lambda r: "derived" in s3_key_of(r),
        crash=MemoryError("the function died"),
    )
    with crash, pytest.raises(MemoryError):
        invoke_directly(messages)

    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["processing"]) == ("READY", "FAILED")


def invoke_directly(messages: list[dict[str, Any]]) -> Any:
    """The record handler, as the batch processor calls it, for one message (a crash
    that kills the function is not a record failure, so it is not caught for it)."""
    module = load_module("process_upload")
    record = module.UploadNotificationRecord.model_validate(
        sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:q", REGION)["Records"][0]
    )
    return module.record_handler(record, local_context("process_upload"))


def test_a_success_on_the_last_delivery_moves_processing_on_to_done(
    stack: Stack, max_receives: int
) -> None:
    ticket = stack.start_upload(encode(photo(400, 300), "JPEG"), "image/jpeg")
    messages = as_delivery(uploads_only(receive_all(stack)), max_receives)

    assert deliver(stack, messages) == []

    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["processing"]) == ("READY", "DONE")
    assert sizes(item)["1024"] == (400, 300)


def test_an_upload_whose_verification_keeps_crashing_is_rejected_on_the_last_delivery(
    stack: Stack, max_receives: int
) -> None:
    ticket = stack.start_upload(encode(photo(400, 300), "JPEG"), "image/jpeg")
    messages = uploads_only(receive_all(stack))
    # Reading the file's first bytes breaks the verifier every time (a stand-in for a
    # file that crashes a decoder: not an outage, so retrying cannot help).
    crashing = aws_fails(
        storage.s3_client(),
        "GetObject",
        when=lambda r: "media/" in s3_key_of(r),
        crash=RuntimeError("the verifier crashed"),
    )

    with crashing:
        assert deliver(stack, as_delivery(messages, max_receives - 1)) == [messages[0]["MessageId"]]
        assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"
        assert deliver(stack, as_delivery(messages, max_receives)) == []

    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "IMAGE_CORRUPT")
    assert not stack.object_exists(ticket["key"])


def test_an_object_is_handed_back_when_too_little_time_is_left(
    stack: Stack, max_receives: int
) -> None:
    ticket = stack.start_upload(encode(photo(400, 300), "JPEG"), "image/jpeg")
    messages = uploads_only(receive_all(stack))
    no_time = local_context("process_upload", timeout_ms=0)
    event = sqs_event(as_delivery(messages, 1), stack.queues["queue_arn"], REGION)

    # Not started (so not cut off by the timeout mid-way): SQS delivers it again.
    failed = invoke("process_upload", event, no_time)["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failed] == [messages[0]["MessageId"]]
    assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"
    assert stack.object_exists(ticket["key"])

    # On the last delivery it is tried whatever the time, processing marked FAILED first.
    last = sqs_event(as_delivery(messages, max_receives), stack.queues["queue_arn"], REGION)
    no_time = local_context("process_upload", timeout_ms=0)
    assert invoke("process_upload", last, no_time)["batchItemFailures"] == []
    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["processing"]) == ("READY", "DONE")


def test_verified_bytes_whose_pixels_do_not_decode_end_rejected_not_ready(stack: Stack) -> None:
    # Given a large WebP whose structure is sound but whose pixel data is garbage: confirm's
    # bounded check (a structural walk above ~12 MP) lets it through...
    damaged = samples.damaged_lossless_webp()
    ticket = stack.start_upload(damaged, "image/webp")
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204

    # ...then the event path's full decode finds it broken: REJECTED, nothing kept.
    assert deliver(stack, receive_all(stack)) == []

    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "IMAGE_CORRUPT")
    assert "width" not in item
    assert "variants" not in item
    assert not stack.object_exists(ticket["key"])
    assert not stack.object_exists(f"derived/alice/{ticket['assetId']}/")


def test_the_same_bytes_posted_again_to_a_ready_asset_keep_it_off_the_expiry_rule(
    stack: Stack,
) -> None:
    # Given a READY asset uploaded with a presigned POST form...
    photo_bytes = encode(photo(200, 100), "JPEG")
    ticket = stack.start_upload(photo_bytes, "image/jpeg", method="POST")
    assert deliver(stack, receive_all(stack)) == []
    # ...when the form is sent again with the same bytes (a retry whose answer was lost),
    # S3 stores them with the form's pending tag again (moto ignores a form's tagging
    # field, so the test writes what S3 would)...
    stack.s3.put_object(
        Bucket=stack.bucket,
        Key=ticket["key"],
        Body=photo_bytes,
        Tagging="mediaport-upload=pending",
    )
    assert "<Key>mediaport-upload</Key><Value>pending</Value>" in ticket["fields"]["tagging"]

    assert deliver(stack, receive_all(stack)) == []

    # ...and its event takes it off, so the abandoned-upload rule never expires a READY file.
    assert stack.s3.get_object_tagging(Bucket=stack.bucket, Key=ticket["key"])["TagSet"] == []
    assert stack.asset_item(ticket["assetId"])["status"] == "READY"


def test_variants_of_bytes_the_asset_no_longer_has_are_removed_once_new_ones_are_recorded(
    stack: Stack,
) -> None:
    # Given variants a cut-off render of earlier bytes left behind (not on the record)...
    ticket = stack.start_upload(encode(photo(300, 200), "JPEG"), "image/jpeg")
    orphan = f"derived/alice/{ticket['assetId']}/0ld0ld0ld/512.webp"
    stack.s3.put_object(Bucket=stack.bucket, Key=orphan, Body=samples.webp_bytes())

    # ...when the current bytes' variants are made and recorded...
    assert deliver(stack, receive_all(stack)) == []

    # ...only the current bytes' variants remain.
    item = stack.asset_item(ticket["assetId"])
    assert item["processing"] == "DONE"
    assert not stack.object_exists(orphan)
    assert all(stack.object_exists(v["key"]) for v in item["variants"].values())
