"""The S3 event path: an object arrived under ``media/``; make its asset READY and processed.

Per object: find the asset its key names; settle a PENDING asset with the same
verification and conditional transition confirm uses; re-verify a READY asset whose bytes
changed; then make the image variants, once. Every step is safe to run again, so a
duplicate, late or retried event leaves exactly the same state.

Transient failures (``StorageUnavailable``, DynamoDB and botocore errors) propagate: the
SQS record fails and is retried, then dead-lettered. Problems with the content itself end
in REJECTED (or processing FAILED) and never raise, so they cannot loop.

The last delivery (``Attempt.is_last``) must leave a final state, whatever happens to it:
processing is marked FAILED *before* the variants are tried (a success moves it on to
DONE; a crash or a timeout leaves FAILED, never PENDING), and a PENDING upload whose
verification crashes is REJECTED (``IMAGE_CORRUPT``) instead of failing once more.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote_plus

from botocore.exceptions import BotoCoreError, ClientError

from mediaport.adapters import storage
from mediaport.adapters.records import NoRoom
from mediaport.errors import (
    InternalFailure,
    ObjectNotUploaded,
    StorageUnavailable,
    TableUnavailable,
)
from mediaport.imaging import UnreadableImage
from mediaport.keys import build_variant_key, parse_object_key, variant_folder, variant_prefix
from mediaport.model import Asset, AssetStatus, Processing, RejectReason, Variant
from mediaport.observability import logger
from mediaport.policy import IMAGE_TYPES
from mediaport.rendering import render_image
from mediaport.scanning import scan_tags, verdict_from_tags
from mediaport.services import Services
from mediaport.serving import cdn_tags
from mediaport.settlement import (
    counted,
    initial_processing,
    reject,
    reject_for_quota,
    remove_files,
    settle_upload,
    verify,
)
from mediaport.verification import Rejection

# Failures of the way to the data, not of the data: worth another delivery, never a verdict.
_TRANSIENT = (
    StorageUnavailable,
    TableUnavailable,
    InternalFailure,
    storage.ObjectChanged,
    BotoCoreError,
    ClientError,
)


class NotEnoughTime(Exception):
    """Too little of the invocation is left to start an object: SQS delivers it again.

    Failing this one record is better than being cut off by the timeout mid-render, which
    would fail every record of the batch (the done ones included).
    """


def _plenty_of_time() -> int:
    return 2**31


@dataclass(frozen=True)
class Attempt:
    """Which delivery of the event this is, and how long the invocation has left."""

    receive_count: int = 1
    # The queue's maxReceiveCount; None when unknown (then no delivery counts as the last).
    max_receive_count: int | None = None
    remaining_ms: Callable[[], int] = _plenty_of_time
    # What one object may take at most (verify, decode, encode, write), so that it is
    # not started when less than this is left.
    needed_ms: int = 0

    @property
    def is_last(self) -> bool:
        """After this delivery, SQS moves the message to the dead-letter queue."""
        return self.max_receive_count is not None and self.receive_count >= self.max_receive_count

    def out_of_time(self) -> bool:
        return self.remaining_ms() < self.needed_ms


class Outcome(StrEnum):
    """What processing one object did (logged, and handy in tests)."""

    IGNORED = "IGNORED"  # nothing to do: another bucket, the object is gone, or already done
    STRAY_DELETED = "STRAY_DELETED"  # no PENDING or READY asset owns these bytes
    REJECTED = "REJECTED"
    READY = "READY"  # verified; nothing to derive (not an image)
    PROCESSED = "PROCESSED"  # variants made and recorded


def process_uploaded_object(
    services: Services, bucket: str, event_key: str, attempt: Attempt | None = None
) -> Outcome:
    """Handle one ``ObjectCreated`` notification; ``event_key`` as S3 sends it (URL-encoded)."""
    attempt = attempt or Attempt()
    key = unquote_plus(event_key)  # S3 encodes keys in events: spaces as "+", UTF-8 as %XX
    if bucket != services.settings.bucket_name:
        logger.warning("event for a bucket that is not ours", extra={"bucket": bucket})
        return Outcome.IGNORED
    if attempt.out_of_time() and not attempt.is_last:
        raise NotEnoughTime(f"not enough time left to process {key}")
    parsed = parse_object_key(key)
    asset = services.assets.get(parsed[1]) if parsed else None
    if asset is None or asset.key != key:
        return _delete_stray(bucket, key, "no asset has this key")

    if asset.status is AssetStatus.PENDING:
        try:
            asset = _settle(services, asset, attempt)
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
            asset = _reverify_overwritten(services, asset, attempt)
        else:
            # The same bytes again (a presigned POST form re-sent): they came with the
            # pending tag, which would let the lifecycle rule expire a READY original.
            settings = services.settings
            storage.clear_tags(bucket, key, keep=scan_tags(settings), add=cdn_tags(asset, settings))
    elif asset.status is AssetStatus.REJECTED:
        # Nothing of a REJECTED asset is kept. Deleting again is what makes the cleanup
        # of an earlier delivery (or of the settling write) complete when it was cut off.
        remove_files(asset)
        return Outcome.REJECTED
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
        return make_thumbnails(services, asset, attempt)
    return Outcome.READY if asset.status is AssetStatus.READY else Outcome.IGNORED


def _delete_stray(bucket: str, key: str, why: str) -> Outcome:
    logger.warning("deleting an object no upload accounts for", extra={"key": key, "why": why})
    storage.delete_object(bucket, key)
    return Outcome.STRAY_DELETED


def _settle(services: Services, asset: Asset, attempt: Attempt) -> Asset:
    """Settle a PENDING upload; on the last delivery, a verification that crashes rejects it."""
    try:
        return settle_upload(services, asset).asset
    except (ObjectNotUploaded, *_TRANSIENT):
        raise
    except Exception:
        if not attempt.is_last:
            raise
        return _reject_unverifiable(services, asset)


def _reject_unverifiable(services: Services, asset: Asset) -> Asset:
    """Called while handling a verification crash on the last delivery: reject, log why."""
    logger.exception("verification crashed on the last delivery", extra={"key": asset.key})
    reason = (
        RejectReason.IMAGE_CORRUPT
        if asset.declared_type in IMAGE_TYPES
        else RejectReason.UNRECOGNIZED_TYPE
    )
    rejected = reject(services, asset, reason, "the file could not be verified")
    return rejected or services.assets.get(asset.asset_id) or asset


def _reverify_overwritten(services: Services, asset: Asset, attempt: Attempt) -> Asset:
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
    except _TRANSIENT:
        raise
    except Exception:
        if not attempt.is_last:
            raise
        return _reject_unverifiable(services, asset)
    if isinstance(outcome, Rejection):
        rejected = reject(services, asset, outcome.reason, outcome.detail)
        if rejected is not None:
            return rejected
    else:
        # The overwrite carried the pending tag again; keep the lifecycle rule off it.
        settings = services.settings
        kept = storage.clear_tags(
            asset.bucket, asset.key, keep=scan_tags(settings), add=cdn_tags(asset, settings)
        )
        try:
            updated = counted(
                services,
                asset,
                asset.accept_overwrite(
                    outcome,
                    initial_processing(outcome.mime_type),
                    verdict_from_tags(kept, settings),
                    scanning=settings.scanning,
                ),
            )
        except NoRoom:
            # Larger new bytes the tier has no room for: like bytes that fail, they go.
            return reject_for_quota(services, asset).asset
        if updated is not None:
            # The old bytes' variants have keys of their own (content-addressed): they go.
            for variant in asset.variants.values():
                storage.delete_object(asset.bucket, variant.key)
            return updated
    return services.assets.get(asset.asset_id) or asset


def make_thumbnails(services: Services, asset: Asset, attempt: Attempt) -> Outcome:
    """Decode the verified bytes once, write the WebP variants, record them (once).

    On the last delivery, processing is marked FAILED first: if this run crashes or is
    cut off by the timeout, the asset says FAILED rather than PENDING for good.
    """
    checksum, media_type = asset.checksum, asset.mime_type
    if checksum is None or media_type is None:  # READY always has both; be explicit anyway
        return Outcome.IGNORED
    retrying_failed = False
    if attempt.is_last:
        marked = services.assets.apply(asset.mark_processing_failed())
        if marked is None:
            return Outcome.IGNORED  # another run decided, or the bytes changed since
        asset, retrying_failed = marked, True
    # If-Match on the verified ETag: bytes written since are never derived from unverified.
    data = storage.read_object(asset.bucket, asset.key, checksum)
    try:
        rendition = render_image(io.BytesIO(data), media_type, services.settings.max_image_pixels)
    except UnreadableImage as problem:
        # The bytes passed confirm's bounded structural check but their pixels do not
        # decode (docs/processing.md, "Pixel budget and memory"): they are not media.
        logger.warning("verified bytes do not decode", extra={"key": asset.key})
        reason = (
            RejectReason.IMAGE_TOO_MANY_PIXELS
            if problem.too_many_pixels
            else RejectReason.IMAGE_CORRUPT
        )
        if reject(services, asset, reason, problem.detail) is None:
            return Outcome.IGNORED  # the bytes changed meanwhile: their own event decides
        return Outcome.REJECTED
    variants: dict[str, Variant] = {}
    for rendered in rendition.variants:
        key = build_variant_key(asset.user_id, asset.asset_id, checksum, rendered.name)
        storage.put_variant(
            asset.bucket, key, rendered.webp, tags=cdn_tags(asset, services.settings)
        )
        variants[rendered.name] = Variant(
            key=key, width=rendered.width, height=rendered.height, bytes=len(rendered.webp)
        )
    recorded = services.assets.apply(
        asset.record_rendition(
            width=rendition.width,
            height=rendition.height,
            dominant_color=rendition.dominant_color,
            placeholder=rendition.placeholder,
            variants=variants,
            retrying_failed=retrying_failed,
        )
    )
    if recorded is None:
        _discard_unrecorded(services, asset, variants)
        return Outcome.IGNORED
    # Variants of bytes the asset no longer has (a render cut off, then an overwrite)
    # are nobody's: only this checksum's folder stays.
    storage.delete_prefix(
        asset.bucket,
        variant_prefix(asset.user_id, asset.asset_id),
        keep_prefix=variant_folder(asset.user_id, asset.asset_id, checksum),
    )
    return Outcome.PROCESSED


def _discard_unrecorded(services: Services, asset: Asset, variants: dict[str, Variant]) -> None:
    """The recording write lost (the bytes changed, or another run recorded first): delete
    what this run wrote, unless the stored asset now names those very keys (a duplicate
    run for the same bytes writes the same content-addressed keys)."""
    current = services.assets.get(asset.asset_id)
    kept = {variant.key for variant in current.variants.values()} if current else set()
    for variant in variants.values():
        if variant.key not in kept:
            storage.delete_object(asset.bucket, variant.key)
    logger.info("variants not recorded; the asset changed meanwhile", extra={"key": asset.key})
