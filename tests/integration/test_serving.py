"""Serving through the CDN against moto: cdnUrl only for public, served assets; the local
``/cdn`` stand-in serves exactly those, with CloudFront's cache headers; delete,
quarantine and purge invalidate what the edges cached; bandwidth is counted per owner and
month, from the stand-in's responses and from CloudFront's log files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from infra.local.events import sqs_event
from infra.local.lambdas import invoke
from mediaport.adapters import cdn
from mediaport.config import get_settings
from mediaport.model.usage import month_of, month_reset_at
from mediaport.reconcile import reconcile_user
from mediaport.services import current_services
from tests import samples
from tests.cloudfront_logs import Request, log_file, log_key
from tests.integration.conftest import CONFIG, Stack
from tests.integration.faults import aws_fails
from tests.integration.jobs import run_jobs
from tests.integration.test_cleanup import expire_as_ttl_would
from tests.integration.test_processing import deliver, receive_all
from tests.integration.test_scanning import CLEAN, INFECTED, scanned

CDN = f"{CONFIG.api_url}/cdn"
LOG_BUCKET = "mediaport-cdn-logs"
MONTH = month_of(datetime.now(UTC))


def processed(stack: Stack, scope: str = "POST_ATTACHMENT", user: str = "alice") -> str:
    """A READY JPEG of ``scope``, its thumbnails made."""
    ticket = stack.start_upload(samples.jpeg_bytes(), "image/jpeg", scope=scope, user=user)
    assert deliver(stack, receive_all(stack)) == []
    return str(ticket["assetId"])


def read(stack: Stack, asset_id: str) -> dict[str, Any]:
    response = stack.call("GET", f"/media/{asset_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def fetch(stack: Stack, url: str, **headers: str) -> Any:
    """A GET of a CDN URL, as a browser would send it: no token."""
    assert url.startswith(CDN), url
    return stack.call("GET", url.removeprefix(CONFIG.api_url), user=None, headers=headers)


def bandwidth_row(stack: Stack, user: str = "alice") -> dict[str, Any]:
    item: dict[str, Any] = (
        stack.dynamodb.Table(CONFIG.usage_table_name)
        .get_item(Key={"userId": user, "dimension": f"bandwidth#{MONTH}"}, ConsistentRead=True)
        .get("Item", {})
    )
    return item


@pytest.fixture
def distribution(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A CloudFront distribution (moto's) in front of the bucket, named in the settings."""
    cdn.cloudfront_client.cache_clear()
    created = cdn.cloudfront_client().create_distribution(
        DistributionConfig={
            "CallerReference": "mediaport-test",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "media",
                        "DomainName": f"{stack.bucket}.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "media",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    distribution_id = str(created["Distribution"]["Id"])
    monkeypatch.setenv("MEDIAPORT_CDN_DISTRIBUTION_ID", distribution_id)
    get_settings.cache_clear()
    yield distribution_id
    get_settings.cache_clear()
    cdn.cloudfront_client.cache_clear()


def invalidated_paths(distribution_id: str) -> list[list[str]]:
    """The paths of each invalidation CloudFront was asked for, oldest first."""
    client = cdn.cloudfront_client()
    listed = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    batches = []
    for summary in reversed(listed.get("Items", [])):
        batch = client.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])
        batches.append(batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"])
    return batches


# --- cdnUrl ------------------------------------------------------------------------------


def test_a_public_served_asset_has_cdn_urls_for_its_original_and_thumbnails(
    stack: Stack,
) -> None:
    asset_id = processed(stack)

    asset = read(stack, asset_id)

    assert asset["cdnUrl"] == f"{CDN}/{stack.asset_item(asset_id)['key']}"
    assert asset["variants"]
    for name, variant in asset["variants"].items():
        assert variant["cdnUrl"] == f"{CDN}/{stack.asset_item(asset_id)['variants'][name]['key']}"
        assert variant["url"].startswith("http")  # the presigned one stays
    listed = stack.call("GET", "/media").get_json()["items"]
    assert [item["cdnUrl"] for item in listed] == [asset["cdnUrl"]]


def test_private_media_gets_presigned_urls_and_no_cdn_url(stack: Stack) -> None:
    asset_id = processed(stack, scope="GENERIC")

    asset = read(stack, asset_id)

    assert asset["url"]
    assert asset["cdnUrl"] is None
    assert asset["variants"]
    assert all(variant["cdnUrl"] is None for variant in asset["variants"].values())


def test_the_feed_and_the_avatar_carry_cdn_urls_of_public_media(stack: Stack) -> None:
    post = processed(stack)
    avatar = processed(stack, scope="PROFILE_AVATAR")
    assert stack.call("PUT", f"/media/{post}/attachments/post/p1").status_code == 201
    assert stack.call("PUT", "/me/avatar", json={"assetId": avatar}).status_code == 200

    (item,) = stack.call("GET", "/attachments/post/p1", user="bob").get_json()["items"]
    shown = stack.call("GET", "/users/alice/avatar", user="bob").get_json()

    assert item["cdnUrl"] == read(stack, post)["cdnUrl"]
    assert all(v["cdnUrl"].startswith(CDN) for v in item["variants"].values())
    assert shown["cdnUrl"] == read(stack, avatar)["cdnUrl"]


def test_a_requested_variant_has_a_cdn_url_once_ready(stack: Stack) -> None:
    asset_id = processed(stack)
    requested = stack.call("POST", f"/media/{asset_id}/resize", json={"width": 40})
    assert requested.status_code == 202, requested.get_data(as_text=True)
    assert requested.get_json()["cdnUrl"] is None  # PENDING

    run_jobs(stack)
    name = requested.get_json()["name"]
    made = stack.call("GET", f"/media/{asset_id}/variants/{name}").get_json()

    assert made["status"] == "READY"
    assert made["cdnUrl"].startswith(f"{CDN}/derived/")
    assert fetch(stack, made["cdnUrl"]).status_code == 200


def test_an_asset_waiting_for_its_scan_has_no_cdn_url_until_it_is_clean(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAPORT_SCAN", "local")
    get_settings.cache_clear()
    asset_id = processed(stack)
    key = stack.asset_item(asset_id)["key"]

    assert read(stack, asset_id)["cdnUrl"] is None
    assert fetch(stack, f"{CDN}/{key}").status_code == 403

    scanned(stack, asset_id, CLEAN)

    assert read(stack, asset_id)["cdnUrl"] == f"{CDN}/{key}"
    assert fetch(stack, f"{CDN}/{key}").status_code == 200
    get_settings.cache_clear()


# --- the /cdn stand-in ---------------------------------------------------------------------


def test_the_cdn_serves_a_public_original_with_its_headers_and_a_304(stack: Stack) -> None:
    data = samples.jpeg_bytes()
    ticket = stack.start_upload(data, "image/jpeg", scope="POST_ATTACHMENT")
    assert deliver(stack, receive_all(stack)) == []
    url = read(stack, ticket["assetId"])["cdnUrl"]

    served = fetch(stack, url)

    assert served.status_code == 200
    assert served.get_data() == data
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Cache-Control"] == "public, max-age=300"
    assert served.headers["Content-Length"] == str(len(data))
    etag = served.headers["ETag"]
    assert etag.strip('"') == stack.asset_item(ticket["assetId"])["checksum"]
    again = fetch(stack, url, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert fetch(stack, url, **{"If-None-Match": '"other"'}).status_code == 200


def test_the_cdn_serves_variants_for_a_year_and_ranges(stack: Stack) -> None:
    asset = read(stack, processed(stack))
    variant = next(iter(asset["variants"].values()))

    served = fetch(stack, variant["cdnUrl"])
    part = fetch(stack, asset["cdnUrl"], Range="bytes=0-9")

    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(served.get_data()) == variant["bytes"]
    assert part.status_code == 206
    assert len(part.get_data()) == 10
    assert part.headers["Content-Range"].startswith("bytes 0-9/")


def test_the_cdn_refuses_private_deleted_and_unknown_media(stack: Stack) -> None:
    private = processed(stack, scope="GENERIC")
    public = processed(stack)
    public_key = stack.asset_item(public)["key"]
    thumbnail_key = next(iter(stack.asset_item(public)["variants"].values()))["key"]
    assert stack.call("DELETE", f"/media/{public}").status_code == 204

    for key in (
        stack.asset_item(private)["key"],
        public_key,
        thumbnail_key,
        "media/alice/not-an-asset/x.jpg",
        f"released/alice/{public}/x.jpg",
    ):
        refused = fetch(stack, f"{CDN}/{key}")
        assert refused.status_code == 403, key
        assert b"AccessDenied" in refused.get_data()
    # Outside what the distribution serves from, its function answers 404 at the edge.
    for path in ("", "cdn-logs/E2EXAMPLE.2026-11-21-21.a1b2c3d4.gz", "index.html"):
        assert fetch(stack, f"{CDN}/{path}").status_code == 404, path
    assert read(stack, public)["cdnUrl"] is None

    assert stack.call("POST", f"/media/{public}/restore").status_code == 200
    assert fetch(stack, f"{CDN}/{public_key}").status_code == 200


def test_the_cdn_answers_only_get_and_head(stack: Stack) -> None:
    url = read(stack, processed(stack))["cdnUrl"]
    path = url.removeprefix(CONFIG.api_url)

    head = stack.call("HEAD", path, user=None)

    assert head.status_code == 200
    assert head.get_data() == b""
    assert int(head.headers["Content-Length"]) > 0
    assert stack.call("DELETE", path, user=None).status_code == 403
    assert stack.call("PUT", path, user=None, data=b"x").status_code == 403


# --- invalidation --------------------------------------------------------------------------


def test_without_a_distribution_nothing_is_invalidated(stack: Stack) -> None:
    cdn.cloudfront_client.cache_clear()
    asset_id = processed(stack)

    assert stack.call("DELETE", f"/media/{asset_id}").status_code == 204

    assert cdn.invalidate(None, ["/media/x"], reference="r") is None
    assert cdn.cloudfront_client.cache_info().currsize == 0  # no client was even made


def test_a_delete_invalidates_the_original_and_its_variants(
    stack: Stack, distribution: str
) -> None:
    asset_id = processed(stack)
    item = stack.asset_item(asset_id)

    assert stack.call("DELETE", f"/media/{asset_id}").status_code == 204

    (paths,) = invalidated_paths(distribution)
    assert paths[0] == f"/{item['key']}"
    assert sorted(paths[1:]) == sorted(f"/{v['key']}" for v in item["variants"].values())


def test_deleting_private_media_invalidates_nothing(stack: Stack, distribution: str) -> None:
    asset_id = processed(stack, scope="GENERIC")

    assert stack.call("DELETE", f"/media/{asset_id}").status_code == 204

    assert invalidated_paths(distribution) == []


def test_a_quarantine_invalidates_what_was_served(
    stack: Stack, distribution: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAPORT_SCAN", "local")
    get_settings.cache_clear()
    asset_id = processed(stack)
    scanned(stack, asset_id, CLEAN)
    item = stack.asset_item(asset_id)
    stack.s3.delete_object_tagging(Bucket=stack.bucket, Key=item["key"])

    assert scanned(stack, asset_id, INFECTED) == {"outcome": "QUARANTINED"}

    (paths,) = invalidated_paths(distribution)
    assert set(paths) == {f"/{item['key']}", *(f"/{v['key']}" for v in item["variants"].values())}
    assert fetch(stack, f"{CDN}/{item['key']}").status_code == 403


def test_a_quarantine_of_media_never_served_invalidates_nothing(
    stack: Stack, distribution: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAPORT_SCAN", "local")
    get_settings.cache_clear()
    asset_id = processed(stack)

    assert scanned(stack, asset_id, INFECTED) == {"outcome": "QUARANTINED"}

    assert invalidated_paths(distribution) == []


def test_a_purge_invalidates_again(stack: Stack, distribution: str) -> None:
    asset_id = processed(stack)
    key = stack.asset_item(asset_id)["key"]
    assert stack.call("DELETE", f"/media/{asset_id}").status_code == 204

    expire_as_ttl_would(stack, days_from_now=31)

    deleted, purged = invalidated_paths(distribution)
    assert purged == deleted
    assert purged[0] == f"/{key}"


def test_a_refused_invalidation_does_not_undo_the_delete(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    cdn.cloudfront_client.cache_clear()
    monkeypatch.setenv("MEDIAPORT_CDN_DISTRIBUTION_ID", "EDOESNOTEXIST")
    get_settings.cache_clear()
    asset_id = processed(stack)

    assert stack.call("DELETE", f"/media/{asset_id}").status_code == 204

    assert stack.asset_item(asset_id)["status"] == "DELETED"
    get_settings.cache_clear()
    cdn.cloudfront_client.cache_clear()


# --- bandwidth ---------------------------------------------------------------------------


def test_the_cdn_counts_the_bytes_it_serves_and_304s_count_nothing(stack: Stack) -> None:
    data = samples.jpeg_bytes()
    ticket = stack.start_upload(data, "image/jpeg", scope="POST_ATTACHMENT")
    assert deliver(stack, receive_all(stack)) == []
    url = read(stack, ticket["assetId"])["cdnUrl"]

    etag = fetch(stack, url).headers["ETag"]
    fetch(stack, url)
    fetch(stack, url, **{"If-None-Match": etag})
    fetch(stack, f"{CDN}/media/alice/not-an-asset/x.jpg")

    assert bandwidth_row(stack)["bytes"] == 2 * len(data)
    usage = stack.call("GET", "/media/usage").get_json()["bandwidth"]
    assert usage["month"] == MONTH
    assert usage["usedBytes"] == 2 * len(data)
    assert usage["limitBytes"] == 10 * 1024**3
    assert usage["warning"] is None
    assert datetime.fromisoformat(usage["resetAt"]) == month_reset_at(MONTH)


def test_nobody_used_any_bandwidth_yet(stack: Stack) -> None:
    usage = stack.call("GET", "/media/usage", user="carol").get_json()

    assert usage["bandwidth"]["usedBytes"] == 0
    assert usage["bandwidth"]["warningAt"] is None


def test_crossing_80_percent_of_the_bandwidth_warns_once_a_month(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = samples.jpeg_bytes()
    limit = int(len(data) * 2.2)  # the second response crosses 80 %, the third 100 %
    tiers = {"free": {"storageBytes": 1024**3, "maxFiles": 100, "bandwidthBytes": limit}}
    monkeypatch.setenv("MEDIAPORT_TIERS", json.dumps(tiers))
    get_settings.cache_clear()
    ticket = stack.start_upload(data, "image/jpeg", scope="POST_ATTACHMENT")
    assert deliver(stack, receive_all(stack)) == []
    url = read(stack, ticket["assetId"])["cdnUrl"]

    fetch(stack, url)
    assert "bandwidthWarningAt" not in bandwidth_row(stack)
    fetch(stack, url)
    first = bandwidth_row(stack)
    assert first["warningLevel"] == 80
    assert first["bandwidthWarningAt"]
    fetch(stack, url)
    crossed = bandwidth_row(stack)
    fetch(stack, url)

    assert crossed["warningLevel"] == 100
    assert bandwidth_row(stack)["bandwidthWarningAt"] == crossed["bandwidthWarningAt"]
    shown = stack.call("GET", "/media/usage").get_json()["bandwidth"]
    assert shown["warning"] == "EXCEEDED"
    assert shown["warningAt"] is not None
    # Warned, never refused: CloudFront cannot be told to stop one user's media cheaply.
    assert fetch(stack, url).status_code == 200
    get_settings.cache_clear()


def test_bandwidth_rows_are_not_storage_and_reconcile_leaves_them_alone(stack: Stack) -> None:
    url = read(stack, processed(stack))["cdnUrl"]
    fetch(stack, url)
    served = bandwidth_row(stack)["bytes"]

    usage = stack.call("GET", "/media/usage").get_json()
    breakdown = stack.call("GET", "/media/usage/breakdown").get_json()
    drift = reconcile_user(current_services(), "alice", fix=True)

    assert usage["totalFiles"] == 1
    assert "bandwidth" not in json.dumps(breakdown)
    assert drift.rows == []
    assert bandwidth_row(stack)["bytes"] == served


# --- count_bandwidth: CloudFront's log files -------------------------------------------------


@dataclass
class LogBucket:
    """The CDN's log bucket, notifying a queue of each new log file (as on AWS)."""

    s3: Any
    sqs: Any
    queue_url: str
    queue_arn: str

    def write(self, data: bytes, unique: str = "a1b2c3d4") -> dict[str, Any]:
        """A log file CloudFront wrote; the SQS event count_bandwidth gets for it."""
        self.s3.put_object(Bucket=LOG_BUCKET, Key=log_key("cdn-logs/", unique), Body=data)
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        assert len(messages) == 1, messages
        return sqs_event(messages, self.queue_arn, CONFIG.region)


@pytest.fixture
def log_bucket(stack: Stack) -> LogBucket:
    s3 = boto3.client("s3", region_name=CONFIG.region)
    sqs = boto3.client("sqs", region_name=CONFIG.region)
    s3.create_bucket(Bucket=LOG_BUCKET)
    queue_url = sqs.create_queue(QueueName="mediaport-cdn-log-files")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=LOG_BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "cdn-logs/"},
                                {"Name": "suffix", "Value": ".gz"},
                            ]
                        }
                    },
                }
            ]
        },
    )
    # S3's test event, sent when the notification is set up: acknowledged, counts nothing.
    test_events = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    if test_events:
        event = sqs_event(test_events, queue_arn, CONFIG.region)
        assert invoke("count_bandwidth", event)["batchItemFailures"] == []
    return LogBucket(s3, sqs, queue_url, queue_arn)


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def test_a_log_file_adds_each_owners_bytes_to_their_month_once(
    stack: Stack, log_bucket: LogBucket
) -> None:
    alices = processed(stack)
    bobs = processed(stack, user="bob")
    a_key = stack.asset_item(alices)["key"]
    a_thumb = next(iter(stack.asset_item(alices)["variants"].values()))["key"]
    b_key = stack.asset_item(bobs)["key"]
    event = log_bucket.write(
        log_file(
            Request(f"/{a_key}", 10_000, date=today()),
            Request(f"/{a_thumb}", 2_000, date=today()),
            Request(f"/{a_thumb}", 300, date=today(), status=304),
            Request(f"/{b_key}", 5_000, date=today()),
            Request(f"/{b_key}", 700, date=today(), status=403),
            Request("/media/carol/6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b/gone.jpg", 900),
        )
    )

    assert invoke("count_bandwidth", event)["batchItemFailures"] == []
    # SQS delivers the same message again (at least once): nothing is added.
    assert invoke("count_bandwidth", event)["batchItemFailures"] == []

    assert bandwidth_row(stack, "alice")["bytes"] == 12_000
    assert bandwidth_row(stack, "bob")["bytes"] == 5_000
    shown = stack.call("GET", "/media/usage", user="bob").get_json()["bandwidth"]
    assert shown["usedBytes"] == 5_000


