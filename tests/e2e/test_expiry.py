"""Expiry in the running local stack: an asset record DynamoDB's TTL removes takes its
leftover files with it (the local stack's stream worker stands in for TTL and for
Lambda's stream mapping)."""

import time

import boto3
import requests

from tests import samples
from tests.e2e.conftest import LocalStack


def _wait_until(condition, within_seconds: float = 30) -> None:
    deadline = time.monotonic() + within_seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.5)


def test_an_expired_rejected_asset_leaves_no_file_behind(local_stack: LocalStack) -> None:
    config = local_stack.config
    s3 = boto3.client("s3", endpoint_url=local_stack.aws_endpoint, region_name=config.region)
    table = boto3.resource(
        "dynamodb", endpoint_url=local_stack.aws_endpoint, region_name=config.region
    ).Table(config.table_name)
    data = samples.HTML_BYTES
    ticket = requests.post(
        f"{local_stack.api_url}/media/presign",
        json={"filename": "x.png", "contentType": "image/png", "size": len(data)},
        headers=local_stack.auth(),
        timeout=10,
    ).json()
    requests.put(ticket["uploadUrl"], data=data, headers=ticket["headers"], timeout=30)

    def status() -> str:
        return str(table.get_item(Key={"assetId": ticket["assetId"]})["Item"]["status"])

    _wait_until(lambda: status() == "REJECTED")  # the S3 event path rejected the spoof
    # Given a variant an interrupted cleanup left under derived/ (which never notifies)...
    leftover = f"derived/alice/{ticket['assetId']}/0123abcd/128.webp"
    s3.put_object(Bucket=config.bucket_name, Key=leftover, Body=samples.webp_bytes())
    # ...when the REJECTED record's time is up...
    table.update_item(
        Key={"assetId": ticket["assetId"]},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": int(time.time()) - 1},
    )

    # ...then the record and the leftover are both gone.
    def gone() -> bool:
        record = table.get_item(Key={"assetId": ticket["assetId"]}).get("Item")
        listed = s3.list_objects_v2(Bucket=config.bucket_name, Prefix=leftover)
        return record is None and listed.get("KeyCount", 0) == 0

    _wait_until(gone)
