"""PATCH /media/{id}/confirm, GET /media/{id} and GET /media: an owner settles, reads
and lists assets."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import library, uploads
from mediaport.api.cursors import decode_cursor, encode_cursor
from mediaport.api.resolver import BEARER_AUTH, build_resolver, caller_id, problem_responses
from mediaport.api.schemas import AssetPage, AssetView
from mediaport.api.views import asset_view
from mediaport.keys import ASSET_ID_PATTERN
from mediaport.model import AssetStatus
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

app = build_resolver()

AssetId = Annotated[
    str,
    Path(
        description="The assetId from presign (a UUID).",
        pattern=ASSET_ID_PATTERN,
    ),
]
# DELETED assets are never listed (the trash is a listing of its own).
ListedStatus = Literal["PENDING", "READY", "REJECTED", "QUARANTINED"]


@app.patch(
    "/media/<id>/confirm",
    status_code=204,
    summary="Verify an upload now",
    description="Checks the stored bytes (real size, type from the signature, image "
    "integrity). 204 when READY, also when it already was; with "
    "`Prefer: return=representation`, 200 and the asset instead.",
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        200: {
            "description": "The asset is READY (asked for with Prefer).",
            "content": {"application/json": {"model": AssetView}},
        },
        204: {"description": "The asset is READY."},
        **problem_responses(400, 401, 403, 404, 409, 422, 503),
    },
)
@tracer.capture_method
def confirm(
    id: AssetId,
    prefer: Annotated[
        str | None,
        Header(max_length=256, description="`return=representation` answers 200 with the asset."),
    ] = None,
) -> Response[AssetView | None]:
    services = current_services()
    asset = uploads.require_ready(uploads.confirm_upload(services, caller_id(app), id))
    if _prefers_representation(prefer):
        return Response(200, "application/json", body=asset_view(asset, services.settings))
    return Response(204, body=None)


@app.get(
    "/media/<id>",
    summary="Read an asset",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The asset, as its owner sees it."},
        **problem_responses(400, 401, 403, 404, 503),
    },
)
@tracer.capture_method
def read(id: AssetId) -> AssetView:
    services = current_services()
    return asset_view(library.owned_asset(services, caller_id(app), id), services.settings)


@app.get(
    "/media",
    summary="List my assets",
    description="The caller's assets, newest first (DELETED ones never appear). A page "
    "may come back shorter than `limit` with a `nextCursor` to go on.",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "A page of the caller's assets, newest first."},
        **problem_responses(400, 401, 503),
    },
)
@tracer.capture_method
def list_mine(
    status: Annotated[ListedStatus | None, Query(description="Only assets in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> AssetPage:
    services, user = current_services(), caller_id(app)
    listed = AssetStatus(status) if status else None
    start = decode_cursor(cursor, user, listed) if cursor else None
    assets, last_key = library.list_assets(services, user, listed, limit, start)
    return AssetPage(
        items=[asset_view(asset, services.settings) for asset in assets],
        next_cursor=encode_cursor(last_key, listed) if last_key else None,
    )


def _prefers_representation(prefer: str | None) -> bool:
    # RFC 7240: comma-separated preferences, each maybe with parameters after ";".
    preferences = (part.split(";", 1)[0].strip().lower() for part in (prefer or "").split(","))
    return "return=representation" in preferences


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
