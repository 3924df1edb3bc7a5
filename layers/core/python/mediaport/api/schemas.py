"""Request and response models of the HTTP API (camelCase JSON)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from mediaport.model import AssetStatus, CamelModel, Processing, RejectReason
from mediaport.policy import DEFAULT_SCOPE, normalize_media_type
from mediaport.uploads import UploadIntent

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

# The media types Mediaport can verify from the bytes; a scope allows a subset of them.
KnownMediaType = Literal[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "video/mp4",
    "audio/mpeg",
    "application/pdf",
]


def _normalized(value: object) -> object:
    return normalize_media_type(value) if isinstance(value, str) else value


class RequestModel(CamelModel):
    """A request body: every string must be text that can be stored (UTF-8 encodable)."""

    @field_validator("*", mode="after")
    @classmethod
    def _encodable(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("contains an unpaired surrogate, which is not text") from None
        return value


class PresignRequest(RequestModel):
    """What the client is about to upload."""

    filename: str = Field(min_length=1, max_length=1024, examples=["holiday photo.jpg"])
    content_type: Annotated[KnownMediaType, BeforeValidator(_normalized)] = Field(
        description="The file's media type. Case, parameters and common aliases "
        "(image/jpg, audio/mp3) are normalised; the scope decides which are allowed.",
        examples=["image/jpeg"],
    )
    size: int = Field(
        gt=0,
        le=5 * 1024**4,
        strict=True,
        description="The file's exact size in bytes.",
        examples=[482133],
    )
    scope: str = Field(
        default=DEFAULT_SCOPE,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The upload scope: PROFILE_AVATAR, POST_ATTACHMENT, GENERIC, or one "
        "configured for this deployment.",
        examples=["PROFILE_AVATAR"],
    )
    profile_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"
    )
    method: Literal["PUT", "POST"] = Field(
        default="PUT",
        description="PUT: a presigned URL. POST: a presigned form whose policy makes S3 "
        "itself enforce the exact size and Content-Type.",
    )

    @field_validator("filename")
    @classmethod
    def _has_a_name(cls, value: str) -> str:
        name = re.split(r"[/\\]", CONTROL_CHARACTERS.sub("", value))[-1].strip()
        if not name.strip("."):
            raise ValueError("the filename has no name in it")
        return value

    def to_intent(self) -> UploadIntent:
        """The upload use case's input: what the client said, control characters removed."""
        return UploadIntent(
            filename=self.filename,
            original_filename=CONTROL_CHARACTERS.sub("", self.filename),
            media_type=self.content_type,
            size=self.size,
            scope=self.scope,
            method=self.method,
            profile_id=self.profile_id,
        )


class UploadTicket(CamelModel):
    """Where and how to upload the bytes."""

    asset_id: str
    key: str
    upload_url: str
    method: Literal["PUT", "POST"]
    headers: dict[str, str] | None = Field(
        default=None,
        description="PUT: send exactly these headers (they are signed). A browser sets "
        "Content-Length from the body itself.",
    )
    fields: dict[str, str] | None = Field(
        default=None, description="POST: send these form fields before the file field."
    )
    expires_at: datetime


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
    public_url: str | None = Field(
        default=None, description="The CDN URL of the original, when READY and a CDN is set."
    )
    profile_id: str | None = None
    reject_reason: RejectReason | None = None
    reject_detail: str | None = None
    created_at: datetime
    updated_at: datetime


class AssetPage(CamelModel):
    """One page of the caller's assets, newest first."""

    items: list[AssetView]
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page; null when there is none. A page "
        "may be shorter than `limit` and still have a next one.",
    )
