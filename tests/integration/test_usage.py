"""Storage usage against moto: counted in the transaction of each state change, refused
early when an upload cannot fit, enforced at READY, and shown by the usage routes."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest

from infra.local.tokens import DEV_SIGNING_KEY, dev_claims
from mediaport.config import get_settings
from mediaport.services import current_services
from mediaport.settlement import settle_upload
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.faults import aws_fails
from tests.integration.test_processing import deliver, receive_all

TINY = {"storageBytes": 10_000, "maxFiles": 3}


@pytest.fixture
def tiers(monkeypatch: pytest.MonkeyPatch, stack: Stack) -> Stack:
    """The stack with tiers free, pro and tiny (10,000 bytes, 3 files)."""
    configured = {
        "free": {"storageBytes": 1024**3, "maxFiles": 10_000},
        "pro": {"storageBytes": 100 * 1024**3, "maxFiles": 1_000_000},
        "tiny": TINY,
    }
    monkeypatch.setenv("MEDIAPORT_TIERS", json.dumps(configured))
    get_settings.cache_clear()
    return stack


def token_for(user: str, tier: str | None) -> dict[str, str]:
    claims = dev_claims(user)
    if tier is not None:
        claims["custom:tier"] = tier
    return {"Authorization": f"Bearer {jwt.encode(claims, DEV_SIGNING_KEY, algorithm='HS256')}"}


def usage_of(stack: Stack, user: str = "alice", tier: str | None = None) -> dict[str, Any]:
    response = stack.call("GET", "/media/usage", user=None, headers=token_for(user, tier))
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def pdf_of(size: int) -> bytes:
    return samples.PDF_BYTES + b"\n" * (size - len(samples.PDF_BYTES))


def presign(stack: Stack, size: int, tier: str | None = "tiny", user: str = "alice") -> Any:
    return stack.call(
        "POST",
        "/media/presign",
        user=None,
        headers=token_for(user, tier),
        json={"filename": "a.pdf", "contentType": "application/pdf", "size": size},
    )


def uploaded(stack: Stack, size: int, tier: str | None = "tiny") -> dict[str, Any]:
    response = presign(stack, size, tier)
    assert response.status_code == 201, response.get_data(as_text=True)
    ticket: dict[str, Any] = response.get_json()
    stack.upload(ticket, pdf_of(size))
    return ticket


def confirm(stack: Stack, asset_id: str) -> Any:
    return stack.call("PATCH", f"/media/{asset_id}/confirm")


def test_a_new_user_has_no_usage_and_the_default_tier(stack: Stack) -> None:
    usage = usage_of(stack)

    assert usage["tier"] == "free"
    assert (usage["totalBytes"], usage["totalFiles"]) == (0, 0)
    assert usage["limitBytes"] == 1024**3
    assert usage["remainingBytes"] == 1024**3
    assert usage["warning"] is None


@pytest.mark.parametrize(("claimed", "tier"), [("pro", "pro"), ("gold", "free"), (None, "free")])
def test_the_tier_comes_from_the_claim_and_an_unknown_one_is_the_default(
    stack: Stack, claimed: str | None, tier: str
) -> None:
    assert usage_of(stack, tier=claimed)["tier"] == tier


def test_a_ready_upload_is_counted_once_in_total_type_scope_and_folder(stack: Stack) -> None:
    data = samples.jpeg_bytes()
    ticket = stack.start_upload(data, "image/jpeg", folder="trips/2026")
    assert confirm(stack, ticket["assetId"]).status_code == 204
    # The S3 event settles it again: nothing more is counted.
    assert deliver(stack, receive_all(stack)) == []
    assert confirm(stack, ticket["assetId"]).status_code == 204

    usage = usage_of(stack)
    breakdown = stack.call("GET", "/media/usage/breakdown").get_json()

    assert (usage["totalBytes"], usage["totalFiles"]) == (len(data), 1)
    assert breakdown["byType"]["image"] == {"bytes": len(data), "files": 1}
    assert breakdown["byType"]["video"] == {"bytes": 0, "files": 0}
    assert breakdown["byScope"] == {"GENERIC": {"bytes": len(data), "files": 1}}
    assert breakdown["byFolder"] == {"trips": {"bytes": len(data), "files": 1}}


def test_a_rejected_upload_counts_nothing(stack: Stack) -> None:
    ticket = stack.start_upload(samples.HTML_BYTES, "image/png")

    assert confirm(stack, ticket["assetId"]).status_code == 422
    assert usage_of(stack)["totalFiles"] == 0


def test_ten_concurrent_confirms_count_once(stack: Stack) -> None:
    data = pdf_of(5000)
    ticket = stack.start_upload(data, "application/pdf")
    asset = current_services().assets.get(ticket["assetId"])
    assert asset is not None

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda _: settle_upload(current_services(), asset), range(10)))

    assert (usage_of(stack)["totalBytes"], usage_of(stack)["totalFiles"]) == (5000, 1)


def test_an_upload_that_cannot_fit_is_refused_early_with_the_numbers(tiers: Stack) -> None:
    ticket = uploaded(tiers, 6000)
    confirm(tiers, ticket["assetId"])

    response = presign(tiers, 5000)

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "urn:mediaport:problem:quota-exceeded"
    assert (problem["limitBytes"], problem["usedBytes"], problem["remainingBytes"]) == (
        10_000,
        6000,
        4000,
    )
    assert presign(tiers, 4000).status_code == 201


@pytest.mark.parametrize("route", ["initiate", "direct"])
def test_multipart_initiate_and_direct_upload_refuse_early_too(tiers: Stack, route: str) -> None:
    if route == "initiate":
        response = tiers.call(
            "POST",
            "/media/upload/multipart/initiate",
            user=None,
            headers=token_for("alice", "tiny"),
            json={"filename": "a.pdf", "contentType": "application/pdf", "size": 20_000},
        )
    else:
        response = tiers.call(
            "POST",
            "/media/upload",
            user=None,
            headers=token_for("alice", "tiny"),
            data={"file": (__import__("io").BytesIO(pdf_of(20_000)), "a.pdf", "application/pdf")},
        )

    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.get_json()["type"].endswith("quota-exceeded")
    assert tiers.dynamodb.Table(tiers.table).scan()["Items"] == []


def test_one_file_more_than_the_tier_allows_is_refused(tiers: Stack) -> None:
    for _ in range(3):
        confirm(tiers, uploaded(tiers, 100)["assetId"])

    response = presign(tiers, 100)

    assert response.status_code == 403
    assert "3 of 3 files" in response.get_json()["detail"]


def test_uploads_presigned_while_there_was_room_cannot_exceed_the_limit(tiers: Stack) -> None:
    # Each was presigned while there was room for it; together they do not fit.
    tickets = [uploaded(tiers, 4000) for _ in range(3)]

    answers = [confirm(tiers, ticket["assetId"]).status_code for ticket in tickets]

    assert sorted(answers) == [204, 204, 422]
    usage = usage_of(tiers, tier="tiny")
    assert (usage["totalBytes"], usage["totalFiles"]) == (8000, 2)
    (rejected,) = [t for t, status in zip(tickets, answers, strict=True) if status == 422]
    item = tiers.asset_item(rejected["assetId"])
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "QUOTA_EXCEEDED")
    assert not tiers.object_exists(rejected["key"])
    problem = confirm(tiers, rejected["assetId"]).get_json()
    assert problem["rejectReason"] == "QUOTA_EXCEEDED"


def test_concurrent_settles_never_exceed_the_limit(tiers: Stack) -> None:
    # Each was presigned while there was room; together they are 16,000 bytes of 10,000.
    tickets = [uploaded(tiers, 4000) for _ in range(4)]
    assets = [current_services().assets.get(t["assetId"]) for t in tickets]

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda a: settle_upload(current_services(), a), assets))

    items = [tiers.asset_item(t["assetId"]) for t in tickets]
    outcomes = sorted((item["status"], item.get("rejectReason", "")) for item in items)
    assert outcomes == [("READY", "")] * 2 + [("REJECTED", "QUOTA_EXCEEDED")] * 2
    usage = usage_of(tiers, tier="tiny")
    assert (usage["totalBytes"], usage["totalFiles"]) == (8000, 2)


def test_a_failed_usage_write_leaves_the_asset_pending_and_nothing_counted(
    stack: Stack,
) -> None:
    ticket = stack.start_upload(pdf_of(5000), "application/pdf")

    client = current_services().assets.record._get_connection().connection.client
    with aws_fails(client, "TransactWriteItems", code="InternalServerError"):
        response = confirm(stack, ticket["assetId"])

    assert response.status_code == 503
    assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"
    assert usage_of(stack)["totalFiles"] == 0
    # The retry counts it, once.
    assert confirm(stack, ticket["assetId"]).status_code == 204
    assert (usage_of(stack)["totalBytes"], usage_of(stack)["totalFiles"]) == (5000, 1)


def test_crossing_80_percent_warns_once(tiers: Stack) -> None:
    confirm(tiers, uploaded(tiers, 8500)["assetId"])

    first = usage_of(tiers, tier="tiny")
    confirm(tiers, uploaded(tiers, 100)["assetId"])
    second = usage_of(tiers, tier="tiny")

    assert first["warning"] == "APPROACHING"
    assert first["storageWarningAt"] is not None
    assert first["percentUsed"] == 85.0
    assert second["storageWarningAt"] == first["storageWarningAt"]


def test_falling_below_80_percent_by_deleting_lets_the_next_crossing_warn_again(
    tiers: Stack,
) -> None:
    big = uploaded(tiers, 8500)["assetId"]
    confirm(tiers, big)
    first = usage_of(tiers, tier="tiny")["storageWarningAt"]

    assert tiers.call("DELETE", f"/media/{big}").status_code == 204
    cleared = usage_of(tiers, tier="tiny")
    confirm(tiers, uploaded(tiers, 8600)["assetId"])
    again = usage_of(tiers, tier="tiny")

    assert first is not None
    assert (cleared["warning"], cleared["percentUsed"]) == (None, 0.0)
    assert again["warning"] == "APPROACHING"
    assert again["storageWarningAt"] is not None
    assert again["storageWarningAt"] != first


def test_a_failed_overwrite_of_a_ready_asset_takes_its_bytes_out(stack: Stack) -> None:
    data = pdf_of(5000)
    ticket = stack.start_upload(data, "application/pdf", method="POST")
    confirm(stack, ticket["assetId"])
    assert usage_of(stack)["totalFiles"] == 1
    receive_all(stack)
    # The presigned POST form is sent again with other bytes of the same size.
    stack.upload(ticket, samples.HTML_BYTES + b" " * (5000 - len(samples.HTML_BYTES)))

    assert deliver(stack, receive_all(stack)) == []

    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"
    assert (usage_of(stack)["totalBytes"], usage_of(stack)["totalFiles"]) == (0, 0)


def test_the_same_s3_event_three_times_counts_once(stack: Stack) -> None:
    stack.start_upload(pdf_of(5000), "application/pdf")
    messages = receive_all(stack)

    for _ in range(3):
        assert deliver(stack, messages) == []

    assert (usage_of(stack)["totalBytes"], usage_of(stack)["totalFiles"]) == (5000, 1)
