"""POST /media/presign: record a PENDING asset and hand out a presigned upload."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import uploads
from mediaport.http import BEARER_AUTH, build_resolver, caller_id, problem_responses
from mediaport.observability import logger, metrics, tracer

app = build_resolver()


@app.post(
    "/media/presign",
    status_code=201,
    summary="Start an upload",
    description="Checks the declared type and size against the scope, records a PENDING "
    "asset and returns a presigned PUT URL (or POST form) for uploading straight to S3.",
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        201: {"description": "Upload straight to storage with this."},
        **problem_responses(400, 401, 503),
    },
)
@tracer.capture_method
def presign(request: Annotated[uploads.PresignRequest, Body()]) -> uploads.UploadTicket:
    ticket = uploads.create_upload(caller_id(app), request)
    metrics.add_metric(name="UploadsStarted", unit=MetricUnit.Count, value=1)
    return ticket


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
