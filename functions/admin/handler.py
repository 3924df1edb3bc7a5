"""Admin routes (the ``admin`` group claim; anyone else gets 403): what malware scanning
quarantined, of every user, and its release after review (``mediaport.scanning``)."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import scanning
from mediaport.api.cursors import decode_cursor, encode_cursor
from mediaport.api.resolver import BEARER_AUTH, build_resolver, problem_responses, require_admin
from mediaport.api.schemas import QuarantinedPage, ReleasedView, ReleaseRequest
from mediaport.api.views import quarantined_view, released_view
from mediaport.errors import InvalidCursor
from mediaport.keys import ASSET_ID_PATTERN
from mediaport.model.library import ListingFingerprint
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

app = build_resolver()

AssetId = Annotated[str, Path(description="The assetId (a UUID).", pattern=ASSET_ID_PATTERN)]


@app.get(
    "/admin/media/quarantined",
    summary="List quarantined assets",
    description="Every user's QUARANTINED assets, newest first: a threat found "
    "(scanStatus INFECTED), or a scan that could not be done under the block policy "
    "(ERROR). Filter by `scanStatus` and `userId`; page with `cursor`.",
    tags=["admin"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "A page of quarantined assets."},
        **problem_responses(400, 401, 403),
    },
)
@tracer.capture_method
def list_quarantined(
    scan_status: Annotated[Literal["INFECTED", "ERROR"] | None, Query(alias="scanStatus")] = None,
    user_id: Annotated[str | None, Query(alias="userId", min_length=1, max_length=256)] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> QuarantinedPage:
    admin = require_admin(app)
    services = current_services()
    listing = ListingFingerprint(
        admin, "quarantined", {"scanStatus": scan_status, "userId": user_id}
    )
    start = decode_cursor(cursor, listing) if cursor else None
    if start is not None and not services.assets.quarantine_page_starts_well(start):
        raise InvalidCursor("is not a cursor this API returned")
    page = services.assets.list_quarantined(
        scan_status=scan_status, user_id=user_id, limit=limit, start_after=start
    )
    return QuarantinedPage(
        items=[quarantined_view(asset) for asset in page.assets],
        next_cursor=encode_cursor(page.next_start, listing) if page.next_start else None,
    )


@app.post(
    "/admin/media/<id>/release",
    summary="Release a quarantined asset",
    description="Marks it CLEAN by manual review (`releasedBy`, `releasedAt`, `reason`) and "
    "serves it again: the original is copied out of the scanned prefix (GuardDuty's tag "
    "cannot be rewritten) and its variants are made again. 409 when it is not QUARANTINED.",
    tags=["admin"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The released asset."},
        **problem_responses(400, 401, 403, 404, 409, 503),
    },
)
@tracer.capture_method
def release(id: AssetId, request: Annotated[ReleaseRequest, Body()]) -> ReleasedView:
    admin = require_admin(app)
    released = scanning.release(current_services(), id, admin=admin, reason=request.reason)
    return released_view(released)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
