"""EventBridge, the webhook queue and the webhook secret: the only module of the events
and webhooks that talks to AWS.

Nothing here reports success for what did not arrive. PutEvents and SendMessageBatch
answer each entry on its own; an entry they refused is sent again a few times, then
``PublishFailed`` is raised, so the stream record the events came from is delivered again.
botocore's errors are translated here, once.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mediaport import names
from mediaport.observability import logger

# What one PutEvents or SendMessageBatch call takes at most.
MAX_ENTRIES = 10
# Calls made for the entries a call refused (throttled, an internal error) before giving up.
_ATTEMPTS = 3


class PublishFailed(Exception):
    """Events (or webhook jobs) did not get where they go: deliver their record again."""


class SecretUnavailable(Exception):
    """The webhook secret could not be read (the webhook is retried)."""


@dataclass(frozen=True)
class BusEntry:
    """One event for the bus: its detail-type, detail (JSON text) and time."""

    detail_type: str
    detail: str
    time: datetime


@functools.cache
def events_client() -> Any:
    """One EventBridge client per process (region and any endpoint from the environment)."""
    import boto3

    return boto3.client("events")


@functools.cache
def sqs_client() -> Any:
    import boto3

    return boto3.client("sqs")


@functools.cache
def secrets_client() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def put_events(bus_name: str, entries: Sequence[BusEntry]) -> None:
    """Put every entry on the bus, ``names.EVENT_SOURCE`` as their source."""
    shaped = [
        {
            "EventBusName": bus_name,
            "Source": names.EVENT_SOURCE,
            "DetailType": entry.detail_type,
            "Detail": entry.detail,
            "Time": entry.time,
        }
        for entry in entries
    ]

    def put(batch: list[dict[str, Any]]) -> list[str | None]:
        answer = events_client().put_events(Entries=batch)
        if not answer.get("FailedEntryCount"):
            return [None] * len(batch)
        return [result.get("ErrorCode") for result in answer["Entries"]]

    _send_all("put events on the bus", shaped, put)


def send_messages(queue_url: str, bodies: Sequence[str]) -> None:
    """Send every body as one message on the queue."""
    shaped = [{"MessageBody": body} for body in bodies]

    def send(batch: list[dict[str, Any]]) -> list[str | None]:
        entries = [{"Id": str(index), **entry} for index, entry in enumerate(batch)]
        answer = sqs_client().send_message_batch(QueueUrl=queue_url, Entries=entries)
        codes: list[str | None] = [None] * len(batch)
        for failed in answer.get("Failed", []):
            codes[int(failed["Id"])] = failed.get("Code") or "Failed"
        return codes

    _send_all("queue webhook jobs", shaped, send)


def _send_all(
    doing: str,
    entries: list[dict[str, Any]],
    send: Callable[[list[dict[str, Any]]], list[str | None]],
) -> None:
    """Send in batches of ``MAX_ENTRIES``; the entries refused go again, a few times."""
    pending = entries
    for attempt in range(_ATTEMPTS):
        refused: list[dict[str, Any]] = []
        codes: list[str] = []
        for start in range(0, len(pending), MAX_ENTRIES):
            batch = pending[start : start + MAX_ENTRIES]
            try:
                answers = send(batch)
            except (ClientError, BotoCoreError) as error:
                logger.warning("call failed", extra={"doing": doing, "error": str(error)})
                raise PublishFailed(f"could not {doing}: {type(error).__name__}") from error
            for entry, code in zip(batch, answers, strict=True):
                if code is not None:
                    refused.append(entry)
                    codes.append(code)
        if not refused:
            return
        pending = refused
        logger.warning("entries refused", extra={"doing": doing, "codes": codes})
        if attempt + 1 < _ATTEMPTS:
            time.sleep(0.1 * 2**attempt)
    raise PublishFailed(f"could not {doing}: {len(pending)} refused ({', '.join(codes)})")


def retry_after(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """Keep a received message invisible for ``seconds`` from now (its retry's delay).
    Best effort: when SQS cannot, the queue's own visibility timeout applies instead."""
    try:
        sqs_client().change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
    except (ClientError, BotoCoreError) as error:
        logger.warning("backoff not set", extra={"seconds": seconds, "error": str(error)})


@functools.cache
def queue_url_of(queue_arn: str) -> str | None:
    """A queue's URL from its ARN (``arn:aws:sqs:{region}:{account}:{name}``); None when
    SQS cannot say."""
    parts = queue_arn.split(":")
    if len(parts) != 6:
        return None
    try:
        answer = sqs_client().get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
    except (ClientError, BotoCoreError) as error:
        logger.warning("queue URL unknown", extra={"queue": queue_arn, "error": str(error)})
        return None
    return str(answer["QueueUrl"])


def read_secret(secret_arn: str) -> str:
    """A Secrets Manager secret's current string value."""
    try:
        value = secrets_client().get_secret_value(SecretId=secret_arn).get("SecretString")
    except (ClientError, BotoCoreError) as error:
        # The error names the secret and why, never its value.
        raise SecretUnavailable(f"could not read the webhook secret: {error}") from error
    if not value:
        raise SecretUnavailable("the webhook secret has no string value")
    return str(value).strip()
