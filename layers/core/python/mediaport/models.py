"""Domain models: the asset and what the API says about it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class AssetStatus(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    REJECTED = "REJECTED"
    DELETED = "DELETED"
    QUARANTINED = "QUARANTINED"


class Processing(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class RejectReason(StrEnum):
    """Why a file was rejected; machine-readable, stable across releases."""

    EMPTY_FILE = "EMPTY_FILE"
    TOO_LARGE = "TOO_LARGE"
    UNRECOGNIZED_TYPE = "UNRECOGNIZED_TYPE"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    TYPE_NOT_ALLOWED = "TYPE_NOT_ALLOWED"
    IMAGE_TOO_MANY_PIXELS = "IMAGE_TOO_MANY_PIXELS"
    IMAGE_CORRUPT = "IMAGE_CORRUPT"


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Variant(CamelModel):
    key: str
    width: int
    height: int
    bytes: int


def utcnow() -> datetime:
    return datetime.now(UTC)


class Asset(CamelModel):
    """One uploaded (or about to be uploaded) file and everything known about it."""

    asset_id: str
    user_id: str
    scope: str
    status: AssetStatus
    bucket: str
    key: str
    filename: str
    original_filename: str
    declared_type: str
    declared_size: int
    profile_id: str | None = None
    mime_type: str | None = None
    size: int | None = None
    checksum: str | None = None
    width: int | None = None
    height: int | None = None
    aspect_ratio: float | None = None
    dominant_color: str | None = None
    placeholder: str | None = None
    variants: dict[str, Variant] = Field(default_factory=dict)
    processing: Processing | None = None
    reject_reason: RejectReason | None = None
    reject_detail: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    version: int | None = None


class VerifiedObject(CamelModel):
    """What verification learned from the bytes in storage."""

    mime_type: str
    size: int
    checksum: str
    width: int | None = None
    height: int | None = None
