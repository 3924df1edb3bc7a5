"""The upload use cases: presign (record a PENDING asset and sign the upload) and confirm."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from mediaport.adapters import storage
from mediaport.errors import AssetNotPending, InvalidRequest, VerificationFailed
from mediaport.keys import build_object_key, pending_tagging, sanitize_filename
from mediaport.library import owned_asset
from mediaport.model import Asset, AssetStatus, RejectReason, utcnow
from mediaport.policy import describe_size, scope_table
from mediaport.services import Services
from mediaport.settlement import Settlement, settle_upload


@dataclass(frozen=True)
class UploadIntent:
    """What the client is about to upload (already normalised by the API layer)."""

    filename: str
    original_filename: str
    media_type: str
    size: int
    scope: str
    method: Literal["PUT", "POST"] = "PUT"
    profile_id: str | None = None


@dataclass(frozen=True)
class Ticket:
    asset: Asset
    url: str
    method: Literal["PUT", "POST"]
    headers: dict[str, str] | None
    fields: dict[str, str] | None
    expires_at: datetime


def create_upload(services: Services, user_id: str, intent: UploadIntent) -> Ticket:
    """Check the intent against its scope, record a PENDING asset, and presign the upload."""
    settings = services.settings
    scopes = scope_table(settings.scopes)
    policy = scopes.get(intent.scope)
    if policy is None:
        raise InvalidRequest(
            f"unknown scope {intent.scope!r}",
            errors=[_field_error("scope", f"must be one of {', '.join(sorted(scopes))}")],
        )
    errors = []
    if intent.media_type not in policy.types:
        errors.append(
            _field_error(
                "contentType",
                f"{intent.media_type} is not allowed in scope {intent.scope}; allowed: "
                f"{', '.join(sorted(policy.types))}",
            )
        )
    if intent.size > policy.max_bytes:
        errors.append(
            _field_error(
                "size",
                f"{describe_size(intent.size)} is over the {describe_size(policy.max_bytes)} "
                f"limit of scope {intent.scope}",
            )
        )
    if errors:
        raise InvalidRequest("the upload does not fit its scope", errors=errors)

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
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=settings.pending_ttl_seconds),
    )
    services.assets.add_pending(asset)

    expires_in = settings.presign_expires_seconds
    headers = fields = None
    if intent.method == "POST":
        url, fields = storage.presign_post(
            asset.bucket, asset.key, intent.media_type, intent.size, pending_tagging(), expires_in
        )
    else:
        url, headers = storage.presign_put(
            asset.bucket, asset.key, intent.media_type, intent.size, pending_tagging(), expires_in
        )
    return Ticket(
        asset=asset,
        url=url,
        method=intent.method,
        headers=headers,
        fields=fields,
        expires_at=now + timedelta(seconds=expires_in),
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
    raise AssetNotPending(f"asset {asset.asset_id} is {asset.status.value} and cannot be confirmed")


def _field_error(field: str, detail: str) -> dict[str, str]:
    return {"field": field, "detail": detail}
