"""Image operations on demand: list an image's variants, and ask for a resize, a crop or an
optimize (``mediaport.variants`` has the use cases; transform_media makes them)."""

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import library, variants
from mediaport.api.resolver import BEARER_AUTH, build_resolver, caller_id, problem_responses
from mediaport.api.schemas import (
    CropRequest,
    OptimizeRequest,
    ResizeRequest,
    VariantDetail,
    VariantList,
)
from mediaport.api.views import variant_detail
from mediaport.keys import ASSET_ID_PATTERN
from mediaport.model import Asset
from mediaport.model.variants import VariantSpec
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

app = build_resolver()

AssetId = Annotated[str, Path(description="The assetId (a UUID).", pattern=ASSET_ID_PATTERN)]
VariantName = Annotated[
    str,
    Path(
        description="A variant's name: 1024, 512 or 128 (the thumbnails), optimized, or the "
        "name a resize or crop answered with.",
        pattern=r"^[a-z0-9-]{1,40}$",
    ),
]
_REQUESTED = {
    202: {
        "description": "The variant is PENDING: made in the background. `Location` names it; "
        "poll it until READY (or FAILED).",
        "content": {"application/json": {"model": VariantDetail}},
    },
    200: {
        "description": "The same request was made before: the variant as it is.",
        "content": {"application/json": {"model": VariantDetail}},
    },
    **problem_responses(400, 401, 403, 404, 409, 422, 503),
}
_NOT_AN_IMAGE_NOTE = (
    " Only a READY image (JPEG, PNG, WebP, GIF), served (scanned clean when scanning is on), "
    "has variants (409 otherwise). The output is at most 4096 pixels a side and within the "
    "pixel budget, and an asset has at most `MEDIAPORT_MAX_VARIANTS` (20) requested "
    "variants (422 naming the limit)."
)


@app.get(
    "/media/<id>/variants",
    summary="List an image's variants",
    description="The automatic thumbnails (1024, 512, 128) and every requested variant, "
    "each with its status and, once READY, a short-lived URL.",
    tags=["processing"],
    security=BEARER_AUTH,
    responses={200: {"description": "The variants."}, **problem_responses(400, 401, 403, 404)},
)
@tracer.capture_method
def list_variants(id: AssetId) -> VariantList:
    services = current_services()
    asset = library.owned_asset(services, caller_id(app), id)
    return VariantList(
        items=[
            variant_detail(asset, name, variant, services.settings)
            for name, variant in variants.variants_of(asset)
        ]
    )


@app.get(
    "/media/<id>/variants/<name>",
    summary="Read one variant",
    description="What a resize, crop or optimize answered with in `Location`: poll it "
    "until its status is READY (with a URL) or FAILED (with a reason).",
    tags=["processing"],
    security=BEARER_AUTH,
    responses={200: {"description": "The variant."}, **problem_responses(400, 401, 403, 404)},
)
@tracer.capture_method
def read_variant(id: AssetId, name: VariantName) -> VariantDetail:
    services = current_services()
    asset = library.owned_asset(services, caller_id(app), id)
    return variant_detail(asset, name, variants.variant_of(asset, name), services.settings)


@app.post(
    "/media/<id>/resize",
    summary="Make a resized variant",
    description="A variant `width` × `height` (one may be left out: the aspect ratio gives "
    "it) in the `fit` mode, `format` and `quality` asked for. The same parameters are the "
    "same variant." + _NOT_AN_IMAGE_NOTE,
    tags=["processing"],
    security=BEARER_AUTH,
    responses=_REQUESTED,  # type: ignore[arg-type]
)
@tracer.capture_method
def resize(id: AssetId, request: Annotated[ResizeRequest, Body()]) -> Response[VariantDetail]:
    spec = VariantSpec.resize(
        width=request.width,
        height=request.height,
        fit=request.fit,
        format=request.format,
        quality=request.quality,
    )
    return _requested(id, lambda asset: spec)


@app.post(
    "/media/<id>/crop",
    summary="Make a cropped variant",
    description="The rectangle `x`, `y`, `width`, `height`, in pixels of the image as "
    "displayed (after its EXIF orientation); 400 when it is not inside the image."
    + _NOT_AN_IMAGE_NOTE,
    tags=["processing"],
    security=BEARER_AUTH,
    responses=_REQUESTED,  # type: ignore[arg-type]
)
@tracer.capture_method
def crop(id: AssetId, request: Annotated[CropRequest, Body()]) -> Response[VariantDetail]:
    return _requested(
        id,
        lambda asset: VariantSpec.crop(
            x=request.x,
            y=request.y,
            width=request.width,
            height=request.height,
            format=request.format,
            original_type=asset.mime_type or "",
            quality=request.quality,
        ),
    )


@app.post(
    "/media/<id>/optimize",
    summary="Make an optimized copy",
    description="The `optimized` variant: the same pixels re-encoded at `quality`, in the "
    "original's format (or `format`), with every metadata stripped. Once READY the asset "
    "has `originalSize`, `optimizedSize` and `compressionRatio`; when the result is not "
    "smaller, the variant ends FAILED with reason NOT_SMALLER and no copy is kept. Asking "
    "again with other parameters replaces it." + _NOT_AN_IMAGE_NOTE,
    tags=["processing"],
    security=BEARER_AUTH,
    responses=_REQUESTED,  # type: ignore[arg-type]
)
@tracer.capture_method
def optimize(id: AssetId, request: Annotated[OptimizeRequest, Body()]) -> Response[VariantDetail]:
    return _requested(
        id,
        lambda asset: VariantSpec.optimize(
            format=request.format, original_type=asset.mime_type or "", quality=request.quality
        ),
    )


def _requested(asset_id: str, spec_for: Callable[[Asset], VariantSpec]) -> Response[Any]:
    """The caller's asset, the variant ``spec_for`` it asks for, answered 202 (made in the
    background) or 200 (made already), with ``Location``."""
    services = current_services()
    asset = library.owned_asset(services, caller_id(app), asset_id)
    requested = variants.request_variant(services, asset, spec_for(asset))
    detail = variant_detail(asset, requested.name, requested.variant, services.settings)
    return Response(
        202 if requested.accepted else 200,
        "application/json",
        body=detail,
        headers={"Location": f"/media/{asset_id}/variants/{requested.name}"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
