"""The event workers, standing in for Lambda's event source mappings.

``EventWorker`` drains one queue and calls one function with the same SQS event Lambda
would send, honouring partial failures: the local stack runs one for the upload queue
(process_upload), one for the jobs queue (transform_media) and one for the webhook queue
(deliver_webhooks). ``StreamWorker`` stands in for DynamoDB's TTL on the asset table
(moto never expires items) and for the stream mappings, each in Lambda's DynamoDB event
shape: the asset table's TTL removals → ``expire_assets``, and every record of the asset
and usage tables → ``publish_events``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
PUBLISH_FUNCTION = "publish_events"
WEBHOOK_FUNCTION = "deliver_webhooks"
# Messages one ReceiveMessage returns at most (SQS's own limit), and so a batch's size.
SQS_BATCH_SIZE = 10
# How DynamoDB signs the REMOVE records its TTL makes (and what the deployed mapping's
# filter lets through to expire_assets).
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
STREAM_BATCH_SIZE = 100
# Like a deployed mapping's retry attempts: then the batch is skipped (and logged, where
# the deployed mapping records it in its on-failure queue).
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
        received = time.time()
        event = sqs_event(messages, self.queue_arn, self.region)
        try:
            result = lambdas.invoke(self.function, event) or {}
        finally:
            if self.also_deliver is not None:
                self.also_deliver(messages)
            # Where an event's time went: waiting in the queue (sent → received by this
            # worker), then in the function (bench/ready.py reads these lines).
            log.info(
                "%s: batch of %d, queued %.0f ms (longest), handled in %.0f ms",
                self.function,
                len(messages),
                _longest_wait_ms(messages, received),
                (time.time() - received) * 1000,
            )
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


def _longest_wait_ms(messages: list[dict[str, Any]], received: float) -> float:
    """How long the oldest of these messages waited in the queue, from SentTimestamp."""
    sent = [
        int(m["Attributes"]["SentTimestamp"])
        for m in messages
        if "SentTimestamp" in m.get("Attributes", {})
    ]
    return max(0.0, received * 1000 - min(sent)) if sent else 0.0


@dataclass
class StreamMapping:
    """Lambda's event source mapping of one table's stream to one function: which records
    it lets through, where it reads each shard next, and how often a batch has failed.

    The position moves past a batch only once the function took it: a worker that dies
    (or a stack killed) between a write and its delivery leaves the record to be read
    again, as Lambda's mapping keeps its checkpoint until the function succeeds.
    """

    table_name: str
    function: str
    # The deployed mapping's filter; None lets every record through.
    accepts: Callable[[dict[str, Any]], bool] | None = None
    # Told of the records of each batch handed over (taken, or given up on).
    handed: Callable[[list[dict[str, Any]]], None] | None = None
    # Where each shard is to be read from next: (iterator type, sequence number). A fresh
    # iterator each batch: moto replaces a table's stream shard object when it rolls back
    # a cancelled transaction, and an iterator kept across that would keep reading the old
    # one (and never see another record). A new mapping starts at TRIM_HORIZON, as the
    # deployed ones do: everything the stream holds is delivered (again, after a restart).
    positions: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)


class StreamWorker(threading.Thread):
    """TTL for the asset table and the stream mappings, polled once a second.

    Always the asset table's TTL removals → expire_assets; with ``publish_tables``, every
    record of those tables' streams → publish_events (the local stack passes the asset and
    usage tables, unless ``MEDIAPORT_LOCAL_EVENTS=off`` disables that mapping).
    """

    def __init__(
        self,
        table_name: str,
        region: str,
        endpoint_url: str | None,
        *,
        publish_tables: Sequence[str] = (),
    ) -> None:
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
        # Keys of the items this worker deleted as TTL would: their REMOVE records are
        # marked with TTL's identity, as DynamoDB marks its own.
        self._expired_keys: set[str] = set()
        self.mappings = [
            StreamMapping(
                table_name, EXPIRE_FUNCTION, accepts=self._removed_by_ttl, handed=self._forget
            ),
            *(StreamMapping(table, PUBLISH_FUNCTION) for table in publish_tables),
        ]

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.expire_due_items()
            except Exception:  # keep going: one bad poll must not stop the local stack
                log.exception("stream worker: TTL sweep failed")
            for mapping in self.mappings:
                try:
                    self.poll_mapping(mapping)
                except Exception:  # one mapping's trouble must not stop the others
                    log.exception("stream worker: %s poll failed", mapping.function)
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
        """Read every mapping's stream once (each shard up to its end now); how many
        records were handed to the functions."""
        return sum(self.poll_mapping(mapping) for mapping in self.mappings)

    def poll_mapping(self, mapping: StreamMapping) -> int:
        """Read one mapping's stream, every shard; the records handed to its function."""
        stream_arn = self.dynamodb.describe_table(TableName=mapping.table_name)["Table"][
            "LatestStreamArn"
        ]
        shards = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        delivered = 0
        for shard in shards:
            delivered += self._poll_shard(mapping, stream_arn, shard["ShardId"])
        return delivered

    def _poll_shard(self, mapping: StreamMapping, stream_arn: str, shard_id: str) -> int:
        """Read one shard up to where it ends now (as Lambda keeps polling a busy shard),
        at most ``STREAM_MAX_BATCHES`` batches a poll."""
        delivered = 0
        for _batch in range(STREAM_MAX_BATCHES):
            handed, read = self._read_batch(mapping, stream_arn, shard_id)
            delivered += handed
            if not read:
                break
        return delivered

    def _read_batch(
        self, mapping: StreamMapping, stream_arn: str, shard_id: str
    ) -> tuple[int, int]:
        """One batch of a shard: (records handed to the function, records read). The
        position moves past the batch only once the function took it."""
        kind, sequence = mapping.positions.get(shard_id, ("TRIM_HORIZON", None))
        at = {"SequenceNumber": sequence} if sequence is not None else {}
        iterator = self.streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType=kind, **at
        )["ShardIterator"]
        response = self.streams.get_records(ShardIterator=iterator, Limit=STREAM_BATCH_SIZE)
        read = response.get("Records", [])
        # The deployed mapping's filter: only what it lets through reaches the function.
        records = [
            self.lambda_record(record, stream_arn)
            for record in read
            if mapping.accepts is None or mapping.accepts(record)
        ]
        if records:
            failed = self._invoke(mapping.function, records)
            attempts = mapping.failures.get(shard_id, 0) + 1
            if failed and attempts <= STREAM_MAX_RETRIES:
                # Lambda retries a stream batch from the first failed record.
                mapping.failures[shard_id] = attempts
                mapping.positions[shard_id] = ("AT_SEQUENCE_NUMBER", failed[0])
                return len(records), 0
            if failed:
                log.error("%s kept failing; records skipped: %s", mapping.function, failed)
            if mapping.handed is not None:
                mapping.handed(records)
        mapping.failures.pop(shard_id, None)
        if read:
            last = read[-1]["dynamodb"]["SequenceNumber"]
            mapping.positions[shard_id] = ("AFTER_SEQUENCE_NUMBER", last)
        return len(records), len(read)

    @staticmethod
    def _invoke(function: str, records: list[dict[str, Any]]) -> list[str]:
        """Hand the batch over; the sequence numbers it failed, lowest first (a function
        that fails as a whole fails every record, as a Lambda error does)."""
        try:
            result = lambdas.invoke(function, {"Records": records}) or {}
        except Exception:
            log.exception("%s failed the whole batch", function)
            return [record["dynamodb"]["SequenceNumber"] for record in records]
        failed = [item["itemIdentifier"] for item in result.get("batchItemFailures", [])]
        return sorted(failed, key=int)

    def _removed_by_ttl(self, record: dict[str, Any]) -> bool:
        """expire_assets' filter: the REMOVE records TTL made (this worker, standing in)."""
        return (
            record["eventName"] == "REMOVE"
            and _key_id(record["dynamodb"]["Keys"]) in self._expired_keys
        )

    def _forget(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self._expired_keys.discard(_key_id(record["dynamodb"]["Keys"]))

    def lambda_record(self, record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
        """A stream record as Lambda hands it over: epoch times, the source ARN, TTL's
        identity on the removals TTL made."""
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = int(created.timestamp())
        shaped = {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": change,
            "eventSourceARN": stream_arn,
        }
        if self._removed_by_ttl(record):
            shaped["userIdentity"] = dict(TTL_IDENTITY)
        return shaped


def _key_id(keys: dict[str, Any]) -> str:
    return repr(sorted((name, tuple(sorted(value.items()))) for name, value in keys.items()))
