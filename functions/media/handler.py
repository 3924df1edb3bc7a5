"""The library's asset routes: confirm, read, list, edit, delete, restore, move and
download the caller's assets (``mediaport.library`` has the use cases)."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import library, uploads
from mediaport.api.cursors import decode_cursor, encode_cursor
from mediaport.api.resolver import (
    BEARER_AUTH,
    build_resolver,
    caller_id,
    caller_tier,
    problem_responses,
)
from mediaport.api.schemas import AssetPage, AssetPatch, AssetView, DownloadView, MoveRequest
from mediaport.api.views import asset_view, etag_of
from mediaport.errors import InvalidRequest
from mediaport.fields import normalize_folder, normalize_tags
from mediaport.keys import ASSET_ID_PATTERN
from mediaport.model import Asset, AssetStatus
from mediaport.model.library import NO_FOLDER, LibraryQuery, SortOrder
from mediaport.observability import logger, metrics, tracer
from mediaport.services import Services, current_services

app = build_resolver()

AssetId = Annotated[
    str,
    Path(
        description="The assetId from presign (a UUID).",
        pattern=ASSET_ID_PATTERN,
    ),
]
# DELETED assets are never listed (the trash is a listing of its own: deleted=true).
ListedStatus = Literal["PENDING", "READY", "REJECTED", "QUARANTINED"]
MERGE_PATCH = "application/merge-patch+json"
MediaCategory = Literal["image", "video", "audio", "document", "other"]


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
    description="The asset as its owner sees it, with an `ETag` header (its version, for "
    "`If-Match`). An asset in the trash is read too (status DELETED, with `purgeAt`).",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The asset, as its owner sees it."},
        **problem_responses(400, 401, 403, 404, 503),
    },
)
@tracer.capture_method
def read(id: AssetId) -> Response[AssetView]:
    services = current_services()
    asset = library.owned_asset(services, caller_id(app), id, deleted=True)
    return _with_etag(asset, services)


@app.patch(
    "/media/<id>",
    summary="Edit an asset's library fields",
    description="A JSON merge patch (RFC 7396) of `altText`, `caption`, `tags` and "
    "`folder`: a field left out stays, `null` clears it, any other field is a 400. Moving "
    "to another folder moves its counts in the same transaction. With `If-Match`, only "
    "if the asset is still at that version (412 otherwise).",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The asset as edited, with its new `ETag`."},
        **problem_responses(400, 401, 403, 404, 409, 412, 503),
    },
)
@tracer.capture_method
def edit(
    id: AssetId,
    patch: Annotated[AssetPatch, Body(media_type="application/merge-patch+json")],
    if_match: Annotated[
        str | None,
        Header(max_length=128, description="The `ETag` of the version the edit is for."),
    ] = None,
) -> Response[AssetView]:
    services = current_services()
    version = _version_of(if_match)
    asset = library.edit_asset(services, caller_id(app), id, patch.changes(), if_match=version)
    return _with_etag(asset, services)


@app.delete(
    "/media/<id>",
    status_code=204,
    summary="Delete an asset (to the trash)",
    description="READY → DELETED: it stops being served and leaves the owner's usage at "
    "once; `POST /media/{id}/restore` brings it back until it is purged "
    "(`MEDIAPORT_TRASH_DAYS`, 30 by default). An attached asset gets 409 naming its "
    "attachments, unless `?detach=true`.",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        204: {"description": "In the trash (also when it already was)."},
        **problem_responses(400, 401, 403, 404, 409, 503),
    },
)
@tracer.capture_method
def delete(
    id: AssetId,
    detach: Annotated[
        bool, Query(description="Detach it from everything it is attached to, in the same step.")
    ] = False,
) -> Response[None]:
    library.delete_asset(current_services(), caller_id(app), id, detach=detach)
    return Response(204, body=None)


@app.post(
    "/media/<id>/restore",
    summary="Restore an asset from the trash",
    description="DELETED → READY while it is in the trash, counted in usage again within "
    "the caller's tier (403 quota-exceeded when it no longer fits); 409 once purged.",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The asset, READY again."},
        **problem_responses(400, 401, 403, 404, 409, 503),
    },
)
@tracer.capture_method
def restore(id: AssetId) -> Response[AssetView]:
    services = current_services()
    asset = library.restore_asset(services, caller_id(app), id, caller_tier(app, services.settings))
    return _with_etag(asset, services)


@app.post(
    "/media/<id>/move",
    summary="Move an asset to a folder",
    description="Into `folder` (created when missing), or out of every folder with `null`; "
    "the folders' counts move in the same transaction.",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The asset, in its new folder."},
        **problem_responses(400, 401, 403, 404, 409, 503),
    },
)
@tracer.capture_method
def move(id: AssetId, body: MoveRequest) -> Response[AssetView]:
    services = current_services()
    asset = library.move_asset(services, caller_id(app), id, body.folder)
    return _with_etag(asset, services)


@app.get(
    "/media/<id>/download",
    status_code=302,
    summary="Download an asset",
    description="302 to a short-lived URL whose `Content-Disposition: attachment` carries the "
    "original filename (RFC 6266, `filename*=UTF-8''...`). With `Accept: application/json`, "
    "200 and the URL instead (a browser app cannot send its token along a plain link).",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        200: {
            "description": "The download URL (asked for with Accept: application/json).",
            "content": {"application/json": {"model": DownloadView}},
        },
        302: {"description": "Redirected to the download URL (in `Location`)."},
        **problem_responses(400, 401, 403, 404, 409, 503),
    },
)
@tracer.capture_method
def download(
    id: AssetId,
    accept: Annotated[str | None, Header(max_length=512)] = None,
) -> Response[DownloadView | None]:
    found = library.download(current_services(), caller_id(app), id)
    if "application/json" in (accept or ""):
        view = DownloadView(url=found.url, filename=found.filename, expires_at=found.expires_at)
        return Response(200, "application/json", body=view)
    return Response(302, headers={"Location": found.url}, body=None)


@app.get(
    "/media",
    summary="List my assets",
    description="The caller's library, or with `deleted=true` their trash. Filters combine; "
    "`folder`, `type`, `status` and each order are served by an index. `q` and `tag` (and "
    "a second filter) are evaluated on at most 1,000 assets per request, so a page may "
    "come back shorter than `limit` with a `nextCursor` to go on.",
    tags=["media"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "A page of the caller's assets."},
        **problem_responses(400, 401, 503),
    },
)
@tracer.capture_method
def list_mine(
    folder: Annotated[
        str | None,
        Query(
            max_length=300,
            description="Only assets in this folder (`trips/2026`); `/` for those in none.",
        ),
    ] = None,
    recursive: Annotated[bool, Query(description="With `folder`: its subfolders too.")] = False,
    tag: Annotated[
        list[str] | None, Query(max_length=20, description="Repeatable; every one must match.")
    ] = None,
    type: Annotated[MediaCategory | None, Query(description="The type category.")] = None,
    mime_type: Annotated[
        str | None, Query(alias="mimeType", max_length=255, description="The detected type.")
    ] = None,
    scope: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[ListedStatus | None, Query(description="Only assets in this state.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Case-insensitive text in the filename, alt text or caption.",
        ),
    ] = None,
    deleted: Annotated[bool, Query(description="The trash instead of the library.")] = False,
    sort: Annotated[SortOrder, Query(description="The order.")] = "-createdAt",
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> AssetPage:
    services, user = current_services(), caller_id(app)
    query = LibraryQuery(
        user,
        folder=_folder_filter(folder),
        recursive=recursive,
        tags=tuple(_tags_filter(tag or [])),
        type=type,
        mime_type=mime_type,
        scope=scope,
        status=AssetStatus(status) if status else None,
        q=q.strip() or None if q else None,
        deleted=deleted,
        sort=sort,
        limit=limit,
    )
    start = decode_cursor(cursor, query) if cursor else None
    page = library.list_library(services, query, start)
    return AssetPage(
        items=[asset_view(asset, services.settings) for asset in page.assets],
        next_cursor=encode_cursor(page.next_start, query) if page.next_start else None,
    )


def _with_etag(asset: Asset, services: Services) -> Response[AssetView]:
    return Response(
        200,
        "application/json",
        body=asset_view(asset, services.settings),
        headers={"ETag": etag_of(asset)},
    )


def _version_of(if_match: str | None) -> int | None:
    """The version an If-Match names; None for none (or ``*``: any version)."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 12:
        return -1  # names no version this asset can have: 412 (once the asset is found)
    return int(tag)


