"""DynamoDB streams (the asset and usage tables) → publish_events: every state change the
host app hears of, as an event on the mediaport bus, and one webhook job per configured
URL on the webhook queue (``mediaport.events``, docs/events.md).

Events come from the streams, not from the handlers that write: a function that dies
right after its write loses nothing, because the record waits in the stream until this
function has published its events. Records fail one by one (``ReportBatchItemFailures``):
the mapping delivers the batch again from the first failed record (halving it on error),
and sends what keeps failing to its on-failure dead-letter queue. A record delivered
again publishes the same events (the same ``eventId``s) again: at least once.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import events
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


def table_of(stream_arn: str | None) -> str:
    """The table a stream belongs to: ``arn:aws:dynamodb:…:table/{name}/stream/{label}``."""
    _, _, rest = (stream_arn or "").partition(":table/")
    return rest.split("/", 1)[0]


def change_of(record: DynamoDBRecord) -> events.StreamChange:
    change: dict[str, Any] = record.raw_event.get("dynamodb", {})
    created = change.get("ApproximateCreationDateTime")
    return events.StreamChange(
        table_name=table_of(record.event_source_arn),
        old_image=change.get("OldImage"),
        new_image=change.get("NewImage"),
        recorded_at=(datetime.fromtimestamp(float(created), UTC) if created else datetime.now(UTC)),
    )


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    services = current_services()
    found = events.events_of(services, change_of(record))
    events.publish(services.settings, found)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
