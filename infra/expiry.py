"""Asset expiry: the asset table's stream → expire_assets, for records TTL removed.

DynamoDB's TTL removes PENDING records whose upload never came and REJECTED records after
their keep time; the function deletes whatever files those records still name. The
event source mapping lets through only TTL's own removals, so the function is not
invoked for every write to the table.
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from infra.constants import EXPIRY_BATCH_SIZE, EXPIRY_RETRY_ATTEMPTS
from infra.nag import acknowledge
from infra.processing import dead_letter_queue

# How DynamoDB marks the REMOVE records its TTL makes.
TTL_REMOVAL = {
    "eventName": lambda_.FilterRule.is_equal("REMOVE"),
    "userIdentity": {
        "type": lambda_.FilterRule.is_equal("Service"),
        "principalId": lambda_.FilterRule.is_equal("dynamodb.amazonaws.com"),
    },
}


class AssetExpiry(Construct):
    """Feed TTL removals of the asset table to the expiry function; failures to a DLQ."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        expirer: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        # A batch that still fails after its retries is recorded here (its stream
        # position and shard), so the files it named can be found and removed by hand.
        self.dead_letter_queue = dead_letter_queue(self, "FailedExpiries")
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter destination of the stream mapping; a DLQ "
            "of a DLQ would only move the same records once more.",
        )
        expirer.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=EXPIRY_BATCH_SIZE,
                filters=[lambda_.FilterCriteria.filter(TTL_REMOVAL)],
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=EXPIRY_RETRY_ATTEMPTS,
                on_failure=event_sources.SqsDlq(self.dead_letter_queue),
            )
        )
