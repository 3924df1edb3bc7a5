"""The asset table. Returns domain models; every state change is a conditional write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from mediaport.config import get_settings
from mediaport.models import (
    Asset,
    AssetStatus,
    Processing,
    RejectReason,
    Variant,
    VerifiedObject,
    utcnow,
)

OWNER_INDEX = "byOwner"
_CONDITION_FAILED = "ConditionalCheckFailedException"


class OwnerIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = OWNER_INDEX
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class AssetRecord(Model):
    """The stored shape of an asset (attribute names as in DESIGN §3)."""

    class Meta:
        table_name = "mediaport-assets"
        region = "us-east-1"

    asset_id = UnicodeAttribute(hash_key=True, attr_name="assetId")
    user_id = UnicodeAttribute(attr_name="userId")
    # ISO-8601 text, so the owner index sorts by it.
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    scope = UnicodeAttribute()
    status = UnicodeAttribute()
    bucket = UnicodeAttribute()
    key = UnicodeAttribute()
    filename = UnicodeAttribute()
    original_filename = UnicodeAttribute(attr_name="originalFilename")
    declared_type = UnicodeAttribute(attr_name="declaredType")
    declared_size = NumberAttribute(attr_name="declaredSize")
    profile_id = UnicodeAttribute(null=True, attr_name="profileId")
    mime_type = UnicodeAttribute(null=True, attr_name="mimeType")
    size = NumberAttribute(null=True)
    checksum = UnicodeAttribute(null=True)
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    aspect_ratio = NumberAttribute(null=True, attr_name="aspectRatio")
    dominant_color = UnicodeAttribute(null=True, attr_name="dominantColor")
    placeholder = UnicodeAttribute(null=True)
    variants: MapAttribute[str, Any] = MapAttribute(null=True)
    processing = UnicodeAttribute(null=True)
    reject_reason = UnicodeAttribute(null=True, attr_name="rejectReason")
    reject_detail = UnicodeAttribute(null=True, attr_name="rejectDetail")
    # DynamoDB TTL: epoch seconds, set only while the asset is PENDING.
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")
    version = VersionAttribute()

    owner_index = OwnerIndex()


def _table() -> type[AssetRecord]:
    """The record class bound to the configured table (rebound when settings change)."""
    settings = get_settings()
    meta = AssetRecord.Meta
    if (meta.table_name, meta.region) != (settings.table_name, settings.region):
        meta.table_name, meta.region = settings.table_name, settings.region
        AssetRecord._connection = None
    return AssetRecord


def _to_asset(record: AssetRecord) -> Asset:
    data = dict(record.attribute_values)
    variants = data.pop("variants", None)
    expires = data.pop("expires_at", None)
    return Asset(
        **data,
        variants=variants.as_dict() if variants is not None else {},
        expires_at=datetime.fromtimestamp(int(expires), UTC) if expires else None,
    )


def _to_record(asset: Asset) -> AssetRecord:
    record = _table()(
        asset.asset_id,
        user_id=asset.user_id,
        created_at=asset.created_at.isoformat(),
        updated_at=asset.updated_at,
        scope=asset.scope,
        status=asset.status.value,
        bucket=asset.bucket,
        key=asset.key,
        filename=asset.filename,
        original_filename=asset.original_filename,
        declared_type=asset.declared_type,
        declared_size=asset.declared_size,
        profile_id=asset.profile_id,
        expires_at=int(asset.expires_at.timestamp()) if asset.expires_at else None,
    )
    return record


def add_pending(asset: Asset) -> None:
    """Store a new PENDING asset; never overwrites one with the same id."""
    try:
        _to_record(asset).save(condition=AssetRecord.asset_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            raise RuntimeError(f"asset {asset.asset_id} already exists") from error
        raise


def get_asset(asset_id: str) -> Asset | None:
    """The asset with this id, or None."""
    try:
        return _to_asset(_table().get(asset_id, consistent_read=True))
    except DoesNotExist:
        return None


def list_assets_of(
    user_id: str, status: AssetStatus | None, limit: int, start_after: dict[str, Any] | None
) -> tuple[list[Asset], dict[str, Any] | None]:
    """One page of a user's assets, newest first, and where the next page starts."""
    condition = (
        AssetRecord.status == status.value
        if status is not None
        else AssetRecord.status != AssetStatus.DELETED.value
    )
    _table()
    results = AssetRecord.owner_index.query(
        user_id,
        scan_index_forward=False,
        filter_condition=condition,
        limit=limit,
        last_evaluated_key=start_after,
    )
    assets = [_to_asset(record) for record in results]
    return assets, results.last_evaluated_key


def mark_ready_if_pending(
    asset_id: str, verified: VerifiedObject, processing: Processing
) -> Asset | None:
    """PENDING → READY with what verification learned; None when it was not PENDING."""
    actions = [
        AssetRecord.status.set(AssetStatus.READY.value),
        AssetRecord.processing.set(processing.value),
        AssetRecord.expires_at.remove(),
        *_verified_facts(verified),
    ]
    return _transition_if_pending(asset_id, actions)


