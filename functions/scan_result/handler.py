"""EventBridge → scan_result: GuardDuty Malware Protection for S3's "Object Scan Result"
(or the local stack's stand-in, which sends the same event) becomes the asset's scan
status (``mediaport.scanning.record_scan_result``).

A result for an upload not verified yet raises, so the event is delivered again (Lambda's
asynchronous retries, then the rule's dead-letter queue); meanwhile the upload's settle
reads the result from the object's tag, so either order ends the same.
"""

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from mediaport import scanning
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

SCAN_RESULT = "GuardDuty Malware Protection Object Scan Result"


class S3ObjectDetails(BaseModel):
    bucketName: str
    objectKey: str
    eTag: str
    versionId: str | None = None


class ScanResultDetails(BaseModel):
    scanResultStatus: str = Field(min_length=1)


class ScanResultDetail(BaseModel):
    s3ObjectDetails: S3ObjectDetails
    scanResultDetails: ScanResultDetails


class ScanResultEvent(EventBridgeModel):
    detail: ScanResultDetail


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    if event.get("detail-type") != SCAN_RESULT or event.get("source") != "aws.guardduty":
        logger.warning("not a scan result", extra={"detail_type": event.get("detail-type")})
        return {"outcome": scanning.ScanOutcome.IGNORED.value}
    scan = parse(event=event, model=ScanResultEvent)
    details = scan.detail.s3ObjectDetails
    outcome = scanning.record_scan_result(
        current_services(),
        details.bucketName,
        details.objectKey,
        details.eTag,
        scan.detail.scanResultDetails.scanResultStatus,
        scan.time,
    )
    logger.info("scan result", extra={"key": details.objectKey, "outcome": outcome})
    return {"outcome": outcome.value}