def _folder_filter(folder: str | None) -> str | None:
    if folder is None or folder.strip() in ("", NO_FOLDER):
        return NO_FOLDER if folder is not None and folder.strip() == NO_FOLDER else None
    try:
        return normalize_folder(folder)
    except ValueError as error:
        raise InvalidRequest(
            f"folder {error}", errors=[{"field": "folder", "detail": str(error)}]
        ) from None


def _tags_filter(tags: list[str]) -> list[str]:
    try:
        return normalize_tags(tags)
    except ValueError as error:
        raise InvalidRequest(
            f"tag: {error}", errors=[{"field": "tag", "detail": str(error)}]
        ) from None


def _prefers_representation(prefer: str | None) -> bool:
    # RFC 7240: comma-separated preferences, each maybe with parameters after ";".
    preferences = (part.split(";", 1)[0].strip().lower() for part in (prefer or "").split(","))
    return "return=representation" in preferences


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(_merge_patch_as_json(event), context)


def _merge_patch_as_json(event: dict[str, Any]) -> dict[str, Any]:
    """A merge patch is JSON (RFC 7396): it is read as such."""
    headers = event.get("headers") or {}
    content_type = str(headers.get("content-type", ""))
    if not content_type.lower().startswith(MERGE_PATCH):
        return event
    json_type = "application/json" + content_type[len(MERGE_PATCH) :]
    return {**event, "headers": {**headers, "content-type": json_type}}
