"""Every deploy-only tunable of the stack in one place: names, sizes, limits, retention."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

STACK_NAME = "Mediaport"

# The names the domain shares with the stack (prefixes, tag, keys, indexes, environment
# variables) live in ``mediaport.names``; what the bucket and the tables are, in
# ``infra.definitions``. This module holds only what the deployed stack alone tunes.

ACCESS_LOG_EXPIRY = Duration.days(90)

# Context defaults (cdk.json carries the same values; these apply when it does not).
DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8000", "http://127.0.0.1:8000")

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
    # A 100 MP image (the default pixel budget) peaks at 1.56 GB decoding as a WebP
    # (libwebp's two RGBA canvases, the copy handed to Python, Pillow's image): measured
    # with a bare interpreter, so 1536 MB cannot hold it with the runtime's imports.
    "process_upload": FunctionSize(2048, Duration.seconds(60)),
    # Deletes the files of expired asset records (a few S3 calls per record).
    "expire_assets": FunctionSize(256, Duration.seconds(30)),
    # Multipart complete verifies the assembled file as confirm does (a header decode of
    # an image; other media read a few KB).
    "multipart": FunctionSize(512, Duration.seconds(15)),
    # Holds a request of up to ~4.5 MB (and its base64) while it stores and verifies it.
    "direct_upload": FunctionSize(512, Duration.seconds(15)),
    # Uppy's Companion contract: sessions and signing; complete verifies as multipart does.
    "uppy": FunctionSize(512, Duration.seconds(15)),
    # Cognito's pre-token-generation trigger (tierTrigger): copies one attribute into a
    # claim; Cognito waits at most 5 seconds for it.
    "pre_token": FunctionSize(128, Duration.seconds(5)),
    # Lists, creates and deletes folders; a delete with moveTo moves up to 500 assets,
    # one transaction each.
    "folders": FunctionSize(512, Duration.seconds(29)),
    # Attach, detach and read an entity's media (a Query and a BatchGetItem, then one URL
    # per original and variant).
    "attachments": FunctionSize(256, Duration.seconds(10)),
    # Reads one user's usage rows (one Query).
    "usage": FunctionSize(256, Duration.seconds(10)),
    # A daily pass over every user's assets and usage rows (one full scan of the asset
    # table, a few Queries per user): minutes, not seconds, and little memory.
    "reconcile_usage": FunctionSize(512, Duration.minutes(5)),
}

# SQS → process_upload. AWS recommends a visibility timeout of at least 6x the
# function timeout for SQS event sources, so retries never overlap a running batch.
VISIBILITY_TIMEOUT_FACTOR = 6
PROCESS_BATCH_SIZE = 10
PROCESS_MAX_BATCHING_WINDOW = Duration.seconds(1)
DLQ_RETENTION = Duration.days(14)
MAX_MESSAGE_SIZE_BYTES = 262_144

# asset table stream → expire_assets (TTL removals only).
EXPIRY_BATCH_SIZE = 25
EXPIRY_RETRY_ATTEMPTS = 5

# HTTP API default stage throttling (requests per second, burst).
THROTTLE_RATE_LIMIT = 50
THROTTLE_BURST_LIMIT = 100
