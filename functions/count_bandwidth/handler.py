"""SQS → count_bandwidth: each record carries S3's ObjectCreated notification of one
CloudFront standard log file (the log bucket, under ``cdn-logs/``), whose bytes are added
to the owners' bandwidth of the month (``mediaport.bandwidth.count_log_file``).

A log file is counted once, however often its message is delivered: the count and the
record that it was made are one transaction. Records fail one by one
(``ReportBatchItemFailures``): SQS delivers a failed one again, then dead-letters it.
"""

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import S3SqsEventNotificationRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field, Json

from mediaport import bandwidth, cdn_logs
from mediaport.adapters import storage
from mediaport.names import CDN_LOG_PREFIX
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services


class LogObject(BaseModel):
    key: str  # URL-encoded, as S3 sends it
    eTag: str


class LogBucket(BaseModel):
    name: str


class LogEntity(BaseModel):
    bucket: LogBucket
    object: LogObject


class LogNotification(BaseModel):
    eventName: str
    s3: LogEntity


class LogNotificationBody(BaseModel):
    """``Records``, or S3's ``s3:TestEvent`` (none), when the notification is set up."""

    Records: list[LogNotification] = Field(default_factory=list)
    Event: str | None = None


class LogFileRecord(S3SqsEventNotificationRecordModel):
    body: Json[LogNotificationBody]  # type: ignore[assignment]


processor = BatchProcessor(
    event_type=EventType.SQS, model=LogFileRecord, raise_on_entire_batch_failure=False
)


@tracer.capture_method
def record_handler(record: LogFileRecord) -> None:
    for notification in record.body.Records:
        key = unquote_plus(notification.s3.object.key)  # spaces arrive as "+"
        if notification.eventName.startswith("ObjectCreated:") and key.startswith(CDN_LOG_PREFIX):
            count_log_file(notification.s3.bucket.name, key, notification.s3.object.eTag)


def count_log_file(bucket: str, key: str, etag: str) -> None:
    """Read one log file and add what it says was served; a file that is gone, or is no
    CloudFront log, is logged and left (counting it again would not help)."""
    try:
        served = cdn_logs.served_bytes(cdn_logs.read_log(storage.read_object(bucket, key, etag)))
    except storage.ObjectChanged:
        logger.warning("log file gone before it was counted", extra={"key": key})
        return
    except cdn_logs.NotALogFile as error:
        logger.warning("not a CloudFront log", extra={"key": key, "error": str(error)})
        return
    result = bandwidth.count_log_file(current_services(), served, log_id=f"{bucket}/{key}#{etag}")
    logger.info(
        "log file counted",
        extra={
            "key": key,
            "owners": len({user for user, _month in result.added}),
            "bytes": sum(result.added.values()),
            "unattributedBytes": result.unattributed,
            "duplicate": result.duplicate,
        },
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
