"""An asset record DynamoDB's TTL removed takes its files with it.

A record expires while PENDING (its upload never settled) and once REJECTED. The pending
tag's lifecycle rule removes most such objects (and another aborts stale multipart
uploads; an expiring record's own is aborted here at once), but not one whose tag was cleared just
before a READY write that never happened (a crash between the two), nor the variants an
interrupted cleanup left. The asset table's stream tells ``functions/expire_assets`` of
each TTL removal; this deletes the asset's object and everything under its ``derived/``
prefix. Deleting what is already gone changes nothing, so a redelivery is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mediaport import serving
from mediaport.adapters import storage
from mediaport.keys import parse_object_key, variant_prefix
from mediaport.model import AssetStatus, ScanStatus, utcnow
from mediaport.observability import logger
from mediaport.services import Services

# Only these records expire (DESIGN §3); anything else TTL removes is not ours to clean. A
# DELETED record expires when its time in the trash is up: that is its purge.
EXPIRING_STATUSES = frozenset({AssetStatus.PENDING, AssetStatus.REJECTED, AssetStatus.DELETED})


@dataclass(frozen=True)
class ExpiredAsset:
    """What the stream's old image says about a removed asset record."""

    asset_id: str
    user_id: str
    status: str
    bucket: str
    key: str
    # A multipart upload still going on when the record expired.
    upload_id: str | None = None

    @classmethod
    def from_image(cls, image: Mapping[str, Any]) -> ExpiredAsset:
        """From a record's old image (attribute names as stored, values deserialized)."""
        return cls(
            asset_id=str(image["assetId"]),
            user_id=str(image["userId"]),
            status=str(image["status"]),
            bucket=str(image["bucket"]),
            key=str(image["key"]),
            upload_id=str(image["uploadId"]) if image.get("uploadId") else None,
        )


def remove_expired_files(services: Services, expired: ExpiredAsset) -> bool:
    """Delete an expired PENDING or REJECTED asset's object and variants; False if not ours."""
    if expired.status not in EXPIRING_STATUSES:
        return False
    parsed = parse_object_key(expired.key)
    if (
        expired.bucket != services.settings.bucket_name
        or not parsed
        or parsed[1] != expired.asset_id
    ):
        # The server builds every key from the asset id; a record saying otherwise is not
        # trusted to name what to delete.
        logger.warning(
            "expired record names no object of ours",
            extra={"assetId": expired.asset_id, "key": expired.key},
        )
        return False
    if expired.upload_id:
        # Its parts would otherwise wait for the lifecycle rule (and be billed meanwhile).
        storage.abort_multipart(expired.bucket, expired.key, expired.upload_id)
    storage.delete_object(expired.bucket, expired.key)
    storage.delete_prefix(expired.bucket, variant_prefix(expired.user_id, expired.asset_id))
    return True


def record_purge(services: Services, image: Mapping[str, Any]) -> bool:
    """A purged asset's record comes back as a tombstone, kept as long as the trash kept
    it, so restore answers 409 (purged) rather than 404; False when it needs none (not a
    deleted asset, a tombstone already, or a record with its id exists)."""
    asset = services.assets.from_stream_image(image)
    if asset.status is not AssetStatus.DELETED or asset.purged_at is not None:
        return False
    # Its files are gone. Its delete invalidated the CDN's copies already; this is the
    # safety net for one cached again since (or whose invalidation CloudFront refused).
    serving.stop_serving(
        asset,
        services.settings,
        reason="purge",
        was_on_cdn=serving.is_public(asset, services.settings)
        and asset.scan_status is not ScanStatus.INFECTED,
    )
    now = utcnow()
    keep_until = now + timedelta(days=services.settings.trash_days)
    return services.assets.put_tombstone(asset, purged_at=now, keep_until=keep_until)
