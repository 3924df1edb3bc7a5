"""Records written before the status index get its key, and then list by status."""

import boto3

from infra.migrations.backfill_status_index import backfill
from tests import samples
from tests.integration.conftest import Stack


def test_records_older_than_the_status_index_list_by_status_once_backfilled(
    stack: Stack,
) -> None:
    # Given a READY asset stored before the index existed (no statusCreatedAt)...
    ticket = stack.start_upload(samples.png_bytes(), "image/png")
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204
    table = stack.dynamodb.Table(stack.table)
    table.update_item(Key={"assetId": ticket["assetId"]}, UpdateExpression="REMOVE statusCreatedAt")
    assert stack.call("GET", "/media?status=READY").get_json()["items"] == []

    # ...the backfill sets its key (and does nothing the second time)...
    client = boto3.client("dynamodb", region_name="us-east-1")
    assert backfill(client, stack.table) == 1
    assert backfill(client, stack.table) == 0

    # ...and the listing by status finds it.
    listed = stack.call("GET", "/media?status=READY").get_json()["items"]
    assert [item["assetId"] for item in listed] == [ticket["assetId"]]