def test_two_log_files_add_up(stack: Stack, log_bucket: LogBucket) -> None:
    key = stack.asset_item(processed(stack))["key"]

    invoke("count_bandwidth", log_bucket.write(log_file(Request(f"/{key}", 100, date=today()))))
    invoke(
        "count_bandwidth",
        log_bucket.write(log_file(Request(f"/{key}", 50, date=today())), unique="e5f6a7b8"),
    )

    assert bandwidth_row(stack)["bytes"] == 150


def test_a_log_file_warns_an_owner_past_80_percent(
    stack: Stack, log_bucket: LogBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiers = {"free": {"storageBytes": 1024**3, "maxFiles": 100, "bandwidthBytes": 1000}}
    monkeypatch.setenv("MEDIAPORT_TIERS", json.dumps(tiers))
    get_settings.cache_clear()
    key = stack.asset_item(processed(stack))["key"]

    invoke("count_bandwidth", log_bucket.write(log_file(Request(f"/{key}", 850, date=today()))))

    assert bandwidth_row(stack)["warningLevel"] == 80
    assert stack.call("GET", "/media/usage").get_json()["bandwidth"]["warning"] == "APPROACHING"
    get_settings.cache_clear()


def test_a_file_that_is_not_a_log_is_skipped(stack: Stack, log_bucket: LogBucket) -> None:
    event = log_bucket.write(b"\x1f\x8bnot gzip at all")

    assert invoke("count_bandwidth", event)["batchItemFailures"] == []
    assert bandwidth_row(stack) == {}


def test_a_log_file_that_cannot_be_counted_now_is_delivered_again(
    stack: Stack, log_bucket: LogBucket
) -> None:
    key = stack.asset_item(processed(stack))["key"]
    event = log_bucket.write(log_file(Request(f"/{key}", 100, date=today())))

    with aws_fails(
        current_services().usage.record._get_connection().connection.client, "TransactWriteItems"
    ):
        failed = invoke("count_bandwidth", event)["batchItemFailures"]
    assert [item["itemIdentifier"] for item in failed] == [event["Records"][0]["messageId"]]
    assert bandwidth_row(stack) == {}

    assert invoke("count_bandwidth", event)["batchItemFailures"] == []
    assert bandwidth_row(stack)["bytes"] == 100
