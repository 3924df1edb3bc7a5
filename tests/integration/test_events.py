"""The host app's events, end to end in-process: the real API and handlers change assets,
moto's DynamoDB streams carry each write, the local stream worker hands every record to
``publish_events`` in Lambda's event shape, and the events land on moto's ``mediaport``
bus, read here through a rule with an SQS target, as a host app would subscribe.

For each transition: the event's shape, and the same ``eventId`` when its stream record
is delivered again."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from infra.local.lambdas import invoke
from infra.local.tokens import issue_token
from infra.local.worker import StreamWorker
from mediaport import names
from mediaport.adapters import publisher
from mediaport.config import get_settings
from tests import samples
from tests.integration.conftest import CONFIG, Stack
from tests.integration.faults import aws_fails
from tests.integration.jobs import run_jobs
from tests.integration.library_helpers import ready_asset
from tests.integration.test_library import delete, restore
from tests.integration.test_processing import upload_and_process
from tests.integration.test_scanning import confirm, scanned, uploaded

REGION = CONFIG.region
ADMIN = {"Authorization": f"Bearer {issue_token('root', admin=True)}"}
CDN = f"{CONFIG.api_url}/cdn/"


@dataclass
class Tap:
    """The local stream mappings (asset and usage tables → publish_events), and a queue
    subscribed to everything on the bus."""

    stack: Stack
    worker: StreamWorker
    queue_url: str

    def published(self) -> list[dict[str, Any]]:
        """Hand the streams' new records to publish_events; the events the bus got."""
        self.worker.poll_once()
        return self.received()

    def received(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while batch := self.stack.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10
        ).get("Messages", []):
            for message in batch:
                events.append(json.loads(message["Body"]))
                self.stack.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return events


@pytest.fixture
def tap(stack: Stack) -> Iterator[Tap]:
    publisher.events_client.cache_clear()
    publisher.sqs_client.cache_clear()
    queue_url = stack.sqs.create_queue(QueueName="host-app-events")["QueueUrl"]
    queue_arn = stack.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    bus = boto3.client("events", region_name=REGION)
    bus.put_rule(
        Name="everything",
        EventBusName=names.EVENT_BUS_NAME,
        EventPattern=json.dumps({"source": [names.EVENT_SOURCE]}),
    )
    bus.put_targets(
        Rule="everything",
        EventBusName=names.EVENT_BUS_NAME,
        Targets=[{"Id": "host-app", "Arn": queue_arn}],
    )
    worker = StreamWorker(
        stack.table, REGION, None, publish_tables=(stack.table, CONFIG.usage_table_name)
    )
    yield Tap(stack, worker, queue_url)
    publisher.events_client.cache_clear()
    publisher.sqs_client.cache_clear()


def only(events: list[dict[str, Any]], detail_type: str) -> dict[str, Any]:
    (event,) = [e for e in events if e["detail-type"] == detail_type]
    return event