def mark_rejected_if_pending(asset_id: str, reason: RejectReason, detail: str) -> Asset | None:
    """PENDING → REJECTED with its reason; None when it was not PENDING."""
    actions = [
        AssetRecord.status.set(AssetStatus.REJECTED.value),
        AssetRecord.reject_reason.set(reason.value),
        AssetRecord.reject_detail.set(detail),
        AssetRecord.expires_at.remove(),
    ]
    return _transition_if_pending(asset_id, actions)


def _verified_facts(verified: VerifiedObject) -> list[Any]:
    """Update actions recording what verification learned from the bytes."""
    actions = [
        AssetRecord.mime_type.set(verified.mime_type),
        AssetRecord.size.set(verified.size),
        AssetRecord.checksum.set(verified.checksum),
    ]
    if verified.width and verified.height:
        actions += [
            AssetRecord.width.set(verified.width),
            AssetRecord.height.set(verified.height),
            AssetRecord.aspect_ratio.set(round(verified.width / verified.height, 4)),
        ]
    return actions


def _transition_if_pending(asset_id: str, actions: list[Any]) -> Asset | None:
    # The status condition makes the transition happen once; the version condition
    # (added by pynamodb) makes a concurrent edit of other fields retry, not vanish.
    for _attempt in range(5):
        try:
            record = _table().get(asset_id, consistent_read=True)
        except DoesNotExist:
            return None
        if record.status != AssetStatus.PENDING.value:
            return None
        try:
            record.update(
                actions=[*actions, AssetRecord.updated_at.set(utcnow())],
                condition=AssetRecord.status == AssetStatus.PENDING.value,
            )
        except UpdateError as error:
            if error.cause_response_code != _CONDITION_FAILED:
                raise
            continue
        return _to_asset(record)
    return None


def record_variants(
    asset_id: str,
    checksum: str,
    *,
    width: int,
    height: int,
    dominant_color: str,
    placeholder: str,
    variants: dict[str, Variant],
) -> Asset | None:
    """Processing PENDING → DONE for the bytes ``checksum``; None when that is not the state."""
    actions = [
        AssetRecord.processing.set(Processing.DONE.value),
        AssetRecord.width.set(width),
        AssetRecord.height.set(height),
        AssetRecord.aspect_ratio.set(round(width / height, 4)),
        AssetRecord.dominant_color.set(dominant_color),
        AssetRecord.placeholder.set(placeholder),
        AssetRecord.variants.set({name: v.model_dump() for name, v in variants.items()}),
    ]
    return _update_when(asset_id, _processing_pending(checksum), actions)


def record_processing_failed(asset_id: str, checksum: str) -> Asset | None:
    """Processing PENDING → FAILED (the asset stays READY: its bytes passed verification)."""
    actions = [AssetRecord.processing.set(Processing.FAILED.value)]
    return _update_when(asset_id, _processing_pending(checksum), actions)


def record_reverified(
    asset_id: str, previous_checksum: str, verified: VerifiedObject, processing: Processing
) -> Asset | None:
    """A READY asset's object was overwritten and the new bytes passed verification: they
    become the asset's, and what was derived from the old bytes is dropped."""
    actions = [
        AssetRecord.processing.set(processing.value),
        AssetRecord.dominant_color.remove(),
        AssetRecord.placeholder.remove(),
        AssetRecord.variants.remove(),
        *_verified_facts(verified),
    ]
    if not (verified.width and verified.height):
        actions += [
            AssetRecord.width.remove(),
            AssetRecord.height.remove(),
            AssetRecord.aspect_ratio.remove(),
        ]
    return _update_when(asset_id, _ready_with(previous_checksum), actions)


def mark_rejected_if_ready(
    asset_id: str, previous_checksum: str, reason: RejectReason, detail: str
) -> Asset | None:
    """READY → REJECTED when its object was overwritten with bytes that fail verification.

    The verified bytes are gone (S3 replaced them), so the asset cannot stay READY.
    """
    actions = [
        AssetRecord.status.set(AssetStatus.REJECTED.value),
        AssetRecord.reject_reason.set(reason.value),
        AssetRecord.reject_detail.set(detail),
        AssetRecord.variants.remove(),
    ]
    return _update_when(asset_id, _ready_with(previous_checksum), actions)


def _processing_pending(checksum: str) -> Any:
    return (
        (AssetRecord.status == AssetStatus.READY.value)
        & (AssetRecord.checksum == checksum)
        & (AssetRecord.processing == Processing.PENDING.value)
    )


def _ready_with(checksum: str) -> Any:
    return (AssetRecord.status == AssetStatus.READY.value) & (AssetRecord.checksum == checksum)


def _update_when(asset_id: str, condition: Any, actions: list[Any]) -> Asset | None:
    """Apply ``actions`` once if ``condition`` holds; None when it does not (or no asset)."""
    # As in _transition_if_pending: the stated condition decides; pynamodb's version
    # condition turns a concurrent edit of other fields into a retry, never a lost write.
    for _attempt in range(5):
        try:
            record = _table().get(asset_id, consistent_read=True)
        except DoesNotExist:
            return None
        try:
            record.update(
                actions=[*actions, AssetRecord.updated_at.set(utcnow())], condition=condition
            )
        except UpdateError as error:
            if error.cause_response_code != _CONDITION_FAILED:
                raise
            current = get_asset(asset_id)
            if current is None or current.version == record.version:
                return None  # the stated condition failed, not the version check
            continue
        return _to_asset(record)
    return None
