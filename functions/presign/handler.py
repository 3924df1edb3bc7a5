"""POST /media/presign: record a PENDING asset and hand out a presigned upload."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import idempotency, uploads
from mediaport.api.resolver import (
    BEARER_AUTH,
    IdempotencyKey,
    build_resolver,
    caller_id,
    caller_tier,
    idempotency_responses,
    problem_responses,
)
from mediaport.api.schemas import PresignRequest, UploadTicket
from mediaport.api.views import ticket_view
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

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
        **problem_responses(400, 401, 403, 503),
        **idempotency_responses(),
    },
)
@tracer.capture_method
def presign(
    request: Annotated[PresignRequest, Body()], idempotency_key: IdempotencyKey = None
) -> UploadTicket:
    services = current_services()
    user_id = caller_id(app)

    def start_upload() -> UploadTicket:
        ticket = uploads.create_upload(
            services, user_id, request.to_intent(caller_tier(app, services.settings))
        )
        metrics.add_metric(name="UploadsStarted", unit=MetricUnit.Count, value=1)
        return ticket_view(ticket)

    return idempotency.run_once(
        start_upload,
        key=idempotency_key,
        caller=user_id,
        request=request,
        response_model=UploadTicket,
        operation_name="presign",
        table_name=services.settings.idempotency_table_name,
        # The record goes before the URL does: a replay never hands out an expired one.
        response_valid_seconds=services.settings.presign_expires_seconds,
        lambda_context=app.lambda_context,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
