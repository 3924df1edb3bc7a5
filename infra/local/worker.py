"""The event workers, standing in for Lambda's event source mappings.

``EventWorker`` drains one queue and calls one function with the same SQS event Lambda
would send, honouring partial failures: the local stack runs one for the upload queue
(process_upload) and one for the jobs queue (transform_media). ``StreamWorker`` stands in
for two services around the asset table: DynamoDB's TTL (moto never expires items) and
the stream mapping that hands ``expire_assets`` the records TTL made, in Lambda's DynamoDB
event shape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

from infra.local import lambdas
from infra.local.events import sqs_event
from mediaport import names

log = logging.getLogger("mediaport.local.worker")
PROCESS_FUNCTION = "process_upload"
TRANSFORM_FUNCTION = "transform_media"
EXPIRE_FUNCTION = "expire_assets"
# Messages one ReceiveMessage returns at most (SQS's own limit), and so a batch's size.
SQS_BATCH_SIZE = 10
# How DynamoDB signs the REMOVE records its TTL makes (and what the deployed mapping's
# filter lets through to expire_assets).
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
STREAM_BATCH_SIZE = 100
# Like the deployed mapping's retry attempts: then the batch is skipped (and logged).
STREAM_MAX_RETRIES = 3
# Batches read from one shard in one poll: a busy stream is caught up within a poll or two.
STREAM_MAX_BATCHES = 50


MessageListener = Callable[[list[dict[str, Any]]], None]


class EventWorker(threading.Thread):
    """Lambda's SQS event source mapping: one queue, one function, batches of up to ten.

    ``also_deliver``, when given, is handed every batch received too (after the function
    had it, whatever it answered): the local scanner hears of new uploads this way, as
    GuardDuty hears of them on AWS beside the upload queue (infra/local/scanner.py).
    """

    def __init__(
        self,
        queue_url: str,
        queue_arn: str,
        region: str,
        endpoint_url: str | None,
        function: str = PROCESS_FUNCTION,
        *,
        also_deliver: MessageListener | None = None,
    ) -> None:
        super().__init__(name=f"mediaport-{function}-worker", daemon=True)
        self.queue_url, self.queue_arn, self.region = queue_url, queue_arn, region
        self.function = function
        self.also_deliver = also_deliver
        self.sqs = boto3.client("sqs", region_name=region, endpoint_url=endpoint_url)
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:  # keep draining: one bad poll must not stop the local stack
                log.exception("%s worker poll failed", self.function)
                self._stopping.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive up to 10 messages and hand them to the function as one batch."""
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=SQS_BATCH_SIZE,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = sqs_event(messages, self.queue_arn, self.region)
        try:
            result = lambdas.invoke(self.function, event) or {}
        finally:
            if self.also_deliver is not None:
                self.also_deliver(messages)
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), SQS_BATCH_SIZE):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + SQS_BATCH_SIZE])
                ],
            )
        # Failed messages stay: SQS redelivers them after the visibility timeout and, after
        # the last receive the redrive policy allows, moves them to the dead-letter queue.
        return len(messages)


