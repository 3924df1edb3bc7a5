"""The S3 multipart routes: initiate, sign parts, list parts, complete (verify now), abort."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import idempotency, multipart, uploads
from mediaport.api.resolver import (
    BEARER_AUTH,
    IdempotencyKey,
    build_resolver,
    caller_id,
    caller_tier,
    described_problem,
    idempotency_responses,
    problem_responses,
)
from mediaport.api.schemas import (
    AbortMultipartRequest,
    AssetView,
    CompleteMultipartRequest,
    MultipartInitiateRequest,
    MultipartStarted,
    SignedPartUrls,
    SignPartsRequest,
    UploadedParts,
    UploadedPartView,
)
from mediaport.api.views import asset_view
from mediaport.keys import ASSET_ID_PATTERN
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

app = build_resolver()

AssetId = Annotated[str, Path(description="The assetId from initiate.", pattern=ASSET_ID_PATTERN)]
NOT_IN_PROGRESS = described_problem(
    409,
    "The asset's upload is over (completed, aborted or expired), or it is not a multipart upload.",
)


@app.post(
    "/media/upload/multipart/initiate",
    status_code=201,
    summary="Start a multipart upload",
    description="For large files: checks the declared type and size against the scope, "
    "records a PENDING asset and starts an S3 multipart upload. Every part is `partSize` "
    "bytes but the last; ask for the parts' URLs with `/media/upload/multipart/part`.",
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        201: {"description": "The upload is started; upload its parts."},
        **problem_responses(400, 401, 403, 503),
        **idempotency_responses(),
    },
)
@tracer.capture_method
def initiate(
    request: Annotated[MultipartInitiateRequest, Body()], idempotency_key: IdempotencyKey = None
) -> MultipartStarted:
    services = current_services()
    user_id = caller_id(app)

    def start_upload() -> MultipartStarted:
        started = multipart.start_multipart(
            services, user_id, request.to_intent(caller_tier(app, services.settings))
        )
        metrics.add_metric(name="UploadsStarted", unit=MetricUnit.Count, value=1)
        asset, plan = started.asset, started.plan
        # A declared size always has a plan, and a started upload its id.
        assert plan is not None
        assert asset.upload_id is not None
        return MultipartStarted(
            asset_id=asset.asset_id,
            key=asset.key,
            upload_id=asset.upload_id,
            part_size=plan.part_size,
            part_count=plan.part_count,
            expires_at=started.expires_at,
        )

    return idempotency.run_once(
        start_upload,
        key=idempotency_key,
        caller=user_id,
        request=request,
        response_model=MultipartStarted,
        operation_name="multipart-initiate",
        table_name=services.settings.idempotency_table_name,
        # As presign's: a retry within the signing window gets the same upload.
        response_valid_seconds=services.settings.presign_expires_seconds,
        lambda_context=app.lambda_context,
    )


@app.post(
    "/media/upload/multipart/part",
    summary="Sign part URLs",
    description="A presigned PUT URL for each part number (at most 100 per call). Each "
    "signs its part's exact Content-Length, so the parts can only add up to the declared "
    "size; a part's SHA-256, when given, is signed too.",
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "One URL per part number."},
        **problem_responses(400, 401, 403, 404, 503),
        **NOT_IN_PROGRESS,
    },
)
@tracer.capture_method
def sign(request: Annotated[SignPartsRequest, Body()]) -> SignedPartUrls:
    checksums = {item.part_number: item.checksum_sha256 for item in request.checksums or []}
    signed = multipart.sign_parts(
        current_services(), caller_id(app), request.asset_id, request.part_numbers, checksums
    )
    return SignedPartUrls(
        urls={str(number): url for number, url in signed.urls.items()},
        expires_at=signed.expires_at,
    )


@app.get(
    "/media/upload/multipart/<id>/parts",
    summary="List uploaded parts",
    description="The parts storage holds so far, to resume: upload the missing ones, then "
    "complete.",
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The parts uploaded so far, in part order."},
        **problem_responses(400, 401, 403, 404, 503),
        **NOT_IN_PROGRESS,
    },
)
@tracer.capture_method
def parts(id: AssetId) -> UploadedParts:
    uploaded = multipart.uploaded_parts(current_services(), caller_id(app), id)
    return UploadedParts(
        parts=[
            UploadedPartView(part_number=part.part_number, etag=part.etag, size=part.size)
            for part in uploaded
        ]
    )


@app.post(
    "/media/upload/multipart/complete",
    summary="Complete a multipart upload",
    description="Assembles the parts (only each part's number and ETag go to storage), "
    "then verifies the file as confirm does. Asked again after it settled, it answers the "
    "outcome again.",
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The asset is READY."},
        **problem_responses(400, 401, 403, 404, 422, 503),
        **NOT_IN_PROGRESS,
    },
)
@tracer.capture_method
def complete(request: Annotated[CompleteMultipartRequest, Body()]) -> AssetView:
    services = current_services()
    listed = [(part.part_number, part.etag) for part in request.parts]
    settlement = multipart.complete_multipart(services, caller_id(app), request.asset_id, listed)
    return asset_view(uploads.require_ready(settlement), services.settings)


@app.post(
    "/media/upload/multipart/abort",
    summary="Abort a multipart upload",
    description="Aborts the upload in storage (its parts are freed). The asset ends "
    "REJECTED with reason ABORTED, and nothing is counted.",
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        200: {"description": "The asset, now REJECTED (ABORTED)."},
        **problem_responses(400, 401, 403, 404, 503),
        **NOT_IN_PROGRESS,
    },
)
@tracer.capture_method
def abort(request: Annotated[AbortMultipartRequest, Body()]) -> AssetView:
    services = current_services()
    aborted = multipart.abort_multipart(services, caller_id(app), request.asset_id)
    return asset_view(aborted, services.settings)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
