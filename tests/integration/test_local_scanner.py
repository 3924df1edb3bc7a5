"""The local stack's stand-in for GuardDuty (MEDIAPORT_SCAN=local) and its jobs queue,
against in-process moto: what the scanner reads, the tag it writes, the event it sends;
the jobs worker that feeds transform_media."""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import boto3
import pytest
from PIL import Image

from infra.definitions import JOBS_MAX_RECEIVE_COUNT
from infra.local.config import LocalConfig
from infra.local.scanner import EICAR, LocalScanner, NewObject
from infra.local.worker import TRANSFORM_FUNCTION, EventWorker
from mediaport import names
from tests import samples
from tests.integration.conftest import Stack

REGION = "us-east-1"
KEY = "media/alice/0f8fad5b-d9cb-469f-a165-70867728950e/photo.jpg"
# What a rule for GuardDuty's scan results matches on (the deployed rule's pattern).
SCAN_RESULT_PATTERN = {
    "source": ["aws.guardduty"],
    "detail-type": ["GuardDuty Malware Protection Object Scan Result"],
}


def with_comment(jpeg: bytes, comment: bytes) -> bytes:
    """The JPEG with a comment (COM) segment right after its start-of-image marker."""
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


def eicar_jpeg() -> bytes:
    """A valid photo carrying the EICAR test string in a JPEG comment."""
    return with_comment(samples.jpeg_bytes(320, 240), b"holiday " + EICAR + b" snaps")


def put(stack: Stack, data: bytes, key: str = KEY, tagging: str = "") -> NewObject:
    """Store an object as an upload would; what S3's notification announces of it."""
    response = stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=data, Tagging=tagging)
    return NewObject(stack.bucket, key, response["ETag"].strip('"'))


def tags_of(stack: Stack, key: str = KEY) -> dict[str, str]:
    tag_set = stack.s3.get_object_tagging(Bucket=stack.bucket, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tag_set}


@pytest.fixture
def delivered() -> list[dict[str, Any]]:
    """The events handed to scan_result (captured here; the e2e tests use the function)."""
    return []


@pytest.fixture
def scanner(stack: Stack, delivered: list[dict[str, Any]]) -> LocalScanner:
    return LocalScanner(REGION, None, deliver=delivered.append, retry_delays=(0, 0))


# --- what it finds, and says ----------------------------------------------------------------


def test_eicar_in_a_jpeg_comment_is_found_tagged_and_reported(
    stack: Stack, scanner: LocalScanner, delivered: list[dict[str, Any]]
) -> None:
    # Given a valid photo that carries the EICAR string in a comment segment,
    data = eicar_jpeg()
    assert Image.open(io.BytesIO(data)).size == (320, 240)
    new_object = put(stack, data)

    # when it is scanned,
    event = scanner.scan(new_object)

    # then it is tagged as GuardDuty tags it, and scan_result got GuardDuty's event.
    assert tags_of(stack)[names.SCAN_TAG_KEY] == "THREATS_FOUND"
    assert delivered == [event]
    assert event is not None
    assert event["detail"]["scanStatus"] == "COMPLETED"
    assert event["detail"]["scanResultDetails"] == {
        "scanResultStatus": "THREATS_FOUND",
        "threats": [{"name": "EICAR-Test-File (not a virus)"}],
    }


def test_a_clean_jpeg_is_tagged_and_reported_no_threats_found(
    stack: Stack, scanner: LocalScanner, delivered: list[dict[str, Any]]
) -> None:
    new_object = put(stack, with_comment(samples.jpeg_bytes(), b"just a comment"))

    scanner.scan(new_object)

    assert tags_of(stack)[names.SCAN_TAG_KEY] == "NO_THREATS_FOUND"
    (event,) = delivered
    assert event["detail"]["scanResultDetails"] == {
        "scanResultStatus": "NO_THREATS_FOUND",
        "threats": None,
    }


@pytest.mark.parametrize("before_boundary", [1, 34, 67])
def test_eicar_across_a_read_chunk_boundary_is_found(
    stack: Stack, delivered: list[dict[str, Any]], before_boundary: int
) -> None:
    # The scanner reads 4 KiB at a time; the string starts just before a chunk ends.
    chunk = 4096
    scanner = LocalScanner(REGION, None, deliver=delivered.append, chunk_size=chunk)
    padding = b"\x00" * (3 * chunk - before_boundary)
    new_object = put(stack, padding + EICAR + b"\x00" * chunk)

    scanner.scan(new_object)

    assert tags_of(stack)[names.SCAN_TAG_KEY] == "THREATS_FOUND"


