"""Every deploy-only tunable of the stack in one place: names, sizes, limits, retention."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_logs as logs

STACK_NAME = "Mediaport"

# The names the domain shares with the stack (prefixes, tag, keys, indexes, environment
# variables) live in ``mediaport.names``; what the bucket and the tables are, in
# ``infra.definitions``. This module holds only what the deployed stack alone tunes.

ACCESS_LOG_EXPIRY = Duration.days(90)

# Context defaults (cdk.json carries the same values; these apply when it does not).
DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8000", "http://127.0.0.1:8000")
# Malware scanning (context ``scanning``): off, or GuardDuty Malware Protection for S3.
# "local" is the local stack's stand-in and means nothing on AWS.
SCANNING_OFF = "off"
SCANNING_GUARDDUTY = "guardduty"
SCANNING_MODES = (SCANNING_OFF, SCANNING_GUARDDUTY)
# What a scan that could not be done (UNSUPPORTED, ACCESS_DENIED, FAILED) means (context
# ``scanErrorPolicy``): block keeps the asset quarantined until an admin releases it;
# serve serves it as if clean.
SCAN_ERROR_BLOCK = "block"
SCAN_ERROR_SERVE = "serve"
SCAN_ERROR_POLICIES = (SCAN_ERROR_BLOCK, SCAN_ERROR_SERVE)

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
    # Variants on demand: reads the asset, records a PENDING variant, sends one message,
    # signs the URLs of the READY ones. No image is opened here.
    "transforms": FunctionSize(256, Duration.seconds(10)),
    # The quarantine list, and a release: one server-side CopyObject of the original to
    # released/ (the bytes never pass through the function, so memory does not scale with
    # them), a transaction, a delete, a message. A single CopyObject copies at most 5 GB;
    # the scopes cap originals far below that (100 MiB by default), and a deployment that
    # raised a scope above 5 GB would need a multipart copy (UploadPartCopy) instead. 29 s
    # is the most an HTTP API integration waits.
    "admin": FunctionSize(512, Duration.seconds(29)),
    # The jobs queue's worker: decodes the original up to the pixel budget (the same
    # worst case as process_upload: a 100 MP WebP peaks at 1.56 GB before the runtime's
    # own imports, which 1769 MB, one full vCPU, would leave under 100 MB for) and encodes
    # the variant, AVIF included (CPU-bound: 2048 MB is ~1.16 vCPU, so the time, and the
    # cost, per job barely change). 60 s: a 4096 px AVIF encode takes seconds on one vCPU.
    "transform_media": FunctionSize(2048, Duration.seconds(60)),
    # One scan result: a read, a transaction, perhaps a prefix of variants to delete.
    "scan_result": FunctionSize(256, Duration.seconds(15)),
    # A batch of stream records (up to EVENTS_BATCH_SIZE) turned into events: one
    # PutEvents per 10, one SendMessage batch per 10 webhook jobs. No object is read.
    "publish_events": FunctionSize(256, Duration.seconds(30)),
    # One signed POST per invocation (WEBHOOK_BATCH_SIZE), its HTTP timeout ~10 s: 30 s
    # holds the secret's read, the request and a slow answer.
    "deliver_webhooks": FunctionSize(256, Duration.seconds(30)),
    # One CloudFront log file per message: a gzip of up to tens of MB on a busy edge,
    # summed per asset, then one transaction per 99 owner-months seen in it.
    "count_bandwidth": FunctionSize(512, Duration.seconds(60)),
}

# SQS → process_upload. AWS recommends a visibility timeout of at least 6x the
# function timeout for SQS event sources, so retries never overlap a running batch.
VISIBILITY_TIMEOUT_FACTOR = 6
PROCESS_BATCH_SIZE = 10
PROCESS_MAX_BATCHING_WINDOW = Duration.seconds(1)
# jobs queue → transform_media, one job per invocation: the function's timeout is for the
# whole batch, and one job may take most of it (a 100 MP decode, an AVIF encode). Lambda
# runs more invocations in parallel instead.
TRANSFORM_BATCH_SIZE = 1
DLQ_RETENTION = Duration.days(14)
MAX_MESSAGE_SIZE_BYTES = 262_144

# asset table stream → expire_assets (TTL removals only).
EXPIRY_BATCH_SIZE = 25
EXPIRY_RETRY_ATTEMPTS = 5

# asset and usage table streams → publish_events. A batch that keeps failing is split
# (bisect) down to the record that fails, retried, then recorded in the failed-records
# queue, which names the shard and sequence numbers, not the records: they can be read
# again from the stream for as long as it keeps them (24 hours). So a record is given up
# at most EVENTS_MAX_RECORD_AGE after it was written, leaving most of a day to replay it.
EVENTS_BATCH_SIZE = 100
EVENTS_RETRY_ATTEMPTS = 10
EVENTS_MAX_RECORD_AGE = Duration.hours(6)

# webhook queue → deliver_webhooks: one delivery per invocation, so a slow receiver holds
# up only its own; at most WEBHOOK_MAX_CONCURRENCY at once, so a backlog (a receiver back
# from an outage) is not sent all at once. A job waits at most WEBHOOK_RETENTION, longer
# than every attempt's backoff together (about a day).
WEBHOOK_BATCH_SIZE = 1
WEBHOOK_MAX_CONCURRENCY = 10
WEBHOOK_RETENTION = Duration.days(4)

# CloudFront (context ``cdn``, on by default). PriceClass_100 serves from the edges of
# North America, Europe and Israel, the cheapest per GB; viewers elsewhere are served
# from the nearest of those. PRICE_CLASS_ALL serves every edge at every region's rate.
CDN_PRICE_CLASS = cloudfront.PriceClass.PRICE_CLASS_100
# How long an edge keeps an object whose answer carries no Cache-Control (an original:
# its key is stable, so a delete invalidates it); a variant's own max-age (a year,
# immutable) is honoured up to CDN_MAX_TTL.
CDN_DEFAULT_TTL = Duration.days(1)
CDN_MAX_TTL = Duration.days(365)
# CloudFront's standard logs: counted within minutes of arriving, kept for a look back.
CDN_LOG_EXPIRY = Duration.days(90)
# log bucket → SQS → count_bandwidth: one log file per invocation (one file may be large);
# a file that fails this many times waits in the DLQ (redriven, it is counted then, once).
BANDWIDTH_BATCH_SIZE = 1
BANDWIDTH_MAX_RECEIVE_COUNT = 5

# GuardDuty scan results (EventBridge, default bus) → scan_result. EventBridge retries
# delivering an event it could not hand to Lambda; Lambda retries a handler that failed
# (its asynchronous invocation; at most 2 retries, 6 hours); both then park the event in
# the scan-results DLQ. A result for an upload not settled yet fails on purpose, to come
# back later (the settle also reads the result from the object's tag).
SCAN_EVENT_RETRY_ATTEMPTS = 20
SCAN_EVENT_MAX_AGE = Duration.hours(6)
SCAN_HANDLER_RETRY_ATTEMPTS = 2
SCAN_HANDLER_MAX_EVENT_AGE = Duration.hours(6)

# HTTP API default stage throttling (requests per second, burst).
THROTTLE_RATE_LIMIT = 50
THROTTLE_BURST_LIMIT = 100