class StreamWorker(threading.Thread):
    """TTL and the stream mapping for the asset table, polled once a second."""

    def __init__(self, table_name: str, region: str, endpoint_url: str | None) -> None:
        super().__init__(name="mediaport-stream-worker", daemon=True)
        self.table_name, self.region = table_name, region
        self.dynamodb = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url)
        # botocore would address streams by account id, which the emulator does not serve.
        self.streams = boto3.client(
            "dynamodbstreams",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(account_id_endpoint_mode="disabled"),
        )
        self._stopping = threading.Event()
        # Where each shard is to be read from next: (iterator type, sequence number). A
        # fresh iterator each batch: moto replaces a table's stream shard object when it
        # rolls back a cancelled transaction, and an iterator kept across that would keep
        # reading the old one (and never see another record).
        self._positions: dict[str, tuple[str, str | None]] = {}
        self._failures: dict[str, int] = {}
        # Keys of the items this worker deleted as TTL would: their REMOVE records are
        # marked with TTL's identity, as DynamoDB marks its own.
        self._expired_keys: set[str] = set()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.expire_due_items()
                self.poll_once()
            except Exception:  # keep going: one bad poll must not stop the local stack
                log.exception("stream worker poll failed")
            self._stopping.wait(1)

    def expire_due_items(self, now: float | None = None) -> int:
        """Delete the items whose TTL attribute is due, as DynamoDB's TTL does."""
        moment = int(now if now is not None else time.time())
        expired = 0
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.table_name,
            FilterExpression="#ttl <= :now",
            ExpressionAttributeNames={"#ttl": names.TTL_ATTRIBUTE},
            ExpressionAttributeValues={":now": {"N": str(moment)}},
            ProjectionExpression=names.TABLE_PARTITION_KEY,
        )
        for page in pages:
            for item in page.get("Items", []):
                key = {names.TABLE_PARTITION_KEY: item[names.TABLE_PARTITION_KEY]}
                self._expired_keys.add(_key_id(key))
                try:
                    self.dynamodb.delete_item(
                        TableName=self.table_name,
                        Key=key,
                        # TTL never deletes an item whose expiry moved on meanwhile.
                        ConditionExpression="#ttl <= :now",
                        ExpressionAttributeNames={"#ttl": names.TTL_ATTRIBUTE},
                        ExpressionAttributeValues={":now": {"N": str(moment)}},
                    )
                except self.dynamodb.exceptions.ConditionalCheckFailedException:
                    self._expired_keys.discard(_key_id(key))
                    continue
                expired += 1
        return expired

    def poll_once(self) -> int:
        """Read every shard once; hand TTL's REMOVE records to expire_assets. How many."""
        stream_arn = self.dynamodb.describe_table(TableName=self.table_name)["Table"][
            "LatestStreamArn"
        ]
        shards = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        delivered = 0
        for shard in shards:
            delivered += self._poll_shard(stream_arn, shard["ShardId"])
        return delivered

    def _poll_shard(self, stream_arn: str, shard_id: str) -> int:
        """Read one shard up to where it ends now (as Lambda keeps polling a busy shard),
        at most ``STREAM_MAX_BATCHES`` batches a poll."""
        delivered = 0
        for _batch in range(STREAM_MAX_BATCHES):
            handed, read = self._read_batch(stream_arn, shard_id)
            delivered += handed
            if not read:
                break
        return delivered

    def _read_batch(self, stream_arn: str, shard_id: str) -> tuple[int, int]:
        """One batch of a shard: (records handed to expire_assets, records read)."""
        kind, sequence = self._positions.get(shard_id, ("TRIM_HORIZON", None))
        at = {"SequenceNumber": sequence} if sequence is not None else {}
        iterator = self.streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType=kind, **at
        )["ShardIterator"]
        response = self.streams.get_records(ShardIterator=iterator, Limit=STREAM_BATCH_SIZE)
        # The deployed mapping's filter: only the REMOVE records TTL made reach the function.
        records = [
            self._lambda_record(record, stream_arn)
            for record in response.get("Records", [])
            if record["eventName"] == "REMOVE"
            and _key_id(record["dynamodb"]["Keys"]) in self._expired_keys
        ]
        if records:
            result = lambdas.invoke(EXPIRE_FUNCTION, {"Records": records}) or {}
            failed = [item["itemIdentifier"] for item in result.get("batchItemFailures", [])]
            attempts = self._failures.get(shard_id, 0) + 1
            if failed and attempts <= STREAM_MAX_RETRIES:
                # Lambda retries a stream batch from the first failed record.
                self._failures[shard_id] = attempts
                self._positions[shard_id] = ("AT_SEQUENCE_NUMBER", failed[0])
                return len(records), 0
            if failed:
                log.error("expire_assets kept failing; records skipped: %s", failed)
            for record in records:
                self._expired_keys.discard(_key_id(record["dynamodb"]["Keys"]))
        self._failures.pop(shard_id, None)
        if response.get("Records"):
            last = response["Records"][-1]["dynamodb"]["SequenceNumber"]
            self._positions[shard_id] = ("AFTER_SEQUENCE_NUMBER", last)
        return len(records), len(response.get("Records", []))

    def _lambda_record(self, record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
        """A stream record as Lambda hands it over: epoch times, the source ARN, TTL's
        identity on the removals TTL made."""
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = int(created.timestamp())
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": change,
            "eventSourceARN": stream_arn,
            "userIdentity": dict(TTL_IDENTITY),
        }


def _key_id(keys: dict[str, Any]) -> str:
    return repr(sorted((name, tuple(sorted(value.items()))) for name, value in keys.items()))
