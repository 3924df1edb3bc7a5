"""Image operations on demand: a resize, a crop or an optimize becomes a PENDING variant
at once (202), and transform_media makes it from the jobs queue.

A request is decided entirely from the asset's record: the output size, the limits and
the variant's key (named by the bytes and the parameters, so the same request is the
same variant, and its content never changes). The job then reads the verified bytes
(If-Match their ETag), makes exactly that, and records it on the version it read. Every
step is safe to run again: a duplicate job finds the variant READY and does nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from mediaport.adapters import storage
from mediaport.adapters.jobs import send_job
from mediaport.errors import (
    AssetNotReady,
    AssetNotServed,
    CropOutsideImage,
    EditConflict,
    NotAnImage,
    VariantLimitExceeded,
    VariantNotFound,
)
from mediaport.keys import build_requested_variant_key
from mediaport.model import (
    Asset,
    AssetStatus,
    IllegalTransition,
    Processing,
    Variant,
    VariantLimitReached,
    VariantStatus,
    utcnow,
)
from mediaport.model.variants import (
    READABLE_TYPES,
    LimitExceeded,
    Operation,
    OutsideImage,
    VariantSpec,
)
from mediaport.observability import logger
from mediaport.services import Services
from mediaport.serving import cdn_tags

if TYPE_CHECKING:
    from mediaport.processing import Attempt

_ATTEMPTS = 3
# Why a requested variant FAILED (the variant's ``reason``).
NOT_SMALLER = "NOT_SMALLER"
UNREADABLE = "UNREADABLE"
GAVE_UP = "GAVE_UP"


@dataclass(frozen=True)
class Requested:
    name: str
    variant: Variant
    # True when this request made it PENDING (202); False when it exists already (200).
    accepted: bool


def variants_of(asset: Asset) -> list[tuple[str, Variant]]:
    """Every variant: the automatic thumbnails, largest first, then the requested ones in
    the order they were asked for."""
    automatic = sorted(asset.variants.items(), key=lambda item: -item[1].width)
    requested = sorted(
        asset.requested_variants.items(), key=lambda item: item[1].requested_at or utcnow()
    )
    return [*automatic, *requested]


def variant_of(asset: Asset, name: str) -> Variant:
    variant = asset.variants.get(name) or asset.requested_variants.get(name)
    if variant is None:
        raise VariantNotFound(f"asset {asset.asset_id} has no variant {name!r}")
    return variant


def require_image(asset: Asset) -> tuple[int, int]:
    """A READY, served image with known dimensions (409 otherwise): its width and height."""
    if asset.status is not AssetStatus.READY:
        raise AssetNotReady(
            f"asset {asset.asset_id} is {asset.status.value}; only READY images have variants"
        )
    if asset.mime_type not in READABLE_TYPES or not asset.width or not asset.height:
        raise NotAnImage(f"asset {asset.asset_id} is {asset.mime_type}, not an image")
    if not asset.served:
        raise AssetNotServed(f"asset {asset.asset_id} is served once its malware scan is done")
    return asset.width, asset.height


def request_variant(services: Services, asset: Asset, spec: VariantSpec) -> Requested:
    """The variant ``spec`` asks for: the existing one (200), or a new PENDING one queued
    for transform_media (202). 400 for a crop outside the image, 422 past a limit."""
    settings = services.settings
    for _attempt in range(_ATTEMPTS):
        width, height = require_image(asset)
        try:
            out_width, out_height = spec.check_limits(width, height, settings.max_image_pixels)
        except OutsideImage as error:
            raise CropOutsideImage(str(error)) from None
        except LimitExceeded as error:
            raise VariantLimitExceeded(
                error.detail, limit=error.limit, maximum=error.maximum
            ) from None
        existing = asset.requested_variants.get(spec.name)
        if existing is not None and existing.params == spec.params():
            if existing.status is VariantStatus.PENDING:
                _queue(services, asset, spec.name)  # its job may have been lost: again
            if existing.status is not VariantStatus.FAILED or existing.reason == NOT_SMALLER:
                return Requested(spec.name, existing, accepted=False)
        variant = Variant(
            key=build_requested_variant_key(
                asset.user_id,
                asset.asset_id,
                asset.checksum or "",
                spec.file_stem,
                spec.format.extension,
            ),
            width=out_width,
            height=out_height,
            format=spec.format.value,
            status=VariantStatus.PENDING,
            params=spec.params(),
            requested_at=utcnow(),
        )
        try:
            transition = asset.request_variant(
                spec.name, variant, max_requested=settings.max_variants
            )
        except VariantLimitReached as error:
            raise VariantLimitExceeded(
                str(error), limit="max-variants", maximum=settings.max_variants
            ) from None
        if services.assets.apply(transition) is not None:
            if existing is not None and existing.key != variant.key:
                # Another optimize replaced this one: nothing names its file any more.
                storage.delete_object(asset.bucket, existing.key)
            _queue(services, asset, spec.name)
            return Requested(spec.name, variant, accepted=True)
        current = services.assets.get(asset.asset_id)
        if current is None:
            break
        asset = current  # another request or a scan landed meanwhile: decide again
    raise EditConflict(f"asset {asset.asset_id} kept changing; send the request again")


def _queue(services: Services, asset: Asset, name: str) -> None:
    queue = services.settings.jobs_queue_url
    if queue is None:
        raise RuntimeError("transforms needs MEDIAPORT_JOBS_QUEUE_URL")
    send_job(
        queue,
        {"kind": "variant", "assetId": asset.asset_id, "name": name, "checksum": asset.checksum},
    )


# --- The job (transform_media) ------------------------------------------------------------


class JobOutcome(StrEnum):
    IGNORED = "IGNORED"  # nothing to do: the asset, its bytes or the variant changed
    MADE = "MADE"
    FAILED = "FAILED"


def run_job(services: Services, job: dict[str, str], attempt: Attempt) -> JobOutcome:
    """One message of the jobs queue."""
    if job.get("kind") == "thumbnails":
        return _thumbnails(services, job["assetId"], job["checksum"], attempt)
    return make_variant(services, job["assetId"], job["name"], job["checksum"], attempt)


def _thumbnails(services: Services, asset_id: str, checksum: str, attempt: Attempt) -> JobOutcome:
    """The automatic thumbnails of a released asset (as processing makes them)."""
    asset = services.assets.get(asset_id)
    if (
        asset is None
        or asset.status is not AssetStatus.READY
        or asset.checksum != checksum
        or asset.processing is not Processing.PENDING
    ):
        return JobOutcome.IGNORED
    from mediaport.processing import make_thumbnails

    make_thumbnails(services, asset, attempt)
    return JobOutcome.MADE


def make_variant(
    services: Services, asset_id: str, name: str, checksum: str, attempt: Attempt
) -> JobOutcome:
    """Make a PENDING requested variant of the bytes ``checksum`` names, and record it.

    Problems with the image end the variant FAILED (never retried); anything else raises,
    so SQS delivers the job again, and the last delivery records FAILED (``GAVE_UP``).
    """
    asset = _pending(services, asset_id, name, checksum)
    if asset is None:
        return JobOutcome.IGNORED
    variant = asset.requested_variants[name]
    spec = VariantSpec.from_params(dict(variant.params or {}))
    # Pillow and the codecs load in the jobs worker (transform_media) only: the API
    # function that requests variants (transforms) imports this module too.
    from mediaport.imaging import UnreadableImage
    from mediaport.transforms import transform_image

    try:
        data = storage.read_object(asset.bucket, asset.key, checksum)
        made = transform_image(
            io.BytesIO(data), asset.mime_type or "", spec, services.settings.max_image_pixels
        )
    except UnreadableImage as problem:
        return _fail(services, asset, name, UNREADABLE, problem.detail)
    except Exception:
        if not attempt.is_last:
            raise
        logger.exception("variant not made on the last delivery", extra={"variant": name})
        return _fail(services, asset, name, GAVE_UP, "the variant could not be made")
    optimizing = spec.operation is Operation.OPTIMIZE
    if optimizing and asset.size is not None and len(made.data) >= asset.size:
        return _fail(
            services,
            asset,
            name,
            NOT_SMALLER,
            f"optimized, the image is {len(made.data):,} bytes, not smaller than the "
            f"original's {asset.size:,}: no copy is kept",
        )
    storage.put_variant(
        asset.bucket,
        variant.key,
        made.data,
        spec.format.media_type,
        tags=cdn_tags(asset, services.settings),
    )
    for _attempt in range(_ATTEMPTS):
        transition = asset.record_variant(
            name, size=len(made.data), original_size=asset.size if optimizing else None
        )
        if services.assets.apply(transition) is not None:
            return JobOutcome.MADE
        current = _pending(services, asset_id, name, checksum)
        if current is None or current.requested_variants[name].key != variant.key:
            _discard(services, asset_id, variant.key)
            return JobOutcome.IGNORED
        asset = current
    raise EditConflict(f"asset {asset_id} kept changing; the job is delivered again")


def _pending(services: Services, asset_id: str, name: str, checksum: str) -> Asset | None:
    """The asset, when it still has these bytes and the variant is still PENDING."""
    asset = services.assets.get(asset_id)
    if asset is None or asset.status is not AssetStatus.READY or asset.checksum != checksum:
        return None
    variant = asset.requested_variants.get(name)
    if variant is None or variant.status is not VariantStatus.PENDING:
        return None
    return asset


def _fail(services: Services, asset: Asset, name: str, reason: str, detail: str) -> JobOutcome:
    for _attempt in range(_ATTEMPTS):
        try:
            transition = asset.fail_variant(name, reason, detail)
        except IllegalTransition:
            return JobOutcome.IGNORED
        if services.assets.apply(transition) is not None:
            logger.info("variant failed", extra={"variant": name, "reason": reason})
            return JobOutcome.FAILED
        current = services.assets.get(asset.asset_id)
        if current is None or current.checksum != asset.checksum:
            return JobOutcome.IGNORED
        asset = current
    raise EditConflict(f"asset {asset.asset_id} kept changing; the job is delivered again")


def _discard(services: Services, asset_id: str, key: str) -> None:
    """A variant file nothing names (the asset changed while it was made)."""
    current = services.assets.get(asset_id)
    named = {v.key for v in current.requested_variants.values()} if current else set()
    if key not in named:
        storage.delete_object(services.settings.bucket_name, key)
