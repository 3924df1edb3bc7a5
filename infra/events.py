"""Events for the host app: the asset and usage tables' streams → publish_events → the
custom EventBridge bus; and, per event and configured URL, a webhook job → the webhook
queue (with a DLQ) → deliver_webhooks, which POSTs it signed (Standard Webhooks).

Why a stream-triggered function and not EventBridge Pipes with an enrichment function:
a function's stream mapping reports failures record by record, splits a failing batch
down to the record that fails (bisect) and records what it gave up in a queue; a pipe's
enrichment can only fail its whole batch. The same function also hands each event to the
webhook queue, in the same step, so one place turns a state change into everything the
host app is told, and the local stack's stream worker calls that same handler.

Events come from the table, not the handlers: a function that dies right after its
write loses nothing, because the record is in the stream. Delivery is at least once
(a retried batch publishes again); consumers dedupe on the event's ``eventId``.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import (
    EVENTS_BATCH_SIZE,
    EVENTS_MAX_RECORD_AGE,
    EVENTS_RETRY_ATTEMPTS,
    VISIBILITY_TIMEOUT_FACTOR,
    WEBHOOK_BATCH_SIZE,
    WEBHOOK_MAX_CONCURRENCY,
    WEBHOOK_RETENTION,
)
from infra.definitions import WEBHOOK_MAX_RECEIVE_COUNT
from infra.nag import acknowledge
from infra.processing import dead_letter_queue

# The asset record's status attribute, and the status of an upload not settled yet.
STATUS_ATTRIBUTE = "status"
PENDING = "PENDING"


def _not_pending(image: str) -> dict[str, object]:
    """Match a record whose ``image`` ("NewImage", "OldImage") is not a PENDING asset."""
    return {"dynamodb": {image: {STATUS_ATTRIBUTE: {"S": [{"anything-but": [PENDING]}]}}}}


# Every asset record change but a PENDING record appearing (a presign) or vanishing (TTL
# removing an upload that never came): neither was ever announced, so neither is an event.
# Every other removal is TTL's too (no function deletes asset records): a trashed asset's
# purge, a REJECTED record or a tombstone expiring, which the publisher tells apart.
ASSET_RECORD_FILTERS = (
    {"eventName": ["MODIFY"]},
    {"eventName": ["INSERT"], **_not_pending("NewImage")},
    {"eventName": ["REMOVE"], **_not_pending("OldImage")},
)


class HostEvents(Construct):
    """The bus, the webhook queue and its secret; ``feed`` connects the two functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus_name: str,
        deliverer_timeout: Duration,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=bus_name,
            description="Mediaport: every asset state change, for the host app",
        )

        # Stream batches that failed every retry (both streams): their shard and sequence
        # numbers, to read the records again while the stream keeps them (24 hours).
        self.failed_records = dead_letter_queue(self, "FailedRecords")
        acknowledge(
            self.failed_records,
            "AwsSolutions-SQS3",
            "This queue is itself the on-failure destination of publish_events' stream "
            "mappings; a DLQ of a DLQ would only move the same records once more.",
        )

        self.webhook_dead_letters = dead_letter_queue(self, "FailedWebhooks")
        self.webhook_queue = sqs.Queue(
            self,
            "Webhooks",
            # AWS's rule for SQS event sources: a retry never overlaps a running delivery.
            # deliver_webhooks lengthens it per failed job (its backoff).
            visibility_timeout=Duration.seconds(
                VISIBILITY_TIMEOUT_FACTOR * int(deliverer_timeout.to_seconds())
            ),
            retention_period=WEBHOOK_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.webhook_dead_letters, max_receive_count=WEBHOOK_MAX_RECEIVE_COUNT
            ),
        )

        # The Standard Webhooks signing secret ("whsec_" + base64), which the receivers
        # hold too. The stack cannot make that format (Secrets Manager generates no
        # prefix), so it starts as a random value that is not one: deliver_webhooks
        # refuses to sign with it, and the deployer puts the real secret after the first
        # deploy (docs/deploy.md). Later deploys never overwrite what was put.
        self.webhook_secret = secretsmanager.Secret(
            self,
            "WebhookSecret",
            description=(
                "Mediaport webhooks: the Standard Webhooks signing secret (whsec_ + base64); "
                "put yours with aws secretsmanager put-secret-value"
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.webhook_secret,
            "AwsSolutions-SMG4",
            "The webhook secret is shared with the host app's receivers, which must be "
            "given a new one when it changes; a rotation function cannot reach them, so it "
            "is rotated by hand (put a new value; receivers accept both while they switch).",
        )

    def feed(
        self,
        *,
        publisher: lambda_.Function,
        asset_table: dynamodb.ITable,
        usage_table: dynamodb.ITable,
        deliverer: lambda_.Function,
    ) -> None:
        """Both tables' streams to ``publisher``; the webhook queue to ``deliverer``."""
        for table, filters in (
            (asset_table, ASSET_RECORD_FILTERS),
            # Every usage row change: its warnings (storage, bandwidth) become events.
            (usage_table, ()),
        ):
            publisher.add_event_source(
                event_sources.DynamoEventSource(
                    table,
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=EVENTS_BATCH_SIZE,
                    filters=[lambda_.FilterCriteria.filter(f) for f in filters] or None,
                    report_batch_item_failures=True,
                    bisect_batch_on_error=True,
                    retry_attempts=EVENTS_RETRY_ATTEMPTS,
                    max_record_age=EVENTS_MAX_RECORD_AGE,
                    on_failure=event_sources.SqsDlq(self.failed_records),
                )
            )
        deliverer.add_event_source(
            event_sources.SqsEventSource(
                self.webhook_queue,
                batch_size=WEBHOOK_BATCH_SIZE,
                max_concurrency=WEBHOOK_MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
