"""The upload use cases: presign (record a PENDING asset and sign the upload) and confirm.

``start_pending`` is the one way an asset comes to exist, whichever way its bytes will
arrive (presign, multipart, direct, Uppy): the scope's rules are checked and the PENDING
record written here, so every path starts from the same asset.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from mediaport import usage
from mediaport.adapters import storage
from mediaport.errors import (
    AssetNotPending,
    AssetQuarantined,
    InvalidRequest,
    VerificationFailed,
)
from mediaport.keys import build_object_key, pending_tagging, sanitize_filename
from mediaport.library import owned_asset
from mediaport.model import Asset, AssetStatus, RejectReason, utcnow
from mediaport.policy import ScopePolicy, describe_size, scope_table
from mediaport.services import Services
from mediaport.settlement import Settlement, settle_upload


@dataclass(frozen=True)
class UploadIntent:
    """What the client is about to upload (already normalised by the API layer)."""

    filename: str
    original_filename: str
    media_type: str
    # None when the client declares no size (Uppy): the scope's maximum bounds it instead.
    size: int | None
    scope: str
    method: Literal["PUT", "POST"] = "PUT"
    profile_id: str | None = None
    folder: str | None = None
    alt_text: str | None = None
    caption: str | None = None
    tags: tuple[str, ...] = ()
    checksum_sha256: str | None = None
    upload_session: str | None = None
    # The uploader's tier (from their token); None: the default tier.
    tier: str | None = None


@dataclass(frozen=True)
class Ticket:
    asset: Asset
    url: str
    method: Literal["PUT", "POST"]
    headers: dict[str, str] | None
    fields: dict[str, str] | None
    expires_at: datetime


def start_pending(
    services: Services, user_id: str, intent: UploadIntent
) -> tuple[Asset, ScopePolicy]:
    """Check the intent against its scope and record a PENDING asset (and its policy).

    A multipart upload's id is unknown until S3 starts it for the key, so the multipart
    use case builds the asset with ``plan_pending`` and stores it itself.
    """
    asset, policy = plan_pending(services, user_id, intent)
    services.assets.add_pending(asset)
    return asset, policy


def plan_pending(
    services: Services, user_id: str, intent: UploadIntent
) -> tuple[Asset, ScopePolicy]:
    """The PENDING asset an intent would make (checked against its scope), not yet stored."""
    settings = services.settings
    policy = check_scope(settings.scopes, intent.scope, intent.media_type, intent.size)
    tier = settings.tier_of(intent.tier)
    usage.require_room(services, user_id, tier, intent.size)
    asset_id = str(uuid.uuid4())
    filename = sanitize_filename(intent.filename, intent.media_type)
    now = utcnow()
    asset = Asset(
        asset_id=asset_id,
        user_id=user_id,
        profile_id=intent.profile_id,
        scope=intent.scope,
        status=AssetStatus.PENDING,
        bucket=settings.bucket_name,
        key=build_object_key(user_id, asset_id, filename),
        filename=filename,
        original_filename=intent.original_filename,
        declared_type=intent.media_type,
        declared_size=intent.size,
        folder=intent.folder,
        alt_text=intent.alt_text,
        caption=intent.caption,
        tags=list(intent.tags),
        checksum_sha256=intent.checksum_sha256,
        upload_session=intent.upload_session,
        tier=tier,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=settings.pending_ttl_seconds),
    )
    return asset, policy


def check_scope(
    scopes: Mapping[str, ScopePolicy], scope: str, media_type: str, size: int | None
) -> ScopePolicy:
    """The scope's policy, when the type (and the size, if declared) fit it; else 400."""
    table = scope_table(scopes)
    policy = table.get(scope)
    if policy is None:
        raise InvalidRequest(
            f"unknown scope {scope!r}",
            errors=[_field_error("scope", f"must be one of {', '.join(sorted(table))}")],
        )
    errors = []
    if media_type not in policy.types:
        errors.append(
            _field_error(
                "contentType",
                f"{media_type} is not allowed in scope {scope}; allowed: "
                f"{', '.join(sorted(policy.types))}",
            )
        )
    if size is not None and size > policy.max_bytes:
        errors.append(
            _field_error(
                "size",
                f"{describe_size(size)} is over the {describe_size(policy.max_bytes)} "
                f"limit of scope {scope}",
            )
        )
    if errors:
        raise InvalidRequest("the upload does not fit its scope", errors=errors)
    return policy


def create_upload(services: Services, user_id: str, intent: UploadIntent) -> Ticket:
    """Check the intent against its scope, record a PENDING asset, and presign the upload."""
    if intent.size is None:
        raise InvalidRequest("size is required", errors=[_field_error("size", "is required")])
    asset, _policy = start_pending(services, user_id, intent)
    expires_in = services.settings.presign_expires_seconds
    headers = fields = None
    if intent.method == "POST":
        url, fields = storage.presign_post(
            asset.bucket, asset.key, intent.media_type, intent.size, pending_tagging(), expires_in
        )
    else:
        url, headers = storage.presign_put(
            asset.bucket,
            asset.key,
            intent.media_type,
            intent.size,
            pending_tagging(),
            expires_in,
            checksum_sha256=intent.checksum_sha256,
        )
    return Ticket(
        asset=asset,
        url=url,
        method=intent.method,
        headers=headers,
        fields=fields,
        expires_at=asset.created_at + timedelta(seconds=expires_in),
    )


def confirm_upload(services: Services, user_id: str, asset_id: str) -> Settlement:
    """Verify now (once): the settlement says what the asset is and whether this call decided."""
    asset = owned_asset(services, user_id, asset_id)
    if asset.status is AssetStatus.PENDING:
        return settle_upload(services, asset)
    return Settlement(asset, transitioned=False)


def require_ready(settlement: Settlement) -> Asset:
    """The READY asset a confirm settled; the problem to answer for anything else."""
    asset = settlement.asset
    if asset.status is AssetStatus.READY:
        return asset
    if asset.status is AssetStatus.REJECTED:
        raise VerificationFailed(
            (asset.reject_reason or RejectReason.UNRECOGNIZED_TYPE).value,
            asset.reject_detail or "the uploaded file was rejected",
        )
    if asset.status is AssetStatus.QUARANTINED:
        raise AssetQuarantined(
            f"asset {asset.asset_id} is QUARANTINED: its malware scan says "
            f"{asset.scan_result or 'it cannot be served'}; an admin may release it"
        )
    raise AssetNotPending(f"asset {asset.asset_id} is {asset.status.value} and cannot be confirmed")


def _field_error(field: str, detail: str) -> dict[str, str]:
    return {"field": field, "detail": detail}
