"""The upload use cases behind the API: presign, confirm, read."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator

from mediaport import repository, storage
from mediaport.config import get_settings
from mediaport.errors import (
    AssetNotFound,
    AssetNotPending,
    InvalidRequest,
    NotAssetOwner,
    VerificationFailed,
)
from mediaport.keys import build_object_key, pending_tagging, sanitize_filename
from mediaport.models import (
    Asset,
    AssetStatus,
    CamelModel,
    Processing,
    RejectReason,
    utcnow,
)
from mediaport.policy import DEFAULT_SCOPE, describe_size, normalize_media_type, scope_table
from mediaport.settlement import Settlement, settle_upload

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class PresignRequest(CamelModel):
    """What the client is about to upload."""

    filename: str = Field(min_length=1, max_length=1024, examples=["holiday photo.jpg"])
    content_type: str = Field(min_length=1, max_length=255, examples=["image/jpeg"])
    size: int = Field(gt=0, description="The file's size in bytes.", examples=[482133])
    scope: str = Field(default=DEFAULT_SCOPE, max_length=64, examples=["PROFILE_AVATAR"])
    profile_id: str | None = Field(default=None, min_length=1, max_length=128)
    method: Literal["PUT", "POST"] = Field(
        default="PUT",
        description="PUT: a presigned URL. POST: a presigned form whose policy makes S3 "
        "itself enforce the size range and the exact Content-Type.",
    )

    @field_validator("filename")
    @classmethod
    def _has_a_name(cls, value: str) -> str:
        name = re.split(r"[/\\]", _CONTROL.sub("", value))[-1].strip()
        if not name.strip("."):
            raise ValueError("the filename has no name in it")
        return value


class UploadTicket(CamelModel):
    """Where and how to upload the bytes."""

    asset_id: str
    key: str
    upload_url: str
    method: Literal["PUT", "POST"]
    headers: dict[str, str] | None = Field(
        default=None, description="PUT: send exactly these headers (they are signed)."
    )
    fields: dict[str, str] | None = Field(
        default=None, description="POST: send these form fields before the file field."
    )
    expires_at: datetime
    public_url: str | None = None


class VariantView(CamelModel):
    url: str
    width: int
    height: int
    bytes: int


class AssetView(CamelModel):
    """An asset as its owner sees it."""

    asset_id: str
    scope: str
    status: AssetStatus
    filename: str
    original_filename: str
    declared_type: str
    declared_size: int
    mime_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    aspect_ratio: float | None = None
    dominant_color: str | None = None
    placeholder: str | None = None
    processing: Processing | None = None
    variants: dict[str, VariantView] = Field(default_factory=dict)
    url: str | None = Field(default=None, description="A short-lived download URL when READY.")
    profile_id: str | None = None
    reject_reason: RejectReason | None = None
    reject_detail: str | None = None
    created_at: datetime
    updated_at: datetime


def create_upload(user_id: str, request: PresignRequest) -> UploadTicket:
    """Check the request against its scope, record a PENDING asset, and presign the upload."""
    settings = get_settings()
    scopes = scope_table(settings.scopes)
    policy = scopes.get(request.scope)
    if policy is None:
        raise InvalidRequest(
            f"unknown scope {request.scope!r}",
            errors=[_field_error("scope", f"must be one of {', '.join(sorted(scopes))}")],
        )
    media_type = normalize_media_type(request.content_type)
    errors = []
    if media_type not in policy.types:
        errors.append(
            _field_error(
                "contentType",
                f"{media_type} is not allowed in scope {request.scope}; allowed: "
                f"{', '.join(sorted(policy.types))}",
            )
        )
    if request.size > policy.max_bytes:
        errors.append(
            _field_error(
                "size",
                f"{describe_size(request.size)} is over the {describe_size(policy.max_bytes)} "
                f"limit of scope {request.scope}",
            )
        )
    if errors:
        raise InvalidRequest("the upload does not fit its scope", errors=errors)

    asset_id = str(uuid.uuid4())
    filename = sanitize_filename(request.filename, media_type)
    now = utcnow()
    asset = Asset(
        asset_id=asset_id,
        user_id=user_id,
        profile_id=request.profile_id,
        scope=request.scope,
        status=AssetStatus.PENDING,
        bucket=settings.bucket_name,
        key=build_object_key(user_id, asset_id, filename),
        filename=filename,
        original_filename=_CONTROL.sub("", request.filename),
        declared_type=media_type,
        declared_size=request.size,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=settings.pending_ttl_seconds),
    )
    repository.add_pending(asset)

    expires_in = settings.presign_expires_seconds
    headers = fields = None
    if request.method == "POST":
        url, fields = storage.presign_post(
            asset.bucket, asset.key, media_type, pending_tagging(), policy.max_bytes, expires_in
        )
    else:
        url, headers = storage.presign_put(
            asset.bucket, asset.key, media_type, pending_tagging(), expires_in
        )
    return UploadTicket(
        asset_id=asset_id,
        key=asset.key,
        upload_url=url,
        method=request.method,
        headers=headers,
        fields=fields,
        expires_at=now + timedelta(seconds=expires_in),
        public_url=f"{settings.public_base_url}/{asset.key}" if settings.public_base_url else None,
    )


def confirm_upload(user_id: str, asset_id: str) -> Settlement:
    """Verify now. READY (even if it already was) returns; anything else raises its problem."""
    asset = _owned_asset(user_id, asset_id)
    if asset.status is AssetStatus.PENDING:
        settlement = settle_upload(asset)
        asset = settlement.asset
    else:
        settlement = Settlement(asset, transitioned=False)
    if asset.status is AssetStatus.READY:
        return settlement
    if asset.status is AssetStatus.REJECTED:
        raise VerificationFailed(
            (asset.reject_reason or RejectReason.UNRECOGNIZED_TYPE).value,
            asset.reject_detail or "the uploaded file was rejected",
        )
    raise AssetNotPending(f"asset {asset_id} is {asset.status.value} and cannot be confirmed")


class AssetPage(CamelModel):
    """One page of the caller's assets, newest first."""

    items: list[AssetView]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


