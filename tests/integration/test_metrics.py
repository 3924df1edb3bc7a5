"""UploadsReady / UploadsRejected are counted once per transition, by whichever path made
it: confirm or the S3 event, in either order. The count is read from the CloudWatch EMF
documents the handlers print, with Powertools metrics enabled."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.integration.conftest import Stack
from tests.integration.test_processing import deliver, receive_all
from tests.samples import HTML_BYTES, encode, photo, truncated_jpeg


@pytest.fixture(autouse=True)
def metrics_on(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the stack's environment (which turns metrics off for the other tests)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Mediaport")


def counted(output: str) -> Counter[str]:
    """Every metric value in the EMF documents among the printed lines, summed by name."""
    totals: Counter[str] = Counter()
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            assert directive["Namespace"] == "Mediaport"
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                totals[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
    return totals


def settle_both_ways(stack: Stack, asset_id: str, confirm_first: bool) -> None:
    messages = receive_all(stack)
    if confirm_first:
        stack.call("PATCH", f"/media/{asset_id}/confirm")
        assert deliver(stack, messages) == []
    else:
        assert deliver(stack, messages) == []
        stack.call("PATCH", f"/media/{asset_id}/confirm")
    assert deliver(stack, messages) == []  # and a duplicate event


@pytest.mark.parametrize("confirm_first", [True, False], ids=["confirm-first", "event-first"])
def test_a_ready_upload_is_counted_once(
    stack: Stack, capsys: pytest.CaptureFixture[str], confirm_first: bool
) -> None:
    ticket = stack.start_upload(encode(photo(300, 200), "JPEG"), "image/jpeg")
    capsys.readouterr()

    settle_both_ways(stack, ticket["assetId"], confirm_first)

    totals = counted(capsys.readouterr().out)
    assert (totals["UploadsReady"], totals["UploadsRejected"]) == (1, 0)
    assert stack.asset_item(ticket["assetId"])["status"] == "READY"


@pytest.mark.parametrize("confirm_first", [True, False], ids=["confirm-first", "event-first"])
def test_a_rejected_upload_is_counted_once(
    stack: Stack, capsys: pytest.CaptureFixture[str], confirm_first: bool
) -> None:
    ticket = stack.start_upload(truncated_jpeg(), "image/jpeg")
    capsys.readouterr()

    settle_both_ways(stack, ticket["assetId"], confirm_first)

    totals = counted(capsys.readouterr().out)
    assert (totals["UploadsReady"], totals["UploadsRejected"]) == (0, 1)
    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"


def test_a_rejected_overwrite_is_counted_once(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    ticket = stack.start_upload(encode(photo(300, 200), "JPEG"), "image/jpeg")
    assert deliver(stack, receive_all(stack)) == []
    stack.s3.put_object(Bucket=stack.bucket, Key=ticket["key"], Body=HTML_BYTES)
    messages = receive_all(stack)
    capsys.readouterr()

    assert deliver(stack, messages) == []
    assert deliver(stack, messages) == []

    totals = counted(capsys.readouterr().out)
    assert (totals["UploadsReady"], totals["UploadsRejected"]) == (0, 1)
    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"
