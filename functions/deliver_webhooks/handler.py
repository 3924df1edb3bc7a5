"""SQS (the webhook queue) → deliver_webhooks: each record is one event for one URL,
POSTed signed as Standard Webhooks says (``mediaport.webhooks``, docs/events.md).

A delivery succeeds only on a 2xx answer. A failed one is put off (its message stays
invisible for the backoff: doubling from MEDIAPORT_WEBHOOK_BACKOFF_SECONDS, at most 12
hours) and reported in ``batchItemFailures``, so SQS delivers it again; after the queue's
maxReceiveCount it goes to the dead-letter queue. The signing secret is read once per
cold start: on AWS from Secrets Manager (MEDIAPORT_WEBHOOK_SECRET_ARN), locally from
MEDIAPORT_WEBHOOK_SECRET.
"""

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from mediaport import webhooks
from mediaport.config import get_settings
from mediaport.observability import logger, metrics, tracer


class WebhookRecord(SqsRecordModel):
    body: Json[webhooks.WebhookJob]


processor = BatchProcessor(
    event_type=EventType.SQS, model=WebhookRecord, raise_on_entire_batch_failure=False
)


@functools.cache
def signing_key() -> bytes:
    """The HMAC key, read (and checked) on first use and kept while warm."""
    return webhooks.signing_key(webhooks.secret_of(get_settings()))


@tracer.capture_method
def record_handler(record: WebhookRecord, lambda_context: LambdaContext) -> None:
    if lambda_context.get_remaining_time_in_millis() < (webhooks.TIMEOUT_SECONDS + 1) * 1000:
        raise webhooks.NotEnoughTime("not enough time left for a POST: delivered again")
    settings = get_settings()
    attempt = webhooks.Attempt(
        receive_count=int(record.attributes.ApproximateReceiveCount),
        receipt_handle=record.receiptHandle,
        max_receive_count=settings.webhook_max_receive_count,
        queue_arn=record.eventSourceARN,
    )
    webhooks.deliver_job(settings, record.body, attempt, signing_key)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
