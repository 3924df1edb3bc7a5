"""GET/POST /media/folders and DELETE /media/folders/{folderName}: the caller's folders."""

from typing import Annotated, Any
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import library
from mediaport.api.resolver import (
    BEARER_AUTH,
    build_resolver,
    caller_id,
    described_problem,
    problem_responses,
)
from mediaport.api.schemas import CreateFolderRequest, FolderList, FolderView
from mediaport.api.views import folder_view
from mediaport.errors import InvalidRequest
from mediaport.fields import normalize_folder
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

app = build_resolver()


@app.get(
    "/media/folders",
    summary="List my folders",
    description="Every folder of the caller (nested ones too), sorted by path, with the "
    "assets counted in usage (READY or QUARANTINED) directly in each and their bytes.",
    tags=["folders"],
    security=BEARER_AUTH,
    responses={200: {"description": "The caller's folders."}, **problem_responses(401, 503)},
)
@tracer.capture_method
def list_folders() -> FolderList:
    folders = library.folders_of(current_services(), caller_id(app))
    return FolderList(items=[folder_view(folder) for folder in folders])


@app.post(
    "/media/folders",
    status_code=201,
    summary="Create a folder",
    description="With every folder above it that is missing. 409 when it exists.",
    tags=["folders"],
    security=BEARER_AUTH,
    responses={
        201: {"description": "The folder, empty."},
        **problem_responses(400, 401, 409, 503),
    },
)
@tracer.capture_method
def create_folder(body: CreateFolderRequest) -> Response[FolderView]:
    folder = library.create_folder(current_services(), caller_id(app), body.path)
    return Response(201, "application/json", body=folder_view(folder))


@app.delete(
    "/media/folders/<folderName>",
    status_code=204,
    summary="Delete a folder",
    description="The path, URL-encoded as one segment (`trips%2F2026`). An empty folder is "
    "deleted; one holding assets or subfolders gets 409, unless `moveTo` names where they "
    "go first (subfolders keep their place under it). A very large folder moves in more "
    "than one request: 409 says how far it got; repeat it.",
    tags=["folders"],
    security=BEARER_AUTH,
    responses={
        204: {"description": "Deleted."},
        **problem_responses(400, 401, 409, 503),
        **described_problem(404, "No such folder of the caller's."),
    },
)
@tracer.capture_method
def delete_folder(
    folderName: Annotated[str, Path(max_length=300, description="The folder's path, URL-encoded.")],
    moveTo: Annotated[
        str | None, Query(max_length=300, description="Where its contents go first.")
    ] = None,
) -> Response[None]:
    path = _path(unquote(folderName), "folderName")
    move_to = _path(moveTo, "moveTo") if moveTo is not None else None
    library.delete_folder(current_services(), caller_id(app), path, move_to=move_to)
    return Response(204, body=None)


def _path(value: str, field: str) -> str:
    try:
        return normalize_folder(value)
    except ValueError as error:
        raise InvalidRequest(
            f"{field} {error}", errors=[{"field": field, "detail": str(error)}]
        ) from None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(_with_folder_in_one_segment(event), context)


def _with_folder_in_one_segment(event: dict[str, Any]) -> dict[str, Any]:
    """A folder path travels URL-encoded in one segment (trips%2F2026). API Gateway hands
    the path parameter over decoded, and the raw path may be decoded too; the resolver
    matches the raw path one segment a parameter, so the folder goes back in encoded."""
    folder = (event.get("pathParameters") or {}).get("folderName")
    if event.get("routeKey") != "DELETE /media/folders/{folderName}" or folder is None:
        return event
    encoded = quote(unquote(folder), safe="")
    return {**event, "rawPath": f"/media/folders/{encoded}"}
