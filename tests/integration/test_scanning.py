"""Malware scanning with quarantine: with scanning on, a READY asset waits for its scan
(not served), a threat quarantines it (its variants go, its attachments stop showing),
and an admin's release serves it again from a copy outside the scanned prefix.

GuardDuty's result reaches ``scan_result`` as its real EventBridge event (built by the
local stand-in's ``scan_result_event``), and its tag is on the object, as on AWS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.lambdas import invoke
from infra.local.scanner import scan_result_event
from infra.local.tokens import issue_token
from mediaport import names
from mediaport.config import get_settings
from mediaport.scanning import NotSettledYet
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.jobs import run_jobs
from tests.integration.test_processing import deliver, receive_all

CLEAN, INFECTED = names.SCAN_CLEAN_TAG_VALUE, names.SCAN_INFECTED_TAG_VALUE
ADMIN = {"Authorization": f"Bearer {issue_token('root', admin=True)}"}


@pytest.fixture
def scanning(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("MEDIAPORT_SCAN", "local")
    get_settings.cache_clear()
    yield stack
    get_settings.cache_clear()


def uploaded(stack: Stack, data: bytes | None = None, user: str = "alice") -> str:
    ticket = stack.start_upload(data or samples.png_bytes(), "image/png", user=user)
    return str(ticket["assetId"])


def confirm(stack: Stack, asset_id: str, user: str = "alice") -> Any:
    return stack.call("PATCH", f"/media/{asset_id}/confirm", user=user)


def scanned(stack: Stack, asset_id: str, result: str, *, deliver_event: bool = True) -> Any:
    """GuardDuty's part: tag the object with its result, then send the result event."""
    key = stack.asset_item(asset_id)["key"]
    etag = stack.s3.head_object(Bucket=stack.bucket, Key=key)["ETag"]
    tags = stack.s3.get_object_tagging(Bucket=stack.bucket, Key=key)["TagSet"]
    tags = [t for t in tags if t["Key"] != names.SCAN_TAG_KEY]
    stack.s3.put_object_tagging(
        Bucket=stack.bucket,
        Key=key,
        Tagging={"TagSet": [*tags, {"Key": names.SCAN_TAG_KEY, "Value": result}]},
    )
    event = scan_result_event(
        bucket=stack.bucket, key=key, etag=etag, result=result, region="us-east-1"
    )
    return invoke("scan_result", event) if deliver_event else event


def read(stack: Stack, asset_id: str, user: str = "alice") -> dict[str, Any]:
    response = stack.call("GET", f"/media/{asset_id}", user=user)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def test_a_ready_asset_is_not_served_until_its_scan_is_clean(scanning: Stack) -> None:
    asset = uploaded(scanning)
    assert confirm(scanning, asset).status_code == 204

    waiting = read(scanning, asset)
    assert (waiting["status"], waiting["scanStatus"]) == ("READY", "PENDING")
    assert waiting["url"] is None
    assert waiting["variants"] == {}
    refused = {
        "download": scanning.call("GET", f"/media/{asset}/download"),
        "resize": scanning.call("POST", f"/media/{asset}/resize", json={"width": 10}),
        "attach": scanning.call("PUT", f"/media/{asset}/attachments/vehicle/v1", json={}),
    }
    for what, response in refused.items():
        assert response.status_code == 409, (what, response.get_data(as_text=True))
        assert response.get_json()["type"].endswith("asset-not-served"), what

    assert scanned(scanning, asset, CLEAN) == {"outcome": "RECORDED"}

    served = read(scanning, asset)
    assert (served["status"], served["scanStatus"]) == ("READY", "CLEAN")
    assert served["url"]
    assert served["scannedAt"]
    assert scanning.call("GET", f"/media/{asset}/download").status_code == 302


def test_a_result_before_the_upload_is_verified_is_read_from_the_tag(scanning: Stack) -> None:
    asset = uploaded(scanning)
    event = scanned(scanning, asset, CLEAN, deliver_event=False)
    with pytest.raises(NotSettledYet):
        invoke("scan_result", event)  # delivered again later, by Lambda's retries

    assert confirm(scanning, asset).status_code == 204

    item = scanning.asset_item(asset)
    assert (item["status"], item["scanStatus"], item["scanResult"]) == ("READY", "CLEAN", CLEAN)
    # The pending tag went, the scan's stayed.
    tags = scanning.s3.get_object_tagging(Bucket=scanning.bucket, Key=item["key"])["TagSet"]
    assert tags == [{"Key": names.SCAN_TAG_KEY, "Value": CLEAN}]
    # The retried event then changes nothing.
    assert invoke("scan_result", event) == {"outcome": "IGNORED"}