def test_the_objects_other_tags_are_kept(stack: Stack, scanner: LocalScanner) -> None:
    new_object = put(stack, samples.jpeg_bytes(), tagging="mediaport-upload=pending&team=blue")

    scanner.scan(new_object)

    assert tags_of(stack) == {
        "mediaport-upload": "pending",
        "team": "blue",
        names.SCAN_TAG_KEY: "NO_THREATS_FOUND",
    }


def test_a_second_scan_replaces_the_scan_tag_and_keeps_the_rest(
    stack: Stack, scanner: LocalScanner
) -> None:
    earlier = f"{names.SCAN_TAG_KEY}=NO_THREATS_FOUND"
    new_object = put(stack, eicar_jpeg(), tagging=f"team=blue&{earlier}")

    scanner.scan(new_object)

    assert tags_of(stack) == {"team": "blue", names.SCAN_TAG_KEY: "THREATS_FOUND"}


def test_the_event_names_the_object_as_s3_knows_it(
    stack: Stack, scanner: LocalScanner, delivered: list[dict[str, Any]]
) -> None:
    new_object = put(stack, samples.jpeg_bytes())
    head = stack.s3.head_object(Bucket=stack.bucket, Key=KEY)

    scanner.scan(new_object)

    (event,) = delivered
    assert (event["source"], event["detail-type"]) == (
        "aws.guardduty",
        "GuardDuty Malware Protection Object Scan Result",
    )
    assert event["region"] == REGION
    assert event["detail"]["resourceType"] == "S3_OBJECT"
    assert event["detail"]["s3ObjectDetails"] == {
        "bucketName": stack.bucket,
        "objectKey": KEY,
        # Unquoted, as S3's own event notifications carry it (HEAD answers it quoted).
        "eTag": head["ETag"].strip('"'),
        "versionId": None,  # the bucket is not versioned
        "s3Throttled": False,
    }


def test_an_object_gone_before_its_scan_is_not_reported(
    stack: Stack, scanner: LocalScanner, delivered: list[dict[str, Any]]
) -> None:
    new_object = put(stack, samples.jpeg_bytes())
    stack.s3.delete_object(Bucket=stack.bucket, Key=KEY)

    assert scanner.scan(new_object) is None
    assert delivered == []


def test_bytes_replaced_since_the_event_are_left_to_their_own_event(
    stack: Stack, scanner: LocalScanner, delivered: list[dict[str, Any]]
) -> None:
    announced = put(stack, eicar_jpeg())
    put(stack, samples.jpeg_bytes())  # the same key, other bytes (and their own event)

    assert scanner.scan(announced) is None
    assert delivered == []
    assert names.SCAN_TAG_KEY not in tags_of(stack)


