"""SQS (the jobs queue) → transform_media: each record is one job, a requested variant or
the thumbnails of a released asset (``mediaport.variants.run_job``).

Records fail one by one (``ReportBatchItemFailures``): a transient error leaves only that
job for SQS to retry, then to dead-letter after the queue's ``maxReceiveCount`` receives;
the last delivery records the variant FAILED instead of leaving it PENDING.
"""

import functools
from typing import Any, Literal

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, Json
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediaport import processing, variants
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services


class Job(BaseModel):
    """What transforms (a requested variant) and admin (a release's thumbnails) queue."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["variant", "thumbnails"]
    assetId: str = Field(min_length=1, max_length=64)
    checksum: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=64)


class JobRecord(SqsRecordModel):
    body: Json[Job]


processor = BatchProcessor(
    event_type=EventType.SQS, model=JobRecord, raise_on_entire_batch_failure=False
)


class DeliverySettings(BaseSettings):
    """How SQS delivers to this function (the stack sets it from the queue's own)."""

    model_config = SettingsConfigDict(env_prefix="MEDIAPORT_", extra="ignore", frozen=True)

    # The jobs queue's maxReceiveCount (MEDIAPORT_JOBS_MAX_RECEIVE_COUNT); unset, no
    # delivery is known to be the last.
    jobs_max_receive_count: int | None = Field(default=None, ge=1)


@functools.cache
def delivery_settings() -> DeliverySettings:
    return DeliverySettings()


@tracer.capture_method
def record_handler(record: JobRecord, lambda_context: LambdaContext) -> None:
    attempt = processing.Attempt(
        receive_count=int(record.attributes.ApproximateReceiveCount),
        max_receive_count=delivery_settings().jobs_max_receive_count,
        remaining_ms=lambda_context.get_remaining_time_in_millis,
    )
    job = record.body
    outcome = variants.run_job(current_services(), job.model_dump(exclude_none=True), attempt)
    logger.info("job done", extra={"job": job.model_dump(), "outcome": outcome})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
