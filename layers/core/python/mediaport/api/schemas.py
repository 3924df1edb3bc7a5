"""Request and response models of the HTTP API (camelCase JSON)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)

from mediaport.fields import (
    CHECKSUM_SHA256_PATTERN,
    MAX_ALT_TEXT,
    MAX_CAPTION,
    normalize_folder,
    normalize_tags,
)
from mediaport.keys import ASSET_ID_PATTERN
from mediaport.model import (
    AssetStatus,
    CamelModel,
    Processing,
    RejectReason,
    ScanStatus,
    VariantStatus,
)
from mediaport.model.attachments import ROLE_PATTERN
from mediaport.model.variants import DEFAULT_QUALITY, MAX_OUTPUT_EDGE, Fit, OutputFormat
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


def _whole(value: object) -> object:
    # JSON has one number type: 12.0 is the integer 12 (JSON Schema says so too), while a
    # string or a boolean stays what it is and is refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A count in JSON: a whole number, never a string or a boolean (strict), 12.0 allowed.
WholeNumber = Annotated[int, BeforeValidator(_whole), Strict()]


def _has_a_name(value: str) -> str:
    name = re.split(r"[/\\]", CONTROL_CHARACTERS.sub("", value))[-1].strip()
    if not name.strip("."):
        raise ValueError("the filename has no name in it")
    return value


# A file's name as the client has it; the server builds the stored name from it.
Filename = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_has_a_name)]

# The library fields, as every request that sets them takes them.
FolderPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=300,
        description="A folder path such as `trips/2026/alps`: at most 8 names of 1-64 "
        "letters, digits, spaces or `_-.`, 255 characters in all.",
        examples=["trips/2026/alps"],
    ),
    AfterValidator(normalize_folder),
]
AltText = Annotated[
    str, Field(max_length=MAX_ALT_TEXT, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
]
Caption = Annotated[
    str, Field(max_length=MAX_CAPTION, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
]
Tags = Annotated[
    list[Annotated[str, Field(max_length=200)]],
    Field(
        max_length=100,
        description="At most 20 tags of at most 50 characters; trimmed, "
        "lower-cased and de-duplicated.",
    ),
    AfterValidator(normalize_tags),
]
ChecksumSha256 = Annotated[
    str,
    Field(
        pattern=CHECKSUM_SHA256_PATTERN,
        description="The SHA-256 of the bytes, base64 (as S3's `x-amz-checksum-sha256`). "
        "It is signed into the upload, so S3 refuses any other bytes.",
        examples=["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],
    ),
]


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

    filename: Filename = Field(examples=["holiday photo.jpg"])
    content_type: Annotated[KnownMediaType, BeforeValidator(_normalized)] = Field(
        description="The file's media type. Case, parameters and common aliases "
        "(image/jpg, audio/mp3) are normalised; the scope decides which are allowed.",
        examples=["image/jpeg"],
    )
    size: WholeNumber = Field(
        gt=0,
        le=5 * 1024**4,
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
    folder: FolderPath | None = None
    checksum_sha256: ChecksumSha256 | None = Field(
        default=None,
        description="PUT only: the SHA-256 of the bytes, base64. It is signed into the "
        "upload, so S3 refuses any other bytes.",
    )

    @model_validator(mode="after")
    def _checksum_with_put(self) -> PresignRequest:
        if self.checksum_sha256 is not None and self.method != "PUT":
            raise ValueError("checksumSha256 is signed into a PUT upload; use method PUT")
        return self

    def to_intent(self, tier: str | None = None) -> UploadIntent:
        """The upload use case's input: what the client said, control characters removed."""
        return UploadIntent(
            tier=tier,
            filename=self.filename,
            original_filename=CONTROL_CHARACTERS.sub("", self.filename),
            media_type=self.content_type,
            size=self.size,
            scope=self.scope,
            method=self.method,
            profile_id=self.profile_id,
            folder=self.folder,
            checksum_sha256=self.checksum_sha256,
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


# The description every cdnUrl field shares (docs/serving.md).
CDN_URL = (
    "A stable CDN URL, for a served asset whose scope is public when a CDN is configured "
    "(null otherwise). Keep it as long as you like: a delete or a quarantine stops it "
    "serving."
)


class VariantView(CamelModel):
    url: str = Field(description="A short-lived GET URL.")
    cdn_url: str | None = Field(default=None, description=CDN_URL)
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
    declared_size: int | None = Field(
        description="Null when the upload declared no size (an Uppy upload)."
    )
    mime_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    aspect_ratio: float | None = None
    dominant_color: str | None = None
    placeholder: str | None = None
    processing: Processing | None = None
    variants: dict[str, VariantView] = Field(default_factory=dict)
    url: str | None = Field(
        default=None, description="A short-lived GET URL of the original, once served."
    )
    cdn_url: str | None = Field(default=None, description=CDN_URL)
    public_url: str | None = Field(
        default=None,
        deprecated=True,
        description="The same as cdnUrl (its former name); use cdnUrl.",
    )
    profile_id: str | None = None
    folder: str | None = None
    alt_text: str | None = None
    caption: str | None = None
    tags: list[str] = Field(default_factory=list)
    checksum_sha256: str | None = None
    reject_reason: RejectReason | None = None
    reject_detail: str | None = None
    scan_status: ScanStatus | None = Field(
        default=None,
        description="With malware scanning on: PENDING (not served yet), CLEAN, INFECTED "
        "(QUARANTINED) or ERROR (the scan could not be done).",
    )
    scanned_at: datetime | None = None
    released_at: datetime | None = Field(
        default=None, description="When an admin released it from quarantine."
    )
    original_size: int | None = Field(
        default=None, description="Set by optimize: the original's bytes."
    )
    optimized_size: int | None = Field(
        default=None, description="Set by optimize: the optimized variant's bytes."
    )
    compression_ratio: float | None = Field(
        default=None, description="originalSize / optimizedSize."
    )
    usage_count: int = Field(
        default=0, description="How many host-app things the asset is attached to."
    )
    last_used_at: datetime | None = Field(default=None, description="When it was last attached.")
    deleted_at: datetime | None = Field(default=None, description="When it went to the trash.")
    purge_at: datetime | None = Field(
        default=None,
        description="In the trash: when it is purged for good (restorable until then).",
    )
    version: int | None = Field(
        default=None, description="The version the `ETag` header carries (for `If-Match`)."
    )
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


# --- multipart uploads ------------------------------------------------------------------

AssetIdField = Annotated[
    str,
    Field(
        pattern=ASSET_ID_PATTERN,
        description="The assetId from initiate (a UUID).",
        examples=["6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"],
    ),
]
# (Constraints before the validator: after it, pydantic documents them as "ge"/"le".)
PartNumber = Annotated[int, Field(ge=1, le=10_000), BeforeValidator(_whole), Strict()]


class MultipartInitiateRequest(RequestModel):
    """A large file about to be uploaded in parts."""

    filename: Filename = Field(examples=["ride.mp4"])
    content_type: Annotated[KnownMediaType, BeforeValidator(_normalized)] = Field(
        description="The file's media type (normalised as at presign).", examples=["video/mp4"]
    )
    size: WholeNumber = Field(gt=0, le=5 * 1024**4, description="The file's exact size in bytes.")
    scope: str = Field(
        default=DEFAULT_SCOPE, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    )
    folder: FolderPath | None = None
    checksum_sha256: ChecksumSha256 | None = Field(
        default=None,
        description="The whole file's SHA-256 (base64), recorded on the asset. S3 checks "
        "parts, not whole multipart objects: send each part's own checksum when signing it.",
    )

    def to_intent(self, tier: str | None = None) -> UploadIntent:
        return UploadIntent(
            tier=tier,
            filename=self.filename,
            original_filename=CONTROL_CHARACTERS.sub("", self.filename),
            media_type=self.content_type,
            size=self.size,
            scope=self.scope,
            folder=self.folder,
            checksum_sha256=self.checksum_sha256,
        )


class MultipartStarted(CamelModel):
    asset_id: str
    key: str
    upload_id: str
    part_size: int = Field(description="Every part is this many bytes, but the last.")
    part_count: int
    expires_at: datetime = Field(description="Complete the upload before this.")


class PartChecksum(RequestModel):
    part_number: PartNumber
    checksum_sha256: ChecksumSha256


class SignPartsRequest(RequestModel):
    asset_id: AssetIdField
    part_numbers: list[PartNumber] = Field(min_length=1, max_length=100)
    checksums: list[PartChecksum] | None = Field(
        default=None,
        max_length=100,
        description="Optional SHA-256 (base64) of parts among partNumbers: each is signed "
        "into its part's URL, so S3 refuses other bytes.",
    )


class SignedPartUrls(CamelModel):
    urls: dict[str, str] = Field(
        description="A presigned PUT URL per part number. Send exactly the part's bytes; S3 "
        "answers its ETag, which complete needs."
    )
    expires_at: datetime


class UploadedPartView(CamelModel):
    part_number: int
    etag: str
    size: int


class UploadedParts(CamelModel):
    parts: list[UploadedPartView]


class CompletedPart(RequestModel):
    """One uploaded part; any other field a client adds is ignored."""

    part_number: PartNumber
    etag: str = Field(min_length=1, max_length=128, pattern=r'^"?[A-Za-z0-9-]+"?$')


class CompleteMultipartRequest(RequestModel):
    asset_id: AssetIdField
    parts: list[CompletedPart] = Field(min_length=1, max_length=10_000)


class AbortMultipartRequest(RequestModel):
    asset_id: AssetIdField


# --- storage usage -----------------------------------------------------------------------


class BandwidthView(CamelModel):
    """What the CDN served of the caller's public media this month (UTC)."""

    month: str = Field(description="The calendar month counted, e.g. `2026-11` (UTC).")
    used_bytes: int = Field(
        description="Bytes served this month. On AWS, counted from CloudFront's logs: "
        "usually an hour behind, at worst a day."
    )
    limit_bytes: int = Field(description="The tier's monthly bandwidth: warned at, not enforced.")
    percent_used: float
    warning: Literal["APPROACHING", "EXCEEDED"] | None = Field(
        default=None, description="APPROACHING past 80 % of the limit; EXCEEDED at it."
    )
    warning_at: datetime | None = Field(
        default=None, description="When this month's use crossed a warning level (80 %, 100 %)."
    )
    reset_at: datetime = Field(description="When the next month starts counting from 0.")


class UsageView(CamelModel):
    """The caller's storage against their tier, and this month's bandwidth."""

    tier: str
    total_bytes: int
    total_files: int
    limit_bytes: int
    max_files: int
    remaining_bytes: int
    percent_used: float
    warning: Literal["APPROACHING", "EXCEEDED"] | None = Field(
        default=None,
        description="APPROACHING past 80 % of the bytes; EXCEEDED at the bytes or files limit.",
    )
    storage_warning_at: datetime | None = Field(
        default=None, description="When usage last crossed a warning level (80 %, 100 %)."
    )
    calculated_at: datetime | None = Field(
        default=None, description="When reconcile last recomputed the totals, if ever."
    )
    bandwidth: BandwidthView


class CounterView(CamelModel):
    bytes: int
    files: int


class UsageBreakdownView(CamelModel):
    by_type: dict[str, CounterView] = Field(
        description="image, video, audio, document, other (from the detected type)."
    )
    by_scope: dict[str, CounterView]
    by_folder: dict[str, CounterView] = Field(
        description='Per top-level folder; "" holds assets outside any folder.'
    )


def _empty_as_none(value: object) -> object:
    return None if isinstance(value, str) and value.strip() in ("", "/") else value


class AssetPatch(RequestModel):
    """A JSON merge patch (RFC 7396) of the library fields: a field left out stays as it
    is, ``null`` clears it. Only the documented (camelCase) names are taken."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    alt_text: AltText | None = None
    caption: Caption | None = None
    tags: Tags | None = None
    folder: FolderPath | None = None

    def changes(self) -> dict[str, object]:
        """The fields the patch names (Asset field names), ``None`` where it clears."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class MoveRequest(RequestModel):
    """Where an asset moves: a folder path, or ``null`` (or ``""``) for no folder."""

    model_config = ConfigDict(extra="forbid")

    folder: Annotated[FolderPath | None, BeforeValidator(_empty_as_none)] = Field(
        description='The folder, or null (or "") for none.'
    )


class DownloadView(CamelModel):
    """Where to download an asset from (for clients that cannot follow a 302 with a token)."""

    url: str = Field(
        description="A short-lived URL answering with Content-Disposition: attachment."
    )
    filename: str
    expires_at: datetime


class FolderView(CamelModel):
    path: str
    asset_count: int = Field(
        description="Assets counted in usage (READY or QUARANTINED) directly in the folder."
    )
    bytes: int = Field(description="Their bytes.")
    created_at: datetime


class FolderList(CamelModel):
    items: list[FolderView] = Field(description="Every folder of the caller, sorted by path.")


class CreateFolderRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    path: FolderPath


# --- attachments --------------------------------------------------------------------------


class AttachRequest(RequestModel):
    """What an attachment is for on its entity (optional)."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(
        default=None,
        pattern=ROLE_PATTERN,
        description="What the asset is on the entity (1-32 letters, digits, `_` or `-`). "
        "Left out on an existing attachment: its role stays.",
        examples=["cover"],
    )


class AttachmentView(CamelModel):
    asset_id: str
    entity_type: str
    entity_id: str
    role: str | None = None
    attached_at: datetime | None = None


class MediaVariantView(CamelModel):
    """A variant as any signed-in user may see it."""

    url: str = Field(description="A short-lived GET URL.")
    cdn_url: str | None = Field(default=None, description=CDN_URL)
    width: int
    height: int


class AttachedMediaView(CamelModel):
    """An attached asset as the host app's feed renders it: never its owner's private
    fields (original filename, folder, tags, reject details)."""

    asset_id: str
    role: str | None = None
    url: str = Field(description="A short-lived GET URL of the original.")
    cdn_url: str | None = Field(default=None, description=CDN_URL)
    variants: dict[str, MediaVariantView] = Field(default_factory=dict)
    mime_type: str | None = None
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None
    placeholder: str | None = Field(default=None, description="A tiny blurred preview.")
    dominant_color: str | None = None
    attached_at: datetime | None = None


class EntityMediaView(CamelModel):
    entity_type: str
    entity_id: str
    items: list[AttachedMediaView] = Field(
        description="Its attached READY assets, oldest attachment first."
    )


class AvatarRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    asset_id: Annotated[str, Field(pattern=ASSET_ID_PATTERN)] | None = Field(
        description="A READY asset of the caller's, uploaded in scope PROFILE_AVATAR; "
        "null: no avatar."
    )


class AvatarView(CamelModel):
    asset_id: str
    url: str = Field(description="A short-lived GET URL of the original.")
    cdn_url: str | None = Field(default=None, description=CDN_URL)
    variants: dict[str, MediaVariantView] = Field(default_factory=dict)


# --- Image operations on demand -------------------------------------------------------------

# Whole numbers with bounds. The bounds come before the validators in each alias, so the
# document says ``minimum``/``maximum`` (after them, pydantic writes raw ``ge``/``le``).
# Past MAX_OUTPUT_EDGE a size is well-formed but breaks a limit: 422 naming it, from the
# use case (a schema maximum would only say 400).
Pixels = Annotated[int, Field(ge=1, le=1_000_000), BeforeValidator(_whole), Strict()]
Offset = Annotated[int, Field(ge=0, le=1_000_000), BeforeValidator(_whole), Strict()]
Quality = Annotated[int, Field(ge=1, le=100), BeforeValidator(_whole), Strict()]
_PIXELS = f"Pixels; the output is at most {MAX_OUTPUT_EDGE}."
_QUALITY = f"Encoder quality, 1-100 (default {DEFAULT_QUALITY})."


class ResizeRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    width: Pixels | None = Field(
        default=None, description=f"At least one of width and height. {_PIXELS}"
    )
    height: Pixels | None = Field(default=None, description=_PIXELS)
    fit: Fit = Field(
        default=Fit.COVER,
        description="With both dimensions: cover (fill the box, crop the overflow), contain "
        "(fit in the box, pad), inside (fit in the box, no padding: aspect kept) or fill "
        "(stretch). With one, the other follows the aspect ratio.",
    )
    format: OutputFormat = OutputFormat.WEBP
    quality: Quality = Field(default=DEFAULT_QUALITY, description=_QUALITY)

    @model_validator(mode="after")
    def _a_dimension(self) -> ResizeRequest:
        if self.width is None and self.height is None:
            raise ValueError("a resize needs a width, a height or both")
        return self


class CropRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    x: Offset = Field(description="Pixels from the left of the image as displayed.")
    y: Offset = Field(description="Pixels from the top of the image as displayed.")
    width: Pixels = Field(description=_PIXELS)
    height: Pixels = Field(description=_PIXELS)
    format: OutputFormat | None = Field(
        default=None, description="The original's format when left out (WebP for a GIF)."
    )
    quality: Quality = Field(default=DEFAULT_QUALITY, description=_QUALITY)


class OptimizeRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    quality: Quality = Field(default=DEFAULT_QUALITY, description=_QUALITY)
    format: OutputFormat | None = Field(
        default=None, description="The original's format when left out (WebP for a GIF)."
    )


class VariantDetail(CamelModel):
    """One variant of an image: an automatic thumbnail (``params.operation`` thumbnail) or
    one asked for (resize, crop, optimize)."""

    name: str
    width: int
    height: int
    format: str
    bytes: int | None = Field(description="Null until READY.")
    status: VariantStatus
    params: dict[str, int | str]
    url: str | None = Field(default=None, description="A short-lived GET URL once READY.")
    cdn_url: str | None = Field(default=None, description=CDN_URL)
    reason: str | None = Field(
        default=None,
        description="Why it FAILED: NOT_SMALLER (optimize saved nothing; no copy kept), "
        "UNREADABLE or GAVE_UP.",
    )
    detail: str | None = None
    requested_at: datetime | None = None


class VariantList(CamelModel):
    items: list[VariantDetail]


# --- Malware scanning: the admin's view -------------------------------------------------------


class ReleaseRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1,
        max_length=1000,
        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
        description="Why the asset is safe to serve (kept on the asset).",
    )


class QuarantinedView(CamelModel):
    asset_id: str
    user_id: str
    status: AssetStatus
    filename: str
    original_filename: str
    mime_type: str | None = None
    size: int | None = None
    scan_status: ScanStatus | None = None
    scan_result: str | None = Field(
        default=None, description="GuardDuty's scanResultStatus, e.g. THREATS_FOUND."
    )
    scanned_at: datetime | None = None
    created_at: datetime


class QuarantinedPage(CamelModel):
    items: list[QuarantinedView]
    next_cursor: str | None = Field(default=None, description="The next page's cursor.")


class ReleasedView(QuarantinedView):
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str | None = None