def kinds(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(event["detail-type"] for event in events)


def stream_records(table: str) -> list[dict[str, Any]]:
    """Every record of a table's stream so far, as Lambda hands them over."""
    worker = StreamWorker(table, REGION, None)
    arn = worker.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in worker.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = worker.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += worker.streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [worker.lambda_record(record, arn) for record in records]


def redelivered(tap: Tap, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Hand one stream record to publish_events again, as a retried batch would."""
    assert invoke("publish_events", {"Records": [record]})["batchItemFailures"] == []
    return tap.received()


def status_of(record: dict[str, Any], image: str) -> str | None:
    return record["dynamodb"].get(image, {}).get("status", {}).get("S")


# --- Media Ready and Variant Ready -----------------------------------------------------


def test_a_public_upload_is_media_ready_then_a_variant_ready_per_thumbnail(tap: Tap) -> None:
    asset_id = upload_and_process(
        tap.stack,
        samples.encode(samples.photo(300, 200), "JPEG"),
        "image/jpeg",
        scope="POST_ATTACHMENT",
    )
    item = tap.stack.asset_item(asset_id)

    events = tap.published()

    assert kinds(events) == {"Media Ready": 1, "Variant Ready": 3}
    ready = only(events, "Media Ready")
    assert (ready["source"], ready["detail-type"]) == ("mediaport", "Media Ready")
    detail = ready["detail"]
    assert re.fullmatch(rf"{asset_id}:\d+:media-ready", detail["eventId"])
    assert {k: detail[k] for k in ("assetId", "userId", "scope", "status", "mimeType")} == {
        "assetId": asset_id,
        "userId": "alice",
        "scope": "POST_ATTACHMENT",
        "status": "READY",
        "mimeType": "image/jpeg",
    }
    assert detail["size"] == int(item["size"])
    assert detail["cdnUrl"] == CDN + item["key"]
    assert "X-Amz-Signature" not in json.dumps(events)  # never a presigned URL
    variants = {
        e["detail"]["variant"]["name"]: e["detail"] for e in events if e["detail"].get("variant")
    }
    assert set(variants) == {"128", "512", "1024"}
    for name, variant_detail in variants.items():
        assert (
            variant_detail["eventId"] == f"{asset_id}:{int(item['version'])}:variant-ready:{name}"
        )
        assert variant_detail["variant"]["cdnUrl"] == CDN + item["variants"][name]["key"]
        assert variant_detail["variant"]["kind"] == "thumbnail"


def test_a_private_upload_is_media_ready_without_urls(tap: Tap) -> None:
    asset = ready_asset(tap.stack)  # GENERIC: private

    ready = only(tap.published(), "Media Ready")

    assert ready["detail"]["assetId"] == asset["assetId"]
    assert ready["detail"]["scope"] == "GENERIC"
    assert (ready["detail"]["cdnUrl"], ready["detail"]["variantUrls"]) == (None, {})


def test_a_redelivered_stream_record_publishes_the_same_event_again(tap: Tap) -> None:
    asset = ready_asset(tap.stack)
    first = only(tap.published(), "Media Ready")
    (record,) = [
        r
        for r in stream_records(tap.stack.table)
        if (status_of(r, "OldImage"), status_of(r, "NewImage")) == ("PENDING", "READY")
    ]

    again = only(redelivered(tap, record), "Media Ready")
    once_more = only(redelivered(tap, record), "Media Ready")

    assert first["detail"]["assetId"] == asset["assetId"]
    assert first["detail"] == again["detail"] == once_more["detail"]
    assert first["id"] != again["id"]  # EventBridge's own id is per put; eventId is ours


def test_writes_the_host_app_does_not_hear_of_publish_nothing(tap: Tap) -> None:
    asset = ready_asset(tap.stack)
    tap.published()
    path = f"/media/{asset['assetId']}"

    assert (
        tap.stack.call("PATCH", path, json={"caption": "hello", "tags": ["a"]}).status_code == 200
    )
    tap.stack.presign(filename="never.jpg", contentType="image/jpeg", size=10)

    assert tap.published() == []


# --- Rejected, deleted, restored, purged -------------------------------------------------


def test_a_rejected_upload_is_media_rejected_with_its_reason(tap: Tap) -> None:
    ticket = tap.stack.start_upload(samples.HTML_BYTES, "image/png")
    assert tap.stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 422

    rejected = only(tap.published(), "Media Rejected")

    assert rejected["detail"]["assetId"] == ticket["assetId"]
    assert rejected["detail"]["status"] == "REJECTED"
    assert rejected["detail"]["rejectReason"] == "TYPE_MISMATCH"
    assert re.fullmatch(rf"{ticket['assetId']}:\d+:media-rejected", rejected["detail"]["eventId"])


def test_delete_restore_and_purge_each_publish_their_event(tap: Tap) -> None:
    asset_id = ready_asset(tap.stack)["assetId"]
    tap.published()

    assert delete(tap.stack, asset_id).status_code == 204
    deleted = only(tap.published(), "Media Deleted")
    assert restore(tap.stack, asset_id).status_code == 200
    restored = only(tap.published(), "Media Restored")
    assert delete(tap.stack, asset_id).status_code == 204
    tap.published()
    # The trash's time is up: TTL removes the record and expire_assets writes its tombstone.
    tap.worker.expire_due_items(now=time.time() + timedelta(days=31).total_seconds())
    purged = only(tap.published(), "Media Purged")

    assert deleted["detail"]["status"] == "DELETED"
    assert deleted["detail"]["purgeAt"] is not None
    assert restored["detail"]["status"] == "READY"
    assert purged["detail"]["purgedAt"] == purged["detail"]["occurredAt"]
    assert purged["detail"]["eventId"] == f"{asset_id}:1:media-purged"
    ids = [e["detail"]["eventId"] for e in (deleted, restored, purged)]
    assert len(set(ids)) == 3


# --- Scanning: quarantined, released, ready once clean -------------------------------------


@pytest.fixture
def scanning_tap(tap: Tap, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tap]:
    monkeypatch.setenv("MEDIAPORT_SCAN", "local")
    get_settings.cache_clear()
    yield tap
    get_settings.cache_clear()


def test_with_scanning_on_media_ready_waits_for_the_clean_result(scanning_tap: Tap) -> None:
    stack = scanning_tap.stack
    asset_id = uploaded(stack)
    assert confirm(stack, asset_id).status_code == 204
    assert "Media Ready" not in kinds(scanning_tap.published())  # READY, scan pending

    scanned(stack, asset_id, names.SCAN_CLEAN_TAG_VALUE)

    ready = only(scanning_tap.published(), "Media Ready")
    assert ready["detail"]["scanStatus"] == "CLEAN"


def test_a_threat_quarantines_and_a_release_publishes_released(scanning_tap: Tap) -> None:
    stack = scanning_tap.stack
    asset_id = uploaded(stack)
    assert confirm(stack, asset_id).status_code == 204
    scanning_tap.published()

    scanned(stack, asset_id, names.SCAN_INFECTED_TAG_VALUE)
    quarantined = only(scanning_tap.published(), "Media Quarantined")
    response = stack.call(
        "POST",
        f"/admin/media/{asset_id}/release",
        user=None,
        headers=ADMIN,
        json={"reason": "a false positive"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    released_events = scanning_tap.published()
    run_jobs(stack)  # the released asset's thumbnails
    thumbnails = scanning_tap.published()

    assert quarantined["detail"]["status"] == "QUARANTINED"
    assert quarantined["detail"]["scanResult"] == names.SCAN_INFECTED_TAG_VALUE
    assert quarantined["detail"]["cdnUrl"] is None
    assert kinds(released_events) == {"Media Released": 1}
    assert only(released_events, "Media Released")["detail"]["releasedAt"] is not None
    assert kinds(thumbnails) == {"Variant Ready": 3}


# --- Requested variants ----------------------------------------------------------------------


def test_a_requested_variant_made_is_variant_ready(tap: Tap) -> None:
    asset_id = upload_and_process(
        tap.stack, samples.encode(samples.photo(300, 200), "JPEG"), "image/jpeg"
    )
    tap.published()
    response = tap.stack.call(
        "POST", f"/media/{asset_id}/resize", json={"width": 100, "height": 100, "fit": "cover"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert tap.published() == []  # requested: PENDING, no event yet

    run_jobs(tap.stack)

    made = only(tap.published(), "Variant Ready")
    name = response.get_json()["name"]
    assert made["detail"]["variant"]["name"] == name
    assert made["detail"]["variant"]["kind"] == "requested"
    assert made["detail"]["eventId"].endswith(f":variant-ready:{name}")


# --- Storage Warning (the usage table's stream) -----------------------------------------------


def test_crossing_eighty_percent_of_the_tier_is_one_storage_warning(
    tap: Tap, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiers = {"free": {"storageBytes": 10_000, "maxFiles": 100}}
    monkeypatch.setenv("MEDIAPORT_TIERS", json.dumps(tiers))
    get_settings.cache_clear()
    ticket = tap.stack.start_upload(
        samples.PDF_BYTES + b"\n" * (8_500 - len(samples.PDF_BYTES)), "application/pdf"
    )
    assert tap.stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204

    events = tap.published()

    warning = only(events, "Storage Warning")
    assert warning["detail"]["userId"] == "alice"
    assert (warning["detail"]["level"], warning["detail"]["usedBytes"]) == (80, 8_500)
    assert warning["detail"]["eventId"] == f"alice:80:{warning['detail']['occurredAt']}"
    (crossing,) = [
        record
        for record in stream_records(CONFIG.usage_table_name)
        if "warningLevel" in record["dynamodb"].get("NewImage", {})
        and "warningLevel" not in record["dynamodb"].get("OldImage", {})
    ]
    assert only(redelivered(tap, crossing), "Storage Warning")["detail"] == warning["detail"]


# --- Failures: nothing is lost, nothing is reported published that was not ---------------------


def test_a_publish_that_fails_is_retried_from_the_same_record(tap: Tap) -> None:
    asset = ready_asset(tap.stack)

    with aws_fails(publisher.events_client(), "PutEvents", code="InternalException") as hit:
        assert tap.published() == []
    assert hit
    events = tap.published()  # the worker did not move past the record

    assert only(events, "Media Ready")["detail"]["assetId"] == asset["assetId"]


def test_entries_eventbridge_refuses_are_sent_again(tap: Tap) -> None:
    asset = ready_asset(tap.stack)
    client = publisher.events_client()
    calls: list[int] = []

    def refuse_the_first_call(params: dict[str, Any], **_: Any) -> Any:
        calls.append(1)
        if len(calls) > 1:
            return None
        entries = [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}]
        body = {"FailedEntryCount": 1, "Entries": entries}
        return AWSResponse(url="", status_code=200, headers={}, raw=None), body

    client.meta.events.register("before-call.eventbridge.PutEvents", refuse_the_first_call)
    try:
        events = tap.published()
    finally:
        client.meta.events.unregister("before-call.eventbridge.PutEvents", refuse_the_first_call)

    assert len(calls) == 2
    assert only(events, "Media Ready")["detail"]["assetId"] == asset["assetId"]