def test_a_failing_scan_result_is_delivered_again_then_given_up(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[dict[str, Any]] = []

    def failing_twice(event: dict[str, Any]) -> None:
        attempts.append(event)
        if len(attempts) <= 2:
            raise RuntimeError("asset not READY yet")

    put(stack, samples.jpeg_bytes(), key=KEY)
    LocalScanner(REGION, None, deliver=failing_twice, retry_delays=(0, 0)).scan(
        NewObject(stack.bucket, KEY)
    )
    assert len(attempts) == 3  # the third delivery succeeded

    def failing(event: dict[str, Any]) -> None:
        raise RuntimeError("down")

    LocalScanner(REGION, None, deliver=failing, retry_delays=(0, 0)).scan(
        NewObject(stack.bucket, KEY)
    )
    assert "scan_result kept failing" in caplog.text


def test_the_result_is_on_the_default_event_bus_for_a_rule_to_match(
    stack: Stack, scanner: LocalScanner
) -> None:
    # Given a rule on the default bus for GuardDuty's scan results, sending them to a queue,
    events = boto3.client("events", region_name=REGION)
    results = stack.sqs.create_queue(QueueName="scan-results")["QueueUrl"]
    results_arn = stack.sqs.get_queue_attributes(QueueUrl=results, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name="scan-results", EventPattern=json.dumps(SCAN_RESULT_PATTERN))
    events.put_targets(Rule="scan-results", Targets=[{"Id": "queue", "Arn": results_arn}])

    # when an object is scanned,
    event = scanner.scan(put(stack, eicar_jpeg()))

    # then the rule matched the event the scanner put on the bus.
    (message,) = stack.sqs.receive_message(QueueUrl=results).get("Messages", [])
    on_the_bus = json.loads(message["Body"])
    assert event is not None
    assert (on_the_bus["source"], on_the_bus["detail-type"]) == (
        event["source"],
        event["detail-type"],
    )
    assert on_the_bus["detail"] == event["detail"]


# --- how it hears of uploads ----------------------------------------------------------------


def test_the_upload_worker_hands_each_new_upload_to_the_scanner_once(
    stack: Stack, scanner: LocalScanner, delivered: list[dict[str, Any]]
) -> None:
    # Given an upload S3 announced on the upload queue,
    ticket = stack.start_upload(eicar_jpeg(), "image/jpeg", filename="photo.jpg")
    worker = EventWorker(
        stack.queues["queue_url"],
        stack.queues["queue_arn"],
        REGION,
        None,
        also_deliver=scanner.submit,
    )

    # when the worker hands the batch to process_upload (and so to the scanner too),
    assert worker.poll_once() >= 1
    assert stack.asset_item(ticket["assetId"])["status"] == "READY"  # scanning is off here
    events = scanner.drain()

    # then the object was scanned once, and reported.
    assert [e["detail"]["s3ObjectDetails"]["objectKey"] for e in events] == [ticket["key"]]
    assert delivered == events
    assert tags_of(stack, ticket["key"])[names.SCAN_TAG_KEY] == "THREATS_FOUND"
    assert worker.poll_once() == 0
    assert scanner.drain() == []


# --- the jobs queue -------------------------------------------------------------------------


def test_the_jobs_queue_dead_letters_after_the_deployed_receive_count(stack: Stack) -> None:
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.queues["jobs_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    dead_letters = stack.sqs.get_queue_attributes(
        QueueUrl=stack.queues["jobs_dlq_url"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letters,
        "maxReceiveCount": JOBS_MAX_RECEIVE_COUNT,
    }


def test_a_job_sent_to_the_functions_queue_url_lands_on_the_jobs_queue(stack: Stack) -> None:
    url = LocalConfig().function_environment()[names.ENV_JOBS_QUEUE_URL]
    stack.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"assetId": "a1"}))

    (message,) = stack.sqs.receive_message(QueueUrl=stack.queues["jobs_queue_url"])["Messages"]
    assert json.loads(message["Body"]) == {"assetId": "a1"}


def jobs_worker(stack: Stack) -> EventWorker:
    return EventWorker(
        stack.queues["jobs_queue_url"],
        stack.queues["jobs_queue_arn"],
        REGION,
        None,
        TRANSFORM_FUNCTION,
    )


def test_the_jobs_worker_has_transform_media_make_a_requested_variant(stack: Stack) -> None:
    # Given a READY image and a resize asked for (202, PENDING),
    ticket = stack.start_upload(samples.jpeg_bytes(400, 300), "image/jpeg", filename="p.jpg")
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204
    asked = stack.call("POST", f"/media/{ticket['assetId']}/resize", json={"width": 100})
    assert asked.status_code == 202, asked.get_data(as_text=True)
    name = asked.get_json()["name"]

    # when the jobs worker drains the jobs queue,
    assert jobs_worker(stack).poll_once() == 1

    # then transform_media made it, and the queue is empty.
    variant = stack.call("GET", f"/media/{ticket['assetId']}/variants/{name}").get_json()
    assert variant["status"] == "READY"
    assert jobs_worker(stack).poll_once() == 0


def test_a_job_transform_media_cannot_read_is_dead_lettered(stack: Stack) -> None:
    stack.sqs.set_queue_attributes(
        QueueUrl=stack.queues["jobs_queue_url"], Attributes={"VisibilityTimeout": "0"}
    )
    stack.sqs.send_message(QueueUrl=stack.queues["jobs_queue_url"], MessageBody="not a job")
    worker = jobs_worker(stack)

    received = [worker.poll_once() for _ in range(JOBS_MAX_RECEIVE_COUNT + 1)]

    assert received == [1] * JOBS_MAX_RECEIVE_COUNT + [0]
    dead = stack.sqs.receive_message(QueueUrl=stack.queues["jobs_dlq_url"])
    assert [m["Body"] for m in dead.get("Messages", [])] == ["not a job"]
