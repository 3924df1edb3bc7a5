"""Every tunable of the deployed stack in one place: names, sizes, limits, prefixes."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

STACK_NAME = "Mediaport"

# Where the bytes live. Only UPLOAD_PREFIX notifies; variants are written under
# DERIVED_PREFIX so that writing a thumbnail never triggers processing again.
UPLOAD_PREFIX = "media/"
DERIVED_PREFIX = "derived/"

# Presign signs the upload with this object tag; the code deletes it when the asset
# becomes READY, so a lifecycle rule can expire uploads whose asset never did.
PENDING_TAG_KEY = "mediaport-upload"
PENDING_TAG_VALUE = "pending"
ABANDONED_UPLOAD_EXPIRY = Duration.days(1)
INCOMPLETE_MULTIPART_EXPIRY = Duration.days(1)
ACCESS_LOG_EXPIRY = Duration.days(90)

# DynamoDB: the asset table and its owner index (list a user's assets by creation time).
TABLE_PARTITION_KEY = "assetId"
OWNER_INDEX_NAME = "byOwner"
OWNER_INDEX_PARTITION_KEY = "userId"
OWNER_INDEX_SORT_KEY = "createdAt"
TTL_ATTRIBUTE = "expiresAt"

# Context defaults (cdk.json carries the same values; these apply when it does not).
DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8000", "http://127.0.0.1:8000")
CORS_MAX_AGE = Duration.seconds(3000)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
POWERTOOLS_SERVICE_NAME = "mediaport"
POWERTOOLS_METRICS_NAMESPACE = "Mediaport"
LOG_LEVEL = "INFO"


@dataclass(frozen=True)
class FunctionSize:
    memory_mb: int
    timeout: Duration


# API functions answer a person waiting on a request; process_upload decodes images.
FUNCTION_SIZES: dict[str, FunctionSize] = {
    "health": FunctionSize(256, Duration.seconds(10)),
    "presign": FunctionSize(256, Duration.seconds(10)),
    "media": FunctionSize(512, Duration.seconds(15)),
    "process_upload": FunctionSize(1536, Duration.seconds(60)),
}

# SQS → process_upload. AWS recommends a visibility timeout of at least 6x the
# function timeout for SQS event sources, so retries never overlap a running batch.
VISIBILITY_TIMEOUT_FACTOR = 6
PROCESS_BATCH_SIZE = 10
PROCESS_MAX_BATCHING_WINDOW = Duration.seconds(1)
MAX_RECEIVE_COUNT = 5
DLQ_RETENTION = Duration.days(14)
MAX_MESSAGE_SIZE_BYTES = 262_144

# HTTP API default stage throttling (requests per second, burst).
THROTTLE_RATE_LIMIT = 50
THROTTLE_BURST_LIMIT = 100
