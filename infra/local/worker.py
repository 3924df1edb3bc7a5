"""The event worker: drains the upload queue and calls the process function with the
same SQS event Lambda's event source mapping would send, honouring partial failures."""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3

from infra.local import lambdas
from infra.local.events import sqs_event

log = logging.getLogger("mediaport.local.worker")
PROCESS_FUNCTION = "process_upload"


class EventWorker(threading.Thread):
    def __init__(self, queue_url: str, queue_arn: str, region: str, endpoint_url: str) -> None:
        super().__init__(name="mediaport-event-worker", daemon=True)
        self.queue_url, self.queue_arn, self.region = queue_url, queue_arn, region
        self.sqs = boto3.client("sqs", region_name=region, endpoint_url=endpoint_url)
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:  # keep draining: one bad poll must not stop the local stack
                log.exception("event worker poll failed")
                self._stopping.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive up to 10 messages and hand them to the process function as one batch."""
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = sqs_event(messages, self.queue_arn, self.region)
        result = lambdas.invoke(PROCESS_FUNCTION, event) or {}
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        # Failed messages stay: SQS redelivers them after the visibility timeout and,
        # after the fifth receive, its redrive policy moves them to the dead-letter queue.
        return len(messages)