def test_a_threat_found_before_confirm_quarantines_at_confirm(scanning: Stack) -> None:
    asset = uploaded(scanning)
    scanned(scanning, asset, INFECTED, deliver_event=False)

    response = confirm(scanning, asset)

    assert response.status_code == 422
    assert response.get_json()["type"].endswith("asset-quarantined")
    item = scanning.asset_item(asset)
    assert (item["status"], item["scanStatus"]) == ("QUARANTINED", "INFECTED")
    # Counted like any stored file: the bytes are the owner's until deleted.
    usage = scanning.call("GET", "/media/usage").get_json()
    assert usage["totalFiles"] == 1


def test_a_threat_quarantines_a_ready_asset_its_variants_and_attachments(
    scanning: Stack,
) -> None:
    asset = uploaded(scanning, samples.encode(samples.photo(800, 600), "PNG"))
    deliver(scanning, receive_all(scanning))  # settled and thumbnails made
    scanned(scanning, asset, CLEAN)
    attach = scanning.call("PUT", f"/media/{asset}/attachments/vehicle/v1", json={})
    assert attach.status_code in (200, 201), attach.get_data(as_text=True)
    variant_keys = [v["key"] for v in scanning.asset_item(asset)["variants"].values()]
    assert variant_keys
    assert all(scanning.object_exists(k) for k in variant_keys)
    shown = scanning.call("GET", "/attachments/vehicle/v1", user="bob").get_json()
    assert [i["assetId"] for i in shown["items"]] == [asset]

    # A rescan (or a late result) finds a threat.
    scanning.s3.delete_object_tagging(Bucket=scanning.bucket, Key=scanning.asset_item(asset)["key"])
    assert scanned(scanning, asset, INFECTED) == {"outcome": "QUARANTINED"}

    quarantined = read(scanning, asset)
    assert (quarantined["status"], quarantined["scanStatus"]) == ("QUARANTINED", "INFECTED")
    assert quarantined["url"] is None
    assert quarantined["variants"] == {}
    assert not any(scanning.object_exists(k) for k in variant_keys)
    shown = scanning.call("GET", "/attachments/vehicle/v1", user="bob").get_json()
    assert shown["items"] == []
    assert scanning.call("GET", f"/media/{asset}/download").status_code == 409


def test_duplicate_and_foreign_results_change_nothing(scanning: Stack) -> None:
    asset = uploaded(scanning)
    confirm(scanning, asset)
    event = scanned(scanning, asset, CLEAN, deliver_event=False)
    assert invoke("scan_result", event) == {"outcome": "RECORDED"}
    after = scanning.asset_item(asset)

    stale = {**event, "detail": {**event["detail"]}}
    stale["detail"]["s3ObjectDetails"] = {
        **event["detail"]["s3ObjectDetails"],
        "eTag": "0" * 32,
    }
    other_bucket = {**event, "detail": {**event["detail"]}}
    other_bucket["detail"]["s3ObjectDetails"] = {
        **event["detail"]["s3ObjectDetails"],
        "bucketName": "someone-elses",
    }
    for ignored in (event, stale, other_bucket):
        assert invoke("scan_result", ignored) == {"outcome": "IGNORED"}

    assert scanning.asset_item(asset) == after


@pytest.mark.parametrize("result", ["UNSUPPORTED", "ACCESS_DENIED", "FAILED"])
def test_a_scan_that_could_not_be_done_blocks_by_default(scanning: Stack, result: str) -> None:
    asset = uploaded(scanning)
    confirm(scanning, asset)

    scanned(scanning, asset, result)

    item = scanning.asset_item(asset)
    assert (item["status"], item["scanStatus"], item["scanResult"]) == (
        "QUARANTINED",
        "ERROR",
        result,
    )


