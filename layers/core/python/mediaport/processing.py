"""The S3 event path: an object arrived under ``media/``; make its asset READY and processed.

Per object: find the asset its key names; settle a PENDING asset with the same
verification and conditional transition confirm uses; re-verify a READY asset whose bytes
changed; then make the image variants, once. Every step is safe to run again, so a
duplicate, late or retried event leaves exactly the same state.

Transient failures (``StorageUnavailable``, DynamoDB and botocore errors) propagate: the
SQS record fails and is retried, then dead-lettered. Problems with the content itself end
in REJECTED (or processing FAILED) and never raise, so they cannot loop.
"""

from __future__ import annotations

import io
from enum import StrEnum
from urllib.parse import unquote_plus

from mediaport.adapters import storage
from mediaport.errors import ObjectNotUploaded
from mediaport.imaging import UnreadableImage, render_image
from mediaport.keys import build_variant_key, parse_object_key
from mediaport.model import Asset, AssetStatus, Processing, Variant, utcnow
from mediaport.observability import logger
from mediaport.services import Services
from mediaport.settlement import (
    count_transition,
    initial_processing,
    rejected_record_expiry,
    settle_upload,
    verify,
)
from mediaport.verification import Rejection


class Outcome(StrEnum):
    """What processing one object did (logged, and handy in tests)."""

    IGNORED = "IGNORED"  # nothing to do: another bucket, the object is gone, or already done
    STRAY_DELETED = "STRAY_DELETED"  # no PENDING or READY asset owns these bytes
    REJECTED = "REJECTED"
    READY = "READY"  # verified; nothing to derive (not an image)
    PROCESSED = "PROCESSED"  # variants made and recorded
    PROCESSING_FAILED = "PROCESSING_FAILED"


def process_uploaded_object(services: Services, bucket: str, event_key: str) -> Outcome:
    """Handle one ``ObjectCreated`` notification; ``event_key`` as S3 sends it (URL-encoded)."""
    key = unquote_plus(event_key)  # S3 encodes keys in events: spaces as "+", UTF-8 as %XX
    if bucket != services.settings.bucket_name:
        logger.warning("event for a bucket that is not ours", extra={"bucket": bucket})
        return Outcome.IGNORED
    parsed = parse_object_key(key)
    asset = services.assets.get(parsed[1]) if parsed else None
    if asset is None or asset.key != key:
        return _delete_stray(bucket, key, "no asset has this key")

    if asset.status is AssetStatus.PENDING:
        try:
            asset = settle_upload(services, asset).asset
        except ObjectNotUploaded:
            # Deleted since the event was sent (S3 is strongly consistent): nothing to verify.
            logger.info("object already gone", extra={"key": key})
            return Outcome.IGNORED
    elif asset.status is AssetStatus.READY:
        head = storage.head_object(bucket, key)
        if head is None:
            logger.info("object already gone", extra={"key": key})
            return Outcome.IGNORED
        if head.etag != asset.checksum:
            asset = _reverify_overwritten(services, asset)
    else:
        head = storage.head_object(bucket, key)
        if head is None or head.etag == asset.checksum:
            # A late duplicate for bytes that are the asset's own (QUARANTINED, DELETED):
            # their lifecycle belongs to the asset, not to this event.
            return Outcome.IGNORED
        return _delete_stray(bucket, key, f"asset {asset.asset_id} is {asset.status.value}")

    if asset.status is AssetStatus.REJECTED:
        return Outcome.REJECTED
    if asset.status is AssetStatus.READY and asset.processing is Processing.PENDING:
        return _make_variants(services, asset)
    return Outcome.READY if asset.status is AssetStatus.READY else Outcome.IGNORED


def _delete_stray(bucket: str, key: str, why: str) -> Outcome:
    logger.warning("deleting an object no upload accounts for", extra={"key": key, "why": why})
    storage.delete_object(bucket, key)
    return Outcome.STRAY_DELETED


def _reverify_overwritten(services: Services, asset: Asset) -> Asset:
    """A READY asset whose object changed (its presigned URL reused) is verified again.

    New bytes that pass become the asset's (variants are made again); bytes that fail
    leave the asset REJECTED and the object deleted: S3 kept no copy of the verified
    bytes, so staying READY would serve something nobody checked.
    """
    if asset.checksum is None:  # READY always has one; be explicit for the type checker
        return asset
    logger.info("READY object was overwritten; verifying again", extra={"key": asset.key})
    try:
        outcome = verify(services, asset)
    except ObjectNotUploaded:
        return asset
    if isinstance(outcome, Rejection):
        rejected = services.assets.apply(
            asset.reject_overwrite(
                outcome.reason,
                outcome.detail,
                keep_until=utcnow() + rejected_record_expiry(services),
            )
        )
        if rejected is not None:
            count_transition(rejected)
            storage.delete_object(asset.bucket, asset.key)
            for variant in asset.variants.values():
                storage.delete_object(asset.bucket, variant.key)
            return rejected
    else:
        # The overwrite carried the pending tag again; keep the lifecycle rule off it.
        storage.clear_tags(asset.bucket, asset.key)
        updated = services.assets.apply(
            asset.accept_overwrite(outcome, initial_processing(outcome.mime_type))
        )
        if updated is not None:
            return updated
    return services.assets.get(asset.asset_id) or asset


def _make_variants(services: Services, asset: Asset) -> Outcome:
    """Decode the verified bytes once, write the WebP variants, record them (once)."""
    checksum, media_type = asset.checksum, asset.mime_type
    if checksum is None or media_type is None:  # READY always has both; be explicit anyway
        return Outcome.IGNORED
    # If-Match on the verified ETag: bytes written since are never derived from unverified.
    data = storage.read_object(asset.bucket, asset.key, checksum)
    try:
        rendition = render_image(io.BytesIO(data), media_type, services.settings.max_image_pixels)
    except UnreadableImage as problem:
        logger.warning(
            "variants could not be made", extra={"key": asset.key, "detail": problem.detail}
        )
        services.assets.apply(asset.mark_processing_failed())
        return Outcome.PROCESSING_FAILED
    variants: dict[str, Variant] = {}
    for rendered in rendition.variants:
        key = build_variant_key(asset.user_id, asset.asset_id, rendered.name)
        storage.put_variant(asset.bucket, key, rendered.webp)
        variants[rendered.name] = Variant(
            key=key, width=rendered.width, height=rendered.height, bytes=len(rendered.webp)
        )
    services.assets.apply(
        asset.record_rendition(
            width=rendition.width,
            height=rendition.height,
            dominant_color=rendition.dominant_color,
            placeholder=rendition.placeholder,
            variants=variants,
        )
    )
    return Outcome.PROCESSED
