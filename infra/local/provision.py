"""Create what the CDK stack would: bucket (CORS, notifications), table, queue and DLQ.

Used by the local stack against the moto server and by tests against in-process moto.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from infra.local.config import DEAD_LETTER_QUEUE_NAME, MAX_RECEIVES, QUEUE_NAME, LocalConfig
from mediaport.repository import AssetRecord


def provision(config: LocalConfig, endpoint_url: str | None = None) -> dict[str, str]:
    """Create every resource (idempotently); returns the queue URLs."""
    session = boto3.session.Session(region_name=config.region)
    s3 = session.client("s3", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    queues = _create_queues(sqs)
    _create_bucket(s3, config, queues["queue_arn"])
    _create_table(session, config, endpoint_url)
    return queues


def _create_queues(sqs: Any) -> dict[str, str]:
    dlq_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE_NAME)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=QUEUE_NAME,
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
            ),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return {"queue_url": queue_url, "queue_arn": queue_arn, "dlq_url": dlq_url}


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
                    "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "media/"}]}},
                }
            ]
        },
    )


def _create_table(session: Any, config: LocalConfig, endpoint_url: str | None) -> None:
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    if config.table_name in dynamodb.list_tables()["TableNames"]:
        return
    # The pynamodb model is the one definition of keys and the owner index.
    AssetRecord.Meta.table_name = config.table_name
    AssetRecord.Meta.region = config.region
    AssetRecord.Meta.host = endpoint_url  # type: ignore[attr-defined]  # pynamodb reads it
    AssetRecord._connection = None
    try:
        AssetRecord.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    finally:
        AssetRecord.Meta.host = None  # type: ignore[attr-defined]
        AssetRecord._connection = None
    dynamodb.update_time_to_live(
        TableName=config.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"},
    )
