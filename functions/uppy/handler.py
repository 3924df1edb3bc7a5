"""Uppy: open and revoke upload sessions, and serve Companion's S3 contract under a
session's capability URL (``/uppy/{session}``), exactly as ``@uppy/aws-s3`` 6.x calls it.

The token in a session route's path is swapped for the session id before anything else
sees the event (``hide_session_token``), so it is never logged nor traced.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import companion, sessions
from mediaport.api.resolver import (
    BEARER_AUTH,
    build_resolver,
    caller_id,
    caller_tier,
    described_problem,
    problem_responses,
)
from mediaport.api.uppy import (
    MediaType,
    MultipartCompleted,
    MultipartCreated,
    OpenSessionRequest,
    S3PostParams,
    SignedPart,
    UploadSessionView,
    UppyCompleteRequest,
    UppyFileRequest,
    UppyPart,
    api_base_url,
    file_from_query,
    hide_session_token,
)
from mediaport.fields import MAX_ALT_TEXT, MAX_CAPTION
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

app = build_resolver()

# Where a session's capability URL points (the route table's UPPY_PREFIX).
PREFIX = "/uppy/<session>"

# The routes get the token's SHA-256 in its place (hex: it fits the token's own pattern).
SessionToken = Annotated[
    str,
    Path(
        description="The session's token: the last path segment of `companionEndpoint`.",
        pattern=r"^[A-Za-z0-9_-]+$",
        max_length=128,
    ),
]
UploadId = Annotated[
    str, Path(alias="uploadId", max_length=1024, description="The uploadId `/s3/multipart` gave.")
]
ObjectKey = Annotated[
    str, Query(min_length=1, max_length=1024, description="The key `/s3/multipart` gave.")
]
TYPE = "The file's media type (normalised as at presign); the session's scope must allow it."
METADATA = "Of the file's metadata only altText, caption and tags are kept; the rest is ignored."


NO_SESSION = described_problem(404, "No such upload session: unknown, expired or revoked.")
NO_UPLOAD = described_problem(
    404,
    "No such upload session (unknown, expired or revoked), or no upload of this session "
    "has this key and uploadId.",
)
NOT_IN_PROGRESS = described_problem(
    409, "The upload ended meanwhile: storage aborted it (the asset ends REJECTED, ABORTED)."
)


@app.post(
    "/uploads/sessions",
    status_code=201,
    summary="Open an Uppy upload session",
    description="A capability URL for `@uppy/aws-s3`'s `companionEndpoint` mode, which "
    "sends no bearer token: whoever holds it may upload as the caller, into the scope and "
    "folder given here, and nothing else, for at most an hour (see docs/uppy.md).",
    tags=["uppy"],
    security=BEARER_AUTH,
    responses={
        201: {"description": "Hand `companionEndpoint` to Uppy."},
        **problem_responses(400, 401, 503),
    },
)
@tracer.capture_method(capture_response=False)  # the answer holds the token
def open_session(request: Annotated[OpenSessionRequest, Body()]) -> UploadSessionView:
    services = current_services()
    opened = sessions.open_session(
        services,
        caller_id(app),
        request.scope,
        request.folder,
        caller_tier(app, services.settings),
    )
    return UploadSessionView(
        companion_endpoint=f"{api_base_url(app.current_event)}/uppy/{opened.token}",
        expires_at=opened.session.expires_at,
    )


@app.delete(
    "/uploads/sessions/<token>",
    status_code=204,
    summary="Revoke an Uppy upload session",
    description="Its capability URL stops working at once; uploads it finished stay.",
    tags=["uppy"],
    security=BEARER_AUTH,
    responses={
        204: {"description": "Revoked."},
        **problem_responses(401, 503),
        **described_problem(404, "No active session of yours has this token."),
    },
)
@tracer.capture_method
def revoke_session(token: SessionToken) -> Response[None]:
    sessions.revoke_session(current_services(), caller_id(app), token)
    return Response(204, body=None)


@app.get(
    f"{PREFIX}/s3/params",
    summary="Sign a single-request upload (Companion)",
    description="A presigned POST for a new PENDING asset; the S3 event verifies it. " + METADATA,
    tags=["uppy"],
    responses={
        200: {"description": "POST the file with these fields."},
        **problem_responses(400, 403, 503),
        **NO_SESSION,
    },
)
@tracer.capture_method
def single_upload(
    session: SessionToken,
    filename: Annotated[str, Query(min_length=1, max_length=1024)],
    media_type: Annotated[MediaType, Query(alias="type", description=TYPE)],
    alt_text: Annotated[
        str | None, Query(alias="metadata[altText]", max_length=MAX_ALT_TEXT)
    ] = None,
    caption: Annotated[str | None, Query(alias="metadata[caption]", max_length=MAX_CAPTION)] = None,
    tags: Annotated[str | None, Query(alias="metadata[tags]", max_length=5000)] = None,
) -> S3PostParams:
    services = current_services()
    upload_session = sessions.active_session(services, session)
    file = file_from_query(filename, media_type, alt_text, caption, tags)
    post = companion.presign_post(services, upload_session, file)
    metrics.add_metric(name="UploadsStarted", unit=MetricUnit.Count, value=1)
    return S3PostParams(url=post.url, fields=post.fields)


@app.post(
    f"{PREFIX}/s3/multipart",
    summary="Start a multipart upload (Companion)",
    description="A new PENDING asset and its S3 multipart upload. " + METADATA,
    tags=["uppy"],
    responses={
        200: {"description": "Sign and upload its parts."},
        **problem_responses(400, 403, 503),
        **NO_SESSION,
    },
)
@tracer.capture_method
def start_multipart(
    session: SessionToken, request: Annotated[UppyFileRequest, Body()]
) -> MultipartCreated:
    services = current_services()
    upload_session = sessions.active_session(services, session)
    asset = companion.start_multipart(services, upload_session, request.to_file())
    metrics.add_metric(name="UploadsStarted", unit=MetricUnit.Count, value=1)
    assert asset.upload_id is not None  # a started upload has its id
    return MultipartCreated(upload_id=asset.upload_id, key=asset.key)


@app.get(
    f"{PREFIX}/s3/multipart/<uploadId>/<partNumber>",
    summary="Sign one part (Companion)",
    tags=["uppy"],
    responses={
        200: {"description": "PUT the part's bytes here."},
        **problem_responses(400, 503),
        **NO_UPLOAD,
        **NOT_IN_PROGRESS,
    },
)
@tracer.capture_method
def sign_part(
    session: SessionToken,
    upload_id: UploadId,
    part_number: Annotated[int, Path(alias="partNumber", ge=1, le=10_000)],
    key: ObjectKey,
) -> SignedPart:
    services = current_services()
    upload_session = sessions.active_session(services, session)
    url = companion.sign_part(services, upload_session, upload_id, key, part_number)
    return SignedPart(url=url)


@app.get(
    f"{PREFIX}/s3/multipart/<uploadId>",
    summary="List uploaded parts (Companion)",
    tags=["uppy"],
    responses={
        200: {"description": "The parts storage holds, in part order."},
        **problem_responses(400, 503),
        **NO_UPLOAD,
        **NOT_IN_PROGRESS,
    },
)
@tracer.capture_method
def list_parts(session: SessionToken, upload_id: UploadId, key: ObjectKey) -> list[UppyPart]:
    services = current_services()
    upload_session = sessions.active_session(services, session)
    parts = companion.uploaded_parts(services, upload_session, upload_id, key)
    return [UppyPart(part_number=p.part_number, etag=p.etag, size=p.size) for p in parts]


@app.post(
    f"{PREFIX}/s3/multipart/<uploadId>/complete",
    summary="Complete a multipart upload (Companion)",
    description="Assembles the parts (only each part's number and ETag go to storage) and "
    "verifies the file now, as the native complete does.",
    tags=["uppy"],
    responses={
        200: {"description": "The asset is READY."},
        **problem_responses(400, 422, 503),
        **NO_UPLOAD,
        **NOT_IN_PROGRESS,
    },
)
@tracer.capture_method
def complete_multipart(
    session: SessionToken,
    upload_id: UploadId,
    key: ObjectKey,
    request: Annotated[UppyCompleteRequest, Body()],
) -> MultipartCompleted:
    services = current_services()
    upload_session = sessions.active_session(services, session)
    listed = [(part.part_number, part.etag) for part in request.parts]
    asset = companion.complete_multipart(services, upload_session, upload_id, key, listed)
    return MultipartCompleted(
        location=companion.object_location(asset), key=asset.key, bucket=asset.bucket
    )


@app.delete(
    f"{PREFIX}/s3/multipart/<uploadId>",
    status_code=204,
    summary="Abort a multipart upload (Companion)",
    description="Frees the parts; the asset ends REJECTED (`ABORTED`).",
    tags=["uppy"],
    responses={
        204: {"description": "Aborted."},
        **problem_responses(400, 503),
        **NO_UPLOAD,
        **NOT_IN_PROGRESS,
    },
)
@tracer.capture_method
def abort_multipart(session: SessionToken, upload_id: UploadId, key: ObjectKey) -> Response[None]:
    services = current_services()
    upload_session = sessions.active_session(services, session)
    companion.abort_multipart(services, upload_session, upload_id, key)
    return Response(204, body=None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)  # a session's answer holds its token
@metrics.log_metrics
def _resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _resolve(hide_session_token(event), context)
