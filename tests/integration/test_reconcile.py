"""Reconcile against moto: recompute usage from the assets, report drift, fix it on request,
and never overwrite a row a transition changed during the run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.lambdas import invoke, load_module
from infra.local.reconcile import scheduled_event
from mediaport.reconcile import reconcile_all, reconcile_user
from mediaport.services import current_services
from tests import samples
from tests.integration.conftest import CONFIG, Stack
from tests.integration.faults import aws_fails

USAGE_TABLE = CONFIG.usage_table_name


def upload_ready(stack: Stack, data: bytes, content_type: str, user: str = "alice") -> str:
    ticket = stack.start_upload(data, content_type, user=user)
    response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm", user=user)
    assert response.status_code == 204, response.get_data(as_text=True)
    return str(ticket["assetId"])


def usage_row(stack: Stack, user: str, dimension: str) -> dict[str, Any]:
    key = {"userId": user, "dimension": dimension}
    item: dict[str, Any] = stack.dynamodb.Table(USAGE_TABLE).get_item(Key=key)["Item"]
    return item


def tamper(stack: Stack, user: str, dimension: str, bytes_: int, files: int) -> None:
    """Change a row behind the transactions' back (updatedAt as a transition sets it)."""
    stack.dynamodb.Table(USAGE_TABLE).update_item(
        Key={"userId": user, "dimension": dimension},
        UpdateExpression="SET #b = :b, files = :f, updatedAt = :u",
        ExpressionAttributeNames={"#b": "bytes"},
        ExpressionAttributeValues={
            ":b": bytes_,
            ":f": files,
            ":u": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000"),
        },
    )


def drifting_rows(stack: Stack) -> list[tuple[str, str, str]]:
    return [
        (result.user_id, row.dimension, row.outcome)
        for result in reconcile_all(current_services(), fix=False)
        for row in result.rows
    ]


def test_after_real_uploads_reconcile_reports_zero_drift(stack: Stack) -> None:
    upload_ready(stack, samples.png_bytes(), "image/png")
    upload_ready(stack, samples.PDF_BYTES, "application/pdf")
    upload_ready(stack, samples.jpeg_bytes(120, 80), "image/jpeg", user="bob")

    results = reconcile_all(current_services(), fix=False)

    assert sorted(result.user_id for result in results) == ["alice", "bob"]
    assert [result.rows for result in results] == [[], []]


def test_a_tampered_row_is_reported_then_fixed_and_then_clean(stack: Stack) -> None:
    photo = samples.png_bytes()
    upload_ready(stack, photo, "image/png")
    tamper(stack, "alice", "total", 999, 7)

    (reported,) = reconcile_all(current_services(), fix=False)
    (row,) = reported.rows
    assert (row.dimension, row.outcome) == ("total", "reported")
    assert (row.stored_bytes, row.stored_files) == (999, 7)
    assert (row.expected_bytes, row.expected_files) == (len(photo), 1)
    assert usage_row(stack, "alice", "total")["bytes"] == 999  # reporting changes nothing

    (fixed,) = reconcile_all(current_services(), fix=True)
    assert [(r.dimension, r.outcome) for r in fixed.rows] == [("total", "fixed")]
    total = usage_row(stack, "alice", "total")
    assert (total["bytes"], total["files"]) == (len(photo), 1)
    assert "calculatedAt" in total

    assert drifting_rows(stack) == []


def test_a_row_that_should_be_zero_and_a_missing_row_are_drift_too(stack: Stack) -> None:
    photo = samples.png_bytes()
    upload_ready(stack, photo, "image/png")
    stack.dynamodb.Table(USAGE_TABLE).delete_item(
        Key={"userId": "alice", "dimension": "type#image"}
    )
    tamper(stack, "alice", "type#video", 5000, 2)

    (result,) = reconcile_all(current_services(), fix=True)

    assert [(r.dimension, r.outcome) for r in result.rows] == [
        ("type#image", "fixed"),
        ("type#video", "fixed"),
    ]
    image, video = usage_row(stack, "alice", "type#image"), usage_row(stack, "alice", "type#video")
    assert (image["bytes"], image["files"]) == (len(photo), 1)
    assert (video["bytes"], video["files"]) == (0, 0)
    assert drifting_rows(stack) == []


def test_a_user_whose_rows_were_all_lost_is_found_from_the_assets(stack: Stack) -> None:
    photo = samples.png_bytes()
    upload_ready(stack, photo, "image/png", user="carol")
    table = stack.dynamodb.Table(USAGE_TABLE)
    for item in table.scan()["Items"]:
        table.delete_item(Key={"userId": item["userId"], "dimension": item["dimension"]})

    (result,) = reconcile_all(current_services(), fix=True)

    assert result.user_id == "carol"
    assert {r.dimension for r in result.rows} == {"total", "type#image", "scope#GENERIC", "folder#"}
    assert all(r.outcome == "fixed" for r in result.rows)
    assert usage_row(stack, "carol", "total")["bytes"] == len(photo)
    assert drifting_rows(stack) == []


def test_a_row_changed_during_the_run_is_reported_not_overwritten(stack: Stack) -> None:
    upload_ready(stack, samples.png_bytes(), "image/png")
    tamper(stack, "alice", "total", 999, 7)
    services = current_services()
    usage_client = services.usage.record._get_connection().connection.client

    # A transition lands just before the correction is written.
    def transition_lands(_request: dict[str, Any]) -> None:
        tamper(stack, "alice", "total", 12345, 3)

    with aws_fails(usage_client, "UpdateItem", when=lambda _: False, before=transition_lands):
        result = reconcile_user(services, "alice", fix=True)

    assert [(r.dimension, r.outcome) for r in result.rows] == [("total", "changed meanwhile")]
    assert usage_row(stack, "alice", "total")["bytes"] == 12345
    assert result.drifting == []


def test_a_row_changed_while_the_assets_are_read_is_not_taken_for_drift(stack: Stack) -> None:
    upload_ready(stack, samples.png_bytes(), "image/png")
    tamper(stack, "alice", "total", 999, 7)
    services = current_services()
    asset_client = services.assets.record._get_connection().connection.client
    moved: list[bool] = []

    def transition_lands(_request: dict[str, Any]) -> None:
        if not moved:
            moved.append(True)
            tamper(stack, "alice", "total", 4242, 2)

    with aws_fails(asset_client, "Query", when=lambda _: False, before=transition_lands):
        result = reconcile_user(services, "alice", fix=True)

    assert [(r.dimension, r.outcome) for r in result.rows] == [("total", "changed meanwhile")]
    assert usage_row(stack, "alice", "total")["bytes"] == 4242


def test_the_scheduled_function_reports_and_with_its_setting_fixes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_ready(stack, samples.png_bytes(), "image/png")
    tamper(stack, "alice", "total", 999, 7)
    handler = load_module("reconcile_usage")
    handler.reconcile_settings.cache_clear()

    summary = invoke("reconcile_usage", scheduled_event(CONFIG.region))

    assert summary["fix"] is False
    assert (summary["users"], summary["driftingRows"], summary["fixedRows"]) == (1, 1, 0)
    assert summary["drift"][0]["rows"][0]["dimension"] == "total"

    monkeypatch.setenv("MEDIAPORT_RECONCILE_FIX", "true")
    handler.reconcile_settings.cache_clear()
    try:
        fixed = invoke("reconcile_usage", scheduled_event(CONFIG.region))
    finally:
        handler.reconcile_settings.cache_clear()

    assert (fixed["fix"], fixed["fixedRows"]) == (True, 1)
    assert drifting_rows(stack) == []
