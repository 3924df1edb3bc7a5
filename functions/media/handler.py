"""PATCH /media/{id}/confirm, GET /media/{id} and GET /media: an owner settles, reads
and lists assets."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import uploads
from mediaport.http import BEARER_AUTH, build_resolver, caller_id, problem_responses
from mediaport.models import AssetStatus
from mediaport.observability import logger, metrics, tracer

app = build_resolver()

AssetId = Annotated[str, Path(description="The assetId from presign.")]


@app.patch(
    "/media/<id>/confirm",
    status_code=204,
    summary="Verify an upload now",
    description="Checks the stored bytes (real size, type from the signature, image "
    "integrity). 204 when READY, also when it already was.",
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        204: {"description": "The asset is READY."},
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
@tracer.capture_method
def confirm(id: AssetId) -> None:
    settlement = uploads.confirm_upload(caller_id(app), id)
    if settlement.transitioned:
        metrics.add_metric(name="UploadsReady", unit=MetricUnit.Count, value=1)


@app.get(
    "/media/<id>",
    summary="Read an asset",
    tags=["media"],
    security=BEARER_AUTH,
    responses=problem_responses(401, 403, 404, 503),
)
@tracer.capture_method
def read(id: AssetId) -> uploads.AssetView:
    return uploads.read_asset(caller_id(app), id)


@app.get(
    "/media",
    summary="List my assets",
    description="The caller's assets, newest first (DELETED ones never appear).",
    tags=["media"],
    security=BEARER_AUTH,
    responses=problem_responses(400, 401, 503),
)
@tracer.capture_method
def list_mine(
    status: Annotated[AssetStatus | None, Query(description="Only assets in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> uploads.AssetPage:
    return uploads.list_assets(caller_id(app), status, limit, cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