def read_asset(user_id: str, asset_id: str) -> AssetView:
    """The asset as JSON for its owner, with short-lived URLs for the file and its variants."""
    return _view(_owned_asset(user_id, asset_id))


def list_assets(
    user_id: str, status: AssetStatus | None, limit: int, cursor: str | None
) -> AssetPage:
    """The caller's assets, newest first, a page at a time."""
    start_after = _decode_cursor(cursor, user_id) if cursor else None
    assets, last_key = repository.list_assets_of(user_id, status, limit, start_after)
    return AssetPage(
        items=[_view(asset) for asset in assets],
        next_cursor=_encode_cursor(last_key) if last_key else None,
    )


def _view(asset: Asset) -> AssetView:
    expires_in = get_settings().download_expires_seconds
    ready = asset.status is AssetStatus.READY
    variants = {
        name: VariantView(
            url=storage.presign_get(asset.bucket, variant.key, expires_in),
            width=variant.width,
            height=variant.height,
            bytes=variant.bytes,
        )
        for name, variant in asset.variants.items()
    }
    return AssetView(
        **asset.model_dump(include=set(AssetView.model_fields) - {"variants", "url"}),
        variants=variants if ready else {},
        url=storage.presign_get(asset.bucket, asset.key, expires_in) if ready else None,
    )


def _owned_asset(user_id: str, asset_id: str) -> Asset:
    asset = repository.get_asset(asset_id) if _UUID.fullmatch(asset_id) else None
    if asset is None or asset.status is AssetStatus.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.user_id != user_id:
        raise NotAssetOwner(f"asset {asset_id} belongs to another user")
    return asset


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str, user_id: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        owner = key["userId"]["S"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidRequest(
            "the cursor is not one this API returned",
            errors=[_field_error("cursor", "is not valid")],
        ) from error
    if owner != user_id:
        raise InvalidRequest(
            "the cursor belongs to another listing",
            errors=[_field_error("cursor", "is not valid")],
        )
    return dict(key)


def _field_error(field: str, detail: str) -> dict[str, str]:
    return {"field": field, "detail": detail}
