"""Upload processing: S3 ObjectCreated on ``media/`` → SQS (with a DLQ) → process_upload."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import (
    DLQ_RETENTION,
    MAX_MESSAGE_SIZE_BYTES,
    PROCESS_BATCH_SIZE,
    PROCESS_MAX_BATCHING_WINDOW,
    VISIBILITY_TIMEOUT_FACTOR,
)
from infra.definitions import MAX_RECEIVE_COUNT, UPLOAD_NOTIFICATION
from infra.nag import acknowledge

# aws-s3's singleton custom resource that writes the NotificationConfiguration.
NOTIFICATIONS_HANDLER_ID_PREFIX = "BucketNotificationsHandler"
# S3's event names (as the definitions and boto3 write them) → CDK's enum.
EVENT_TYPES = {"s3:ObjectCreated:*": s3.EventType.OBJECT_CREATED}


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """Where events that failed every retry wait (14 days) to be looked at or redriven."""
    return sqs.Queue(
        scope,
        construct_id,
        retention_period=DLQ_RETENTION,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
    )


class UploadProcessing(Construct):
    """Queue every new upload and feed it to the processor, failures item by item."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        processor: lambda_.Function,
        processor_timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetters")
        self.queue = sqs.Queue(
            self,
            "Uploads",
            visibility_timeout=Duration.seconds(
                VISIBILITY_TIMEOUT_FACTOR * int(processor_timeout.to_seconds())
            ),
            max_message_size_bytes=MAX_MESSAGE_SIZE_BYTES,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT
            ),
        )
        # Only uploads notify (see UPLOAD_NOTIFICATION): writing variants must not re-trigger.
        for event in UPLOAD_NOTIFICATION.events:
            bucket.add_event_notification(
                EVENT_TYPES[event],
                s3n.SqsDestination(self.queue),
                s3.NotificationKeyFilter(prefix=UPLOAD_NOTIFICATION.prefix),
            )
        self._acknowledge_notifications_handler()
        processor.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=PROCESS_BATCH_SIZE,
                max_batching_window=PROCESS_MAX_BATCHING_WINDOW,
                report_batch_item_failures=True,
            )
        )

    def _acknowledge_notifications_handler(self) -> None:
        """CDK's singleton handler that configures bucket notifications at deploy time."""
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith(NOTIFICATIONS_HANDLER_ID_PREFIX):
                acknowledge(
                    child.node.find_child("Role"),
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                    "service-role/AWSLambdaBasicExecutionRole]",
                    "CDK's own BucketNotificationsHandler (it sets this bucket's S3 -> SQS "
                    "notification at deploy time) uses the basic execution role for its logs.",
                )
