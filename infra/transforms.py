"""Image operations on demand: the jobs queue (with a DLQ) → transform_media.

``transforms`` (a requested resize, crop or optimize), ``admin`` (a released asset's
thumbnails) and ``scan_result`` (the thumbnails of an asset its scan cleared) send jobs;
``transform_media`` makes the variants, one job per invocation, failures item by item.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import TRANSFORM_BATCH_SIZE, VISIBILITY_TIMEOUT_FACTOR
from infra.definitions import JOBS_MAX_RECEIVE_COUNT
from infra.processing import dead_letter_queue


class TransformJobs(Construct):
    """The jobs queue and its dead-letter queue; ``feed`` connects the worker."""

    def __init__(self, scope: Construct, construct_id: str, *, worker_timeout: Duration) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetters")
        self.queue = sqs.Queue(
            self,
            "Jobs",
            # AWS's rule for SQS event sources, as for uploads: a retry never overlaps a
            # worker still running the same job.
            visibility_timeout=Duration.seconds(
                VISIBILITY_TIMEOUT_FACTOR * int(worker_timeout.to_seconds())
            ),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=JOBS_MAX_RECEIVE_COUNT
            ),
        )

    def feed(self, worker: lambda_.Function) -> None:
        """Deliver the jobs to ``worker``, which reports the ones that failed."""
        worker.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=TRANSFORM_BATCH_SIZE,
                report_batch_item_failures=True,
            )
        )
