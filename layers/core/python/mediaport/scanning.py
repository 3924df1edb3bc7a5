"""Malware scanning: a scan's result becomes the asset's (CLEAN, or QUARANTINED), and an
admin's release serves a quarantined asset again.

GuardDuty (or the local stand-in) scans each new object under ``media/``, tags it with its
result and sends an event; ``record_scan_result`` takes that event. An upload settled
before its event arrives waits (``scanStatus=PENDING``, not served); one settled after
reads the result from the object's tag (``verdict_from_tags``), so the order of the two
never matters. A result for bytes the asset no longer has changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from mediaport import names, serving
from mediaport.adapters import storage
from mediaport.adapters.jobs import send_job
from mediaport.errors import AssetNotFound, AssetNotQuarantined, EditConflict
from mediaport.keys import build_released_key, parse_object_key, variant_prefix
from mediaport.model import (
    Asset,
    AssetStatus,
    IllegalTransition,
    Processing,
    ScanStatus,
    ScanVerdict,
    utcnow,
)
from mediaport.observability import logger
from mediaport.services import Services
from mediaport.serving import cdn_tags

if TYPE_CHECKING:
    from mediaport.config import Settings

_ATTEMPTS = 3


class NotSettledYet(Exception):
    """The scan result is for an upload not verified yet: the event is delivered again
    (and the settle reads the result from the object's tag meanwhile)."""


class ScanOutcome(StrEnum):
    IGNORED = "IGNORED"  # not ours, not the asset's bytes any more, or nothing to change
    RECORDED = "RECORDED"
    QUARANTINED = "QUARANTINED"


def scan_tags(settings: Settings) -> tuple[str, ...]:
    """The object tags clearing the pending tag must keep: the scan's, when scanning."""
    return (names.SCAN_TAG_KEY,) if settings.scanning else ()


def verdict_of(result: str, at: datetime, settings: Settings) -> ScanVerdict:
    """GuardDuty's scanResultStatus as the asset's scan status, under the error policy."""
    if result == names.SCAN_CLEAN_TAG_VALUE:
        return ScanVerdict(ScanStatus.CLEAN, result, at, quarantine=False)
    if result == names.SCAN_INFECTED_TAG_VALUE:
        return ScanVerdict(ScanStatus.INFECTED, result, at, quarantine=True)
    return ScanVerdict(
        ScanStatus.ERROR, result, at, quarantine=settings.scan_error_policy == "block"
    )


def verdict_from_tags(tags: Mapping[str, str], settings: Settings) -> ScanVerdict | None:
    """The result the scan already tagged the object with, if it has."""
    result = tags.get(names.SCAN_TAG_KEY)
    return verdict_of(result, utcnow(), settings) if result else None


def record_scan_result(
    services: Services, bucket: str, key: str, etag: str, result: str, at: datetime
) -> ScanOutcome:
    """One scan result event: the asset whose bytes these are takes it (once)."""
    settings = services.settings
    if bucket != settings.bucket_name:
        return ScanOutcome.IGNORED
    parsed = parse_object_key(key)
    verdict = verdict_of(result, at, settings)
    for _attempt in range(_ATTEMPTS):
        asset = services.assets.get(parsed[1]) if parsed else None
        if asset is None or asset.key != key:
            return ScanOutcome.IGNORED
        if asset.status is AssetStatus.PENDING:
            raise NotSettledYet(f"asset {asset.asset_id} is not verified yet")
        if asset.checksum != etag.strip('"'):
            logger.info("scan result for other bytes", extra={"key": key})
            return ScanOutcome.IGNORED
        try:
            transition = asset.record_scan(verdict)
        except IllegalTransition:
            return ScanOutcome.IGNORED
        if transition is None:
            return ScanOutcome.IGNORED
        changed = services.assets.apply(transition)
        if changed is None:
            continue  # changed meanwhile (a delete, a variant): decide again on it
        return _after_scan(services, asset, changed)
    raise EditConflict(f"asset {parsed[1] if parsed else key} kept changing")


def _after_scan(services: Services, before: Asset, after: Asset) -> ScanOutcome:
    """What follows the recorded result: an infected asset's variants go, a blocked one
    found clean has its thumbnails made."""
    logger.info(
        "scan result recorded",
        extra={"asset_id": after.asset_id, "scan": after.scan_status, "status": after.status},
    )
    if after.scan_status is ScanStatus.INFECTED or (
        after.status is AssetStatus.QUARANTINED and before.status is not AssetStatus.QUARANTINED
    ):
        storage.delete_prefix(after.bucket, variant_prefix(after.user_id, after.asset_id))
        # Public and served until now: the CDN's edges drop what they cached of it.
        serving.stop_serving(
            before,
            services.settings,
            reason="quarantine",
            was_on_cdn=serving.on_cdn(before, services.settings),
        )
        return ScanOutcome.QUARANTINED
    if after.status is AssetStatus.READY and after.processing is Processing.PENDING:
        queue_thumbnails(services, after)
    return ScanOutcome.RECORDED


def queue_thumbnails(services: Services, asset: Asset) -> None:
    """Ask transform_media for the automatic thumbnails of the asset's current bytes."""
    queue = services.settings.jobs_queue_url
    if queue is None or asset.checksum is None:
        logger.warning("no jobs queue: thumbnails not made", extra={"asset_id": asset.asset_id})
        return
    send_job(queue, thumbnails_job(asset))


def thumbnails_job(asset: Asset) -> dict[str, str]:
    return {"kind": "thumbnails", "assetId": asset.asset_id, "checksum": asset.checksum or ""}


def release(services: Services, asset_id: str, *, admin: str, reason: str) -> Asset:
    """A quarantined asset, served again after an admin's review.

    GuardDuty's tag on the original cannot be rewritten (the bucket policy lets only
    GuardDuty touch it, and denies reading anything not tagged clean), so the original is
    copied to ``released/`` and the asset's key moves there in the same conditional write
    that marks it CLEAN; then the old object goes and the thumbnails are made from the
    copy (docs/scanning.md).
    """
    asset = services.assets.get(asset_id)
    if asset is None or asset.purged_at is not None:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is not AssetStatus.QUARANTINED or asset.checksum is None:
        raise AssetNotQuarantined(
            f"asset {asset_id} is {asset.status.value}; only a QUARANTINED asset is released"
        )
    target = build_released_key(asset.user_id, asset.asset_id, asset.filename)
    try:
        copied = storage.copy_object(
            asset.bucket, asset.key, target, asset.checksum, tags=cdn_tags(asset, services.settings)
        )
    except storage.ObjectChanged:
        raise EditConflict(f"asset {asset_id}'s file changed; read it again") from None
    transition = asset.release(by=admin, reason=reason, now=utcnow(), key=target, checksum=copied)
    released = services.assets.apply(transition)
    if released is None:
        storage.delete_object(asset.bucket, target)
        raise EditConflict(f"asset {asset_id} changed while it was released; read it again")
    storage.delete_object(asset.bucket, asset.key)
    logger.info("asset released", extra={"asset_id": asset_id, "admin": admin})
    if released.processing is Processing.PENDING:
        queue_thumbnails(services, released)
    return released
