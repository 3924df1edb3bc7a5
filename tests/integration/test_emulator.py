"""The promises the patched emulator keeps for the local stack and the tests: DynamoDB's.

A transaction checks every condition before it writes, and writes all or nothing (its
stream records too). The local stack and every integration test rely on it: Mediaport's
counts change in the same transaction as the state they count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local.emulator import keep_aws_promises

REGION = "us-east-1"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    keep_aws_promises()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        for name in ("things", "counts"):
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
        yield client


def _item(client: Any, table: str, key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(
        TableName=table, Key={"id": {"S": key}}, ConsistentRead=True
    ).get("Item")
    return item


def _stream_events(client: Any, table: str) -> list[str]:
    # (botocore would address streams by account id, which the emulator does not serve)
    streams = boto3.client(
        "dynamodbstreams", region_name=REGION, config=Config(account_id_endpoint_mode="disabled")
    )
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [record["eventName"] for record in records]


def _start(client: Any) -> None:
    client.put_item(TableName="things", Item={"id": {"S": "a"}, "status": {"S": "PENDING"}})
    client.put_item(TableName="counts", Item={"id": {"S": "u"}, "files": {"N": "7"}})


def _ready_and_count(files_at_most: int, add: str = "1") -> list[dict[str, Any]]:
    return [
        {
            "Update": {
                "TableName": "things",
                "Key": {"id": {"S": "a"}},
                "UpdateExpression": "SET #s = :ready",
                "ConditionExpression": "#s = :pending",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":ready": {"S": "READY"},
                    ":pending": {"S": "PENDING"},
                },
            }
        },
        {
            "Update": {
                "TableName": "counts",
                "Key": {"id": {"S": "u"}},
                "UpdateExpression": "ADD files :one",
                "ConditionExpression": "files <= :most",
                "ExpressionAttributeValues": {
                    ":one": {"N": add} if add.isdigit() else {"S": add},
                    ":most": {"N": str(files_at_most)},
                },
            }
        },
    ]


def test_a_transaction_that_fits_writes_every_item(dynamodb: Any) -> None:
    _start(dynamodb)
    dynamodb.transact_write_items(TransactItems=_ready_and_count(files_at_most=7))
    assert _item(dynamodb, "things", "a") == {"id": {"S": "a"}, "status": {"S": "READY"}}
    assert _item(dynamodb, "counts", "u") == {"id": {"S": "u"}, "files": {"N": "8"}}
    assert _stream_events(dynamodb, "things") == ["INSERT", "MODIFY"]


def test_a_refused_condition_writes_nothing_and_names_the_refused_write(dynamodb: Any) -> None:
    _start(dynamodb)
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=_ready_and_count(files_at_most=6))
    reasons = [reason["Code"] for reason in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert _item(dynamodb, "things", "a") == {"id": {"S": "a"}, "status": {"S": "PENDING"}}
    assert _item(dynamodb, "counts", "u") == {"id": {"S": "u"}, "files": {"N": "7"}}
    assert _stream_events(dynamodb, "things") == ["INSERT"]


def test_a_write_that_fails_after_another_is_undone_with_its_stream_record(dynamodb: Any) -> None:
    _start(dynamodb)
    # ADD of a string to a number: the conditions hold, the second write cannot be made
    with pytest.raises(ClientError) as failed:
        dynamodb.transact_write_items(TransactItems=_ready_and_count(files_at_most=7, add="x"))
    assert failed.value.response["Error"]["Code"] in {
        "TransactionCanceledException",
        "ValidationException",
    }
    assert _item(dynamodb, "things", "a") == {"id": {"S": "a"}, "status": {"S": "PENDING"}}
    assert _item(dynamodb, "counts", "u") == {"id": {"S": "u"}, "files": {"N": "7"}}
    assert _stream_events(dynamodb, "things") == ["INSERT"]


def test_a_new_item_of_an_undone_transaction_is_gone(dynamodb: Any) -> None:
    _start(dynamodb)
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "things", "Item": {"id": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": "counts",
                        "Key": {"id": {"S": "u"}},
                        "UpdateExpression": "ADD files :x",
                        "ExpressionAttributeValues": {":x": {"S": "x"}},
                    }
                },
            ]
        )
    assert _item(dynamodb, "things", "new") is None


def test_two_writes_of_one_item_are_refused(dynamodb: Any) -> None:
    _start(dynamodb)
    twice = _ready_and_count(files_at_most=7)[:1] * 2
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=twice)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _item(dynamodb, "things", "a") == {"id": {"S": "a"}, "status": {"S": "PENDING"}}


def test_a_put_without_its_key_is_a_validation_error(dynamodb: Any) -> None:
    _start(dynamodb)
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "things", "Item": {"status": {"S": "x"}}}}]
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Missing the key id" in refused.value.response["Error"]["Message"]
