"""SQS → process_upload: each record carries one S3 ObjectCreated notification for ``media/``.

Records fail one by one (``ReportBatchItemFailures``): a transient error in one object
leaves only that message for SQS to retry, then to dead-letter after the queue's
``maxReceiveCount`` receives. The function learns that count from its environment
(``MEDIAPORT_MAX_RECEIVE_COUNT``, set from the constant the queue is made with), so the
last delivery can leave the asset in a final state instead of stuck.
"""

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import S3SqsEventNotificationRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field, Json
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediaport import processing
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services


class S3ObjectRef(BaseModel):
    key: str  # URL-encoded, as S3 sends it


class S3BucketRef(BaseModel):
    name: str


class S3Entity(BaseModel):
    bucket: S3BucketRef
    object: S3ObjectRef


class S3Notification(BaseModel):
    eventName: str
    s3: S3Entity


class S3NotificationBody(BaseModel):
    """A notification message body: ``Records``, or S3's ``s3:TestEvent`` (no records).

    Powertools' ``S3Model`` requires fields (``userIdentity``, ``requestParameters``…)
    that S3's test event lacks and that this function never reads, so the body model
    keeps only what is used.
    """

    Records: list[S3Notification] = Field(default_factory=list)
    Event: str | None = None


class UploadNotificationRecord(S3SqsEventNotificationRecordModel):
    body: Json[S3NotificationBody]  # type: ignore[assignment]


# A batch where every record failed is reported like any other (every item listed) rather
# than raised: SQS retries exactly the same messages either way, and the local worker
# sees the same response shape in both cases.
processor = BatchProcessor(
    event_type=EventType.SQS,
    model=UploadNotificationRecord,
    raise_on_entire_batch_failure=False,
)


class DeliverySettings(BaseSettings):
    """How SQS delivers to this function (the stack sets these from the queue's own)."""

    model_config = SettingsConfigDict(env_prefix="MEDIAPORT_", extra="ignore", frozen=True)

    # The upload queue's maxReceiveCount; unset, no delivery is known to be the last.
    max_receive_count: int | None = Field(default=None, ge=1)
    # The most one object may take (verify, decode, encode, write): with less time left,
    # the record is handed back to SQS instead of being started and cut off.
    object_time_budget_ms: int = Field(default=10_000, ge=0)


@functools.cache
def delivery_settings() -> DeliverySettings:
    """Read once per cold start."""
    return DeliverySettings()


@tracer.capture_method
def record_handler(record: UploadNotificationRecord, lambda_context: LambdaContext) -> None:
    if record.body.Event == "s3:TestEvent":
        logger.info("S3 test event acknowledged")
    settings = delivery_settings()
    attempt = processing.Attempt(
        receive_count=int(record.attributes.ApproximateReceiveCount),
        max_receive_count=settings.max_receive_count,
        remaining_ms=lambda_context.get_remaining_time_in_millis,
        needed_ms=settings.object_time_budget_ms,
    )
    for notification in record.body.Records:
        if not notification.eventName.startswith("ObjectCreated:"):
            continue
        outcome = processing.process_uploaded_object(
            current_services(),
            notification.s3.bucket.name,
            notification.s3.object.key,
            attempt,
        )
        logger.info("processed", extra={"key": notification.s3.object.key, "outcome": outcome})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
