"""The jobs queue in integration tests: what transforms and admin queued, handed to
transform_media in Lambda's SQS event shape, as the deployed event source mapping does."""

from __future__ import annotations

from typing import Any

from infra.local.events import sqs_event
from infra.local.lambdas import invoke
from tests.integration.conftest import CONFIG, Stack


def queued_jobs(stack: Stack) -> list[dict[str, Any]]:
    """Every message on the jobs queue now (received: invisible until deleted or due)."""
    messages: list[dict[str, Any]] = []
    while batch := stack.sqs.receive_message(
        QueueUrl=stack.queues["jobs_queue_url"], MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
    return messages


def run_jobs(stack: Stack) -> int:
    """Hand every queued job to transform_media until none is left; how many ran. A job it
    reports failed stays on the queue (and fails the test here)."""
    ran = 0
    while messages := queued_jobs(stack):
        event = sqs_event(messages, stack.queues["jobs_queue_arn"], CONFIG.region)
        result = invoke("transform_media", event)
        assert result["batchItemFailures"] == [], result
        for message in messages:
            stack.sqs.delete_message(
                QueueUrl=stack.queues["jobs_queue_url"], ReceiptHandle=message["ReceiptHandle"]
            )
        ran += len(messages)
    return ran
