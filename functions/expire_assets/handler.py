"""DynamoDB stream (asset table) → expire_assets: files of records TTL removed are deleted.

Only REMOVE records made by TTL count: DynamoDB marks them with the service's identity
(``userIdentity`` type ``Service``, principal ``dynamodb.amazonaws.com``). The event source
mapping filters for exactly these; the handler checks again, so a record that slips
through (or the local worker, which sends every record) changes nothing. Records fail
one by one (``ReportBatchItemFailures``).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import expiry
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


def removed_by_ttl(record: DynamoDBRecord) -> bool:
    identity = record.user_identity
    return record.event_name is DynamoDBRecordEventName.REMOVE and all(
        identity.get(name) == value for name, value in TTL_IDENTITY.items()
    )


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    if not removed_by_ttl(record) or record.dynamodb is None:
        return
    services = current_services()
    expired = expiry.ExpiredAsset.from_image(record.dynamodb.old_image)
    removed = expiry.remove_expired_files(services, expired)
    # A deleted asset's time in the trash is up: its files are gone, a tombstone says so.
    purged = removed and expiry.record_purge(services, record.raw_event["dynamodb"]["OldImage"])
    logger.info(
        "expired asset",
        extra={
            "assetId": expired.asset_id,
            "status": expired.status,
            "filesRemoved": removed,
            "purged": purged,
        },
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