def test_the_serve_policy_serves_a_scan_that_could_not_be_done(
    scanning: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAPORT_SCAN_ERROR_POLICY", "serve")
    get_settings.cache_clear()
    asset = uploaded(scanning)
    confirm(scanning, asset)

    scanned(scanning, asset, "UNSUPPORTED")

    served = read(scanning, asset)
    assert (served["status"], served["scanStatus"]) == ("READY", "ERROR")
    assert served["url"]


def test_an_admin_lists_quarantined_assets_of_every_user(scanning: Stack) -> None:
    infected = uploaded(scanning, user="alice")
    failed = uploaded(scanning, user="bob")
    clean = uploaded(scanning, user="bob")
    for asset, user in ((infected, "alice"), (failed, "bob"), (clean, "bob")):
        confirm(scanning, asset, user=user)
    scanned(scanning, infected, INFECTED)
    scanned(scanning, failed, "FAILED")
    scanned(scanning, clean, CLEAN)

    def listed(query: str = "") -> list[str]:
        response = scanning.call(
            "GET", f"/admin/media/quarantined{query}", user=None, headers=ADMIN
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["assetId"] for item in response.get_json()["items"]]

    assert set(listed()) == {infected, failed}
    assert listed("?scanStatus=INFECTED") == [infected]
    assert listed("?scanStatus=ERROR") == [failed]
    assert listed("?userId=alice") == [infected]
    first = scanning.call(
        "GET", "/admin/media/quarantined?limit=1", user=None, headers=ADMIN
    ).get_json()
    rest = scanning.call(
        "GET",
        "/admin/media/quarantined",
        user=None,
        headers=ADMIN,
        query_string={"limit": "1", "cursor": first["nextCursor"]},
    ).get_json()
    assert {first["items"][0]["assetId"], rest["items"][0]["assetId"]} == {infected, failed}
    foreign = scanning.call(
        "GET",
        "/admin/media/quarantined",
        user=None,
        headers=ADMIN,
        query_string={"scanStatus": "ERROR", "cursor": first["nextCursor"]},
    )
    assert foreign.status_code == 400
    assert scanning.call("GET", "/admin/media/quarantined", user="alice").status_code == 403


def test_a_release_serves_the_asset_again_from_a_copy(scanning: Stack) -> None:
    original = samples.encode(samples.photo(800, 600), "PNG")
    asset = uploaded(scanning, original)
    assert confirm(scanning, asset).status_code == 204
    scanned(scanning, asset, INFECTED)
    before = scanning.asset_item(asset)
    usage_before = scanning.call("GET", "/media/usage").get_json()

    refused = scanning.call(
        "POST", f"/admin/media/{asset}/release", user="alice", json={"reason": "mine"}
    )
    response = scanning.call(
        "POST",
        f"/admin/media/{asset}/release",
        user=None,
        headers=ADMIN,
        json={"reason": "a false positive: the EICAR string is a test file"},
    )

    assert refused.status_code == 403
    assert response.status_code == 200, response.get_data(as_text=True)
    released = response.get_json()
    assert (released["status"], released["scanStatus"], released["releasedBy"]) == (
        "READY",
        "CLEAN",
        "root",
    )
    assert released["releaseReason"].startswith("a false positive")
    item = scanning.asset_item(asset)
    assert item["key"].startswith(names.RELEASED_PREFIX)
    assert not scanning.object_exists(before["key"])
    copy = scanning.s3.get_object(Bucket=scanning.bucket, Key=item["key"])
    assert copy["Body"].read() == original
    assert item["checksum"] == copy["ETag"].strip('"')
    # Its thumbnails are made again, from the copy, through the jobs queue.
    assert run_jobs(scanning) == 1
    served = read(scanning, asset)
    assert served["url"]
    assert set(served["variants"]) == {"1024", "512", "128"}
    assert (
        scanning.call("GET", "/media/usage").get_json()["totalBytes"] == usage_before["totalBytes"]
    )
    # The threat's event, delivered late again, changes nothing now: it names the old key.
    event = scan_result_event(
        bucket=scanning.bucket,
        key=before["key"],
        etag=before["checksum"],
        result=INFECTED,
        region="us-east-1",
    )
    assert invoke("scan_result", event) == {"outcome": "IGNORED"}
    assert scanning.asset_item(asset)["status"] == "READY"


def test_release_refuses_what_is_not_quarantined(scanning: Stack) -> None:
    asset = uploaded(scanning)
    confirm(scanning, asset)
    scanned(scanning, asset, CLEAN)

    not_quarantined = scanning.call(
        "POST", f"/admin/media/{asset}/release", user=None, headers=ADMIN, json={"reason": "x"}
    )
    unknown = scanning.call(
        "POST",
        "/admin/media/00000000-0000-4000-8000-000000000000/release",
        user=None,
        headers=ADMIN,
        json={"reason": "x"},
    )

    assert not_quarantined.status_code == 409
    assert not_quarantined.get_json()["type"].endswith("asset-not-quarantined")
    assert unknown.status_code == 404


def test_a_deleted_quarantined_asset_is_restored_to_quarantine(scanning: Stack) -> None:
    asset = uploaded(scanning)
    confirm(scanning, asset)
    scanned(scanning, asset, INFECTED)

    assert scanning.call("DELETE", f"/media/{asset}").status_code == 204
    assert scanning.call("POST", f"/media/{asset}/restore").status_code == 200

    assert scanning.asset_item(asset)["status"] == "QUARANTINED"
