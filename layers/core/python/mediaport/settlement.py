"""Settling an upload: verify what is in storage, then make the one state change.

Confirm and the S3 event path both call ``settle_upload``. The transition is a
conditional write, so whichever comes first decides and the other changes nothing; the
one that made it counts it (``UploadsReady`` / ``UploadsRejected``), so each transition
is counted exactly once, by whichever path made it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from mediaport import usage
from mediaport.adapters import storage
from mediaport.adapters.records import NoRoom
from mediaport.errors import ObjectNotUploaded, StorageUnavailable
from mediaport.keys import variant_prefix
from mediaport.model import Asset, AssetStatus, Processing, RejectReason, Transition, utcnow
from mediaport.observability import logger, metrics
from mediaport.policy import IMAGE_TYPES, scope_table
from mediaport.scanning import scan_tags, verdict_from_tags
from mediaport.services import Services
from mediaport.serving import cdn_tags

if TYPE_CHECKING:
    from mediaport.verification import Rejection, VerifiedObject


@dataclass(frozen=True)
class Settlement:
    asset: Asset
    # True only for the caller whose write made the transition: it alone counts it.
    transitioned: bool


def settle_upload(services: Services, asset: Asset) -> Settlement:
    """Verify a PENDING asset's object and mark it READY or REJECTED (at most once)."""
    for _attempt in range(2):
        try:
            return _verify_and_transition(services, asset)
        except (storage.ObjectChanged, ObjectNotUploaded) as problem:
            # Another settler (the S3 event, or a concurrent confirm) may have decided and
            # deleted the object before or while this one read it: its decision is the
            # answer. If nobody decided, a missing object is missing, and bytes replaced
            # mid-read are verified again.
            current = services.assets.get(asset.asset_id)
            if current is not None and current.status is not AssetStatus.PENDING:
                return Settlement(current, transitioned=False)
            if isinstance(problem, ObjectNotUploaded):
                raise
    raise ObjectNotUploaded(f"the file for asset {asset.asset_id} changed while it was verified")


def verify(services: Services, asset: Asset) -> VerifiedObject | Rejection:
    """Verify an asset's object against its scope and the pixel budget as configured now."""
    # Verification decodes image headers (Pillow): loaded by the first settlement, not at
    # the cold start of every function that can settle an upload.
    from mediaport.verification import verify_stored_object

    settings = services.settings
    return verify_stored_object(asset, scope_table(settings.scopes), settings.max_image_pixels)


def initial_processing(media_type: str) -> Processing:
    """Images wait for their variants; other media have nothing to derive."""
    return Processing.PENDING if media_type in IMAGE_TYPES else Processing.SKIPPED


def count_transition(asset: Asset) -> None:
    """Count a transition this caller made (READY or REJECTED), once."""
    name = "UploadsReady" if asset.status is AssetStatus.READY else "UploadsRejected"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def counted(services: Services, asset: Asset, transition: Transition) -> Asset | None:
    """Apply a transition that changes usage, within the owner's tier; ``NoRoom`` when a
    growing one does not fit (nothing is written). Storage warnings follow the new total."""
    changed = services.assets.apply(replace(transition, quota=usage.quota_for(services, asset)))
    if changed is not None and (changed.status, changed.size) != (asset.status, asset.size):
        usage.follow_warnings(services, asset.user_id, asset.tier)
    return changed


def reject_for_quota(services: Services, asset: Asset) -> Settlement:
    """Verified bytes the owner's tier has no room for: REJECTED (QUOTA_EXCEEDED), deleted."""
    limits = usage.quota_for(services, asset).limits
    rejected = reject(
        services,
        asset,
        RejectReason.QUOTA_EXCEEDED,
        f"the file does not fit the storage left in tier {usage.tier_name(services, asset)} "
        f"({limits.storage_bytes:,} bytes, {limits.max_files:,} files)",
    )
    if rejected is not None:
        return Settlement(rejected, transitioned=True)
    return Settlement(services.assets.get(asset.asset_id) or asset, transitioned=False)


def reject(services: Services, asset: Asset, reason: RejectReason, detail: str) -> Asset | None:
    """PENDING or READY → REJECTED (once), counted, its files deleted; None when the asset
    changed meanwhile (the winner's decision stands)."""
    keep_until = utcnow() + timedelta(seconds=services.settings.rejected_ttl_seconds)
    transition = (
        asset.mark_rejected(reason, detail, keep_until=keep_until)
        if asset.status is AssetStatus.PENDING
        else asset.reject_ready(reason, detail, keep_until=keep_until)
    )
    rejected = counted(services, asset, transition)
    if rejected is not None:
        count_transition(rejected)
        # The record says REJECTED before the bytes go, so nothing is left half-done: if a
        # delete fails, the pending tag (or a redelivered event) still removes the bytes.
        remove_files(asset)
    return rejected


def remove_files(asset: Asset) -> None:
    """Delete an asset's object and, unless it never left PENDING, every variant ever made
    for it (listed by prefix: a REJECTED record no longer names them). Safe to repeat."""
    storage.delete_object(asset.bucket, asset.key)
    if asset.status is not AssetStatus.PENDING:
        storage.delete_prefix(asset.bucket, variant_prefix(asset.user_id, asset.asset_id))


def _verify_and_transition(services: Services, asset: Asset) -> Settlement:
    from mediaport.verification import Rejection

    outcome = verify(services, asset)
    if isinstance(outcome, Rejection):
        rejected = reject(services, asset, outcome.reason, outcome.detail)
        if rejected is not None:
            return Settlement(rejected, transitioned=True)
    else:
        # Untag first: a READY asset whose object still carried the pending tag would be
        # expired by the lifecycle rule; an untagged PENDING one is only kept longer. With
        # scanning on, the scan's tag stays, and says the result if the scan is done.
        settings = services.settings
        kept = storage.clear_tags(
            asset.bucket, asset.key, keep=scan_tags(settings), add=cdn_tags(asset, settings)
        )
        transition = asset.mark_ready(
            outcome,
            initial_processing(outcome.mime_type),
            verdict_from_tags(kept, settings),
            scanning=settings.scanning,
        )
        try:
            ready = counted(services, asset, transition)
        except NoRoom:
            return reject_for_quota(services, asset)
        except BaseException:
            # The asset is still PENDING: give the lifecycle rule its claim on the object
            # back, or nothing would ever remove it once the record expires.
            _restore_pending_tag(asset, scan_tags(settings))
            raise
        if ready is not None:
            count_transition(ready)
            return Settlement(ready, transitioned=True)
    current = services.assets.get(asset.asset_id)
    return Settlement(current or asset, transitioned=False)


def _restore_pending_tag(asset: Asset, keep: tuple[str, ...]) -> None:
    try:
        storage.tag_pending(asset.bucket, asset.key, keep)
    except StorageUnavailable:
        # The original failure is the one to report; if the record then expires, the
        # asset table's TTL stream removes the object (functions/expire_assets).
        logger.warning("pending tag not restored", extra={"key": asset.key})
