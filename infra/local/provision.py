"""Create what the CDK stack would: bucket (CORS, lifecycle, notifications), the asset,
idempotency, upload-session, usage, folder and attachment tables, the upload queue, the
jobs queue and the webhook queue, each with its DLQ, and the host app's event bus.

Everything the two stacks must agree on comes from ``infra.definitions``, the module
``infra/storage.py`` builds the deployed resources from. Used by the local stack against
the moto server and by tests against in-process moto.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from infra.definitions import (
    ASSET_TABLE,
    ATTACHMENT_TABLE,
    FOLDER_TABLE,
    IDEMPOTENCY_TABLE,
    JOBS_MAX_RECEIVE_COUNT,
    MAX_RECEIVE_COUNT,
    MEDIA_CORS,
    MEDIA_LIFECYCLE,
    SESSION_TABLE,
    UPLOAD_NOTIFICATION,
    USAGE_TABLE,
    WEBHOOK_MAX_RECEIVE_COUNT,
    LifecycleRule,
    TableDefinition,
)
from infra.local.config import (
    DEAD_LETTER_QUEUE_NAME,
    JOBS_DEAD_LETTER_QUEUE_NAME,
    JOBS_QUEUE_NAME,
    QUEUE_NAME,
    WEBHOOK_DEAD_LETTER_QUEUE_NAME,
    WEBHOOK_QUEUE_NAME,
    LocalConfig,
)
from mediaport import names

# Seconds a received message stays hidden before SQS hands it out again (every queue; a
# failed webhook job is hidden for its backoff instead). The local workers drain each
# queue on one thread, so a long batch is never received twice.
VISIBILITY_TIMEOUT_SECONDS = 30


def provision(config: LocalConfig, endpoint_url: str | None = None) -> dict[str, str]:
    """Create every resource (idempotently: a restart against an external emulator finds
    them); returns the queues' URLs and ARNs: the upload queue's as ``queue_url``,
    ``queue_arn``, ``dlq_url``, the jobs queue's as ``jobs_queue_url``, ``jobs_queue_arn``,
    ``jobs_dlq_url``, the webhook queue's as ``webhook_queue_url``, ``webhook_queue_arn``,
    ``webhook_dlq_url``."""
    session = boto3.session.Session(region_name=config.region)
    s3 = session.client("s3", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    queues = _create_queues(sqs, QUEUE_NAME, DEAD_LETTER_QUEUE_NAME, MAX_RECEIVE_COUNT)
    jobs = _create_queues(sqs, JOBS_QUEUE_NAME, JOBS_DEAD_LETTER_QUEUE_NAME, JOBS_MAX_RECEIVE_COUNT)
    queues.update({f"jobs_{name}": value for name, value in jobs.items()})
    webhook = _create_queues(
        sqs, WEBHOOK_QUEUE_NAME, WEBHOOK_DEAD_LETTER_QUEUE_NAME, WEBHOOK_MAX_RECEIVE_COUNT
    )
    queues.update({f"webhook_{name}": value for name, value in webhook.items()})
    _create_event_bus(session.client("events", endpoint_url=endpoint_url), names.EVENT_BUS_NAME)
    _create_bucket(s3, config, queues["queue_arn"])
    _create_table(dynamodb, config.table_name, ASSET_TABLE)
    _create_table(dynamodb, config.idempotency_table_name, IDEMPOTENCY_TABLE)
    _create_table(dynamodb, config.session_table_name, SESSION_TABLE)
    _create_table(dynamodb, config.usage_table_name, USAGE_TABLE)
    _create_table(dynamodb, config.folder_table_name, FOLDER_TABLE)
    _create_table(dynamodb, config.attachment_table_name, ATTACHMENT_TABLE)
    return queues


def _create_queues(
    sqs: Any, name: str, dead_letter_name: str, max_receive_count: int
) -> dict[str, str]:
    """A queue and the dead-letter queue it redrives to after ``max_receive_count``
    receives."""
    dlq_url = sqs.create_queue(QueueName=dead_letter_name)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
            ),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return {"queue_url": queue_url, "queue_arn": queue_arn, "dlq_url": dlq_url}


def _create_event_bus(events: Any, name: str) -> None:
    """The custom bus the host app's events go on (nothing reads it locally but the
    rules a test or a developer puts on it)."""
    existing = {bus["Name"] for bus in events.list_event_buses().get("EventBuses", [])}
    if name not in existing:
        events.create_event_bus(Name=name)


def _create_bucket(s3: Any, config: LocalConfig, queue_arn: str) -> None:
    bucket = config.bucket_name
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": list(config.origins),
                    "AllowedMethods": list(MEDIA_CORS.allowed_methods),
                    "AllowedHeaders": list(MEDIA_CORS.allowed_headers),
                    "ExposeHeaders": list(MEDIA_CORS.exposed_headers),
                    "MaxAgeSeconds": MEDIA_CORS.max_age_seconds,
                }
            ]
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [_lifecycle_rule(rule) for rule in MEDIA_LIFECYCLE]},
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": list(UPLOAD_NOTIFICATION.events),
                    "Filter": {
                        "Key": {
                            "FilterRules": [{"Name": "prefix", "Value": UPLOAD_NOTIFICATION.prefix}]
                        }
                    },
                }
            ]
        },
    )


def _lifecycle_rule(rule: LifecycleRule) -> dict[str, Any]:
    """One rule of S3's LifecycleConfiguration, as boto3 takes it."""
    tags = [{"Key": key, "Value": value} for key, value in rule.tags]
    prefix = rule.prefix or ""
    lifecycle_filter: dict[str, Any]
    if len(tags) > 1 or (tags and prefix):
        lifecycle_filter = {"And": {"Prefix": prefix, "Tags": tags}}
    elif tags:
        lifecycle_filter = {"Tag": tags[0]}
    else:
        lifecycle_filter = {"Prefix": prefix}
    shaped: dict[str, Any] = {"ID": rule.rule_id, "Status": "Enabled", "Filter": lifecycle_filter}
    if rule.expire_after_days is not None:
        shaped["Expiration"] = {"Days": rule.expire_after_days}
    if rule.abort_incomplete_multipart_after_days is not None:
        shaped["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": rule.abort_incomplete_multipart_after_days
        }
    return shaped


def _create_table(dynamodb: Any, name: str, definition: TableDefinition) -> None:
    """Create one on-demand table as its definition says: keys, indexes, stream, TTL."""
    if name in dynamodb.list_tables()["TableNames"]:
        return
    options: dict[str, Any] = {}
    if definition.indexes:
        options["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in definition.indexes
        ]
    if definition.stream_view_type:
        options["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": definition.stream_view_type,
        }
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": definition.partition_key, "KeyType": "HASH"},
            *(
                [{"AttributeName": definition.sort_key, "KeyType": "RANGE"}]
                if definition.sort_key
                else []
            ),
        ],
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in definition.key_attributes
        ],
        BillingMode="PAY_PER_REQUEST",
        **options,
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name)
    if definition.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": definition.ttl_attribute},
        )
    if definition.point_in_time_recovery:
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
