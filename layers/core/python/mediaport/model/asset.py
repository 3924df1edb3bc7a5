"""The asset and its state machine: which change is legal is decided here, without I/O.

A method such as ``asset.mark_ready(verified)`` checks that the change is legal for the
asset as read and returns a ``Transition``: what the stored asset must still be, and what
changes. The table adapter turns it into one conditional write, so whichever writer comes
first wins and a stale decision changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from mediaport.model.attachments import MAX_ATTACHMENTS_PER_ASSET, AttachmentLimitReached
from mediaport.model.usage import Quota, UsageDelta, category_of


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
    SIZE_MISMATCH = "SIZE_MISMATCH"
    UNRECOGNIZED_TYPE = "UNRECOGNIZED_TYPE"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    TYPE_NOT_ALLOWED = "TYPE_NOT_ALLOWED"
    IMAGE_TOO_MANY_PIXELS = "IMAGE_TOO_MANY_PIXELS"
    IMAGE_CORRUPT = "IMAGE_CORRUPT"
    CHECKSUM_MISMATCH = "CHECKSUM_MISMATCH"
    # Verified, but the owner's tier had no room left for it when it was to become READY.
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    # The client (or the multipart expiry) aborted a multipart upload before completing it.
    ABORTED = "ABORTED"


# The statuses whose assets count in usage and folder counts.
COUNTED_STATUSES = frozenset({AssetStatus.READY, AssetStatus.QUARANTINED})
# What PATCH /media/{id} may change (Asset field names).
EDITABLE_FIELDS = ("folder", "alt_text", "caption", "tags")


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Variant(CamelModel):
    key: str
    width: int
    height: int
    bytes: int


def utcnow() -> datetime:
    return datetime.now(UTC)


class IllegalTransition(Exception):
    """A change the state machine does not allow from the asset's current state."""


class VerifiedObject(CamelModel):
    """What verification learned from the bytes in storage."""

    mime_type: str
    size: int
    checksum: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Transition:
    """A decided change: the state the stored asset must still be in, and what changes.

    ``changes`` maps Asset field names to new values; ``None`` removes the field.
    """

    asset_id: str
    expect_status: AssetStatus
    changes: Mapping[str, Any]
    # The bytes the decision was made for (READY assets): a newer upload voids it.
    expect_checksum: str | None = None
    expect_processing: tuple[Processing, ...] = field(default=())
    # The version the caller last read (If-Match): a stale one changes nothing.
    expect_version: int | None = None
    # The room a growing usage change must fit in; None: no limit is checked. What a change
    # does to usage and folder counts is not stated here: the table adapter derives it
    # from the asset before and after (``count_changes``), in the same transaction.
    quota: Quota | None = None


# Facts learned from one version of the bytes; they go when those bytes go.
_IMAGE_FACTS = ("width", "height", "aspect_ratio", "dominant_color", "placeholder", "variants")
_VERIFIED_FACTS = ("mime_type", "size", "checksum")


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
    # None for an upload that declared no size (Uppy's calls carry none): then the scope's
    # maximum (signed into the POST policy, checked at verification) bounds it instead.
    declared_size: int | None = None
    profile_id: str | None = None
    # Library fields the uploader may set (DESIGN §3).
    folder: str | None = None
    alt_text: str | None = None
    caption: str | None = None
    tags: list[str] = Field(default_factory=list)
    # A multipart upload in progress: S3's UploadId and, when the size was declared, the
    # part plan every part URL was signed for.
    upload_id: str | None = None
    part_size: int | None = None
    part_count: int | None = None
    # The SHA-256 (base64) the client declared; signed into its upload so S3 refuses
    # other bytes.
    checksum_sha256: str | None = None
    # The Uppy upload session (its id, never its token) the asset was created through.
    upload_session: str | None = None
    # The uploader's tier when the upload started: its limits apply when it becomes READY.
    tier: str | None = None
    # How many host-app things (posts, avatars, ...) it is attached to, and when last.
    usage_count: int = 0
    last_used_at: datetime | None = None
    # Soft delete: in the trash since deleted_at, restorable until purged (its files gone).
    deleted_at: datetime | None = None
    purged_at: datetime | None = None
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

    # --- PENDING: the upload settles once --------------------------------------------

    def mark_ready(self, verified: VerifiedObject, processing: Processing) -> Transition:
        """PENDING → READY with what verification learned; the TTL goes."""
        self._require(AssetStatus.PENDING, "become READY")
        return Transition(
            self.asset_id,
            AssetStatus.PENDING,
            {
                "status": AssetStatus.READY,
                "processing": processing,
                "expires_at": None,
                "upload_id": None,
                **_verified_changes(verified),
            },
        )

    def mark_rejected(
        self, reason: RejectReason, detail: str, *, keep_until: datetime
    ) -> Transition:
        """PENDING → REJECTED; the record itself expires at ``keep_until``."""
        self._require(AssetStatus.PENDING, "be rejected")
        return Transition(
            self.asset_id,
            AssetStatus.PENDING,
            {
                "status": AssetStatus.REJECTED,
                "reject_reason": reason,
                "reject_detail": detail,
                "expires_at": keep_until,
                "upload_id": None,
            },
        )

    # --- READY: new bytes (a reused presigned URL), or bytes found undecodable ----------

    def accept_overwrite(self, verified: VerifiedObject, processing: Processing) -> Transition:
        """READY stays READY with the new bytes' facts; what was derived from the old goes."""
        checksum = self._require_ready_bytes("take new bytes")
        changes: dict[str, Any] = dict.fromkeys(_IMAGE_FACTS)
        changes.update(processing=processing, **_verified_changes(verified))
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            changes,
            expect_checksum=checksum,
        )

    def reject_ready(
        self, reason: RejectReason, detail: str, *, keep_until: datetime
    ) -> Transition:
        """READY → REJECTED for these bytes: an overwrite that fails verification (S3 kept no
        copy of the verified bytes), or verified bytes whose pixels turn out undecodable."""
        checksum = self._require_ready_bytes("be rejected")
        changes: dict[str, Any] = dict.fromkeys((*_IMAGE_FACTS, *_VERIFIED_FACTS, "processing"))
        changes.update(
            status=AssetStatus.REJECTED,
            reject_reason=reason,
            reject_detail=detail,
            expires_at=keep_until,
        )
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            changes,
            expect_checksum=checksum,
        )

    # --- READY: processing of the verified bytes -------------------------------------

    def record_rendition(
        self,
        *,
        width: int,
        height: int,
        dominant_color: str,
        placeholder: str,
        variants: Mapping[str, Variant],
        retrying_failed: bool = False,
    ) -> Transition:
        """Processing PENDING → DONE for these bytes (also FAILED → DONE on a last retry)."""
        checksum = self._require_ready_bytes("record variants")
        allowed = (
            (Processing.PENDING, Processing.FAILED) if retrying_failed else (Processing.PENDING,)
        )
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            {
                "processing": Processing.DONE,
                "width": width,
                "height": height,
                "aspect_ratio": round(width / height, 4),
                "dominant_color": dominant_color,
                "placeholder": placeholder,
                "variants": dict(variants),
            },
            expect_checksum=checksum,
            expect_processing=allowed,
        )

    def mark_processing_failed(self) -> Transition:
        """Processing PENDING → FAILED: the asset stays READY (its bytes passed verification)."""
        checksum = self._require_ready_bytes("fail processing")
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            {"processing": Processing.FAILED},
            expect_checksum=checksum,
            expect_processing=(Processing.PENDING,),
        )

    # --- The library: delete, restore, edit, move --------------------------------------

    def soft_delete(self, *, now: datetime, purge_at: datetime) -> Transition:
        """READY → DELETED: in the trash until ``purge_at``, when TTL purges it."""
        self._require(AssetStatus.READY, "be deleted")
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            {"status": AssetStatus.DELETED, "deleted_at": now, "expires_at": purge_at},
        )

    def restore(self, *, now: datetime) -> Transition:
        """DELETED → READY, while it is in the trash (not purged, its time not up)."""
        self._require(AssetStatus.DELETED, "be restored")
        if not self.restorable(now):
            raise IllegalTransition(f"asset {self.asset_id} was purged and cannot be restored")
        return Transition(
            self.asset_id,
            AssetStatus.DELETED,
            {"status": AssetStatus.READY, "deleted_at": None, "expires_at": None},
        )

    def restorable(self, now: datetime) -> bool:
        """Whether a DELETED asset is still in the trash (TTL may purge it any time after
        ``expires_at``: from then on it counts as purged)."""
        return (
            self.status is AssetStatus.DELETED
            and self.purged_at is None
            and (self.expires_at is None or self.expires_at > now)
        )

    def edit(self, changes: Mapping[str, Any], *, version: int | None = None) -> Transition:
        """Library fields (``folder``, ``alt_text``, ``caption``, ``tags``) set or cleared
        (None), in any state but purged; with ``version``, only if it is still the one."""
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
        if self.purged_at is not None:
            raise IllegalTransition(f"asset {self.asset_id} was purged")
        values = {
            name: (value or None) if name != "tags" else list(value or [])
            for name, value in changes.items()
        }
        return Transition(self.asset_id, self.status, values, expect_version=version)

    # --- Attachments: how many host-app things use it ---------------------------------

    def attach(self, now: datetime) -> Transition:
        """One more attachment (READY only): ``usage_count`` + 1, ``last_used_at`` now, on
        the version read (a count written from a stale read would lose another's change)."""
        self._require(AssetStatus.READY, "be attached")
        if self.usage_count >= MAX_ATTACHMENTS_PER_ASSET:
            raise AttachmentLimitReached(
                f"asset {self.asset_id} is attached to {self.usage_count} things already, "
                f"the most one asset may be ({MAX_ATTACHMENTS_PER_ASSET})"
            )
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            {"usage_count": self.usage_count + 1, "last_used_at": now},
            expect_version=self.version,
        )

    def detach(self) -> Transition:
        """One attachment fewer, in whatever state the asset is (a quarantined or rejected
        asset is detached too), on the version read; never below 0."""
        if self.purged_at is not None:
            raise IllegalTransition(f"asset {self.asset_id} was purged")
        return Transition(
            self.asset_id,
            self.status,
            {"usage_count": max(0, self.usage_count - 1)},
            expect_version=self.version,
        )

    def counted_as(self) -> UsageDelta | None:
        """What this asset adds to its owner's usage and its folder's counts as it is now:
        READY and QUARANTINED assets count (their bytes are stored and the owner's)."""
        if self.status not in COUNTED_STATUSES or self.size is None:
            return None
        return UsageDelta(
            user_id=self.user_id,
            bytes=self.size,
            files=1,
            category=category_of(self.mime_type),
            scope=self.scope,
            path=self.folder or "",
        )

    def _require(self, status: AssetStatus, action: str) -> None:
        if self.status is not status:
            raise IllegalTransition(
                f"asset {self.asset_id} is {self.status.value} and cannot {action}"
            )

    def _require_ready_bytes(self, action: str) -> str:
        self._require(AssetStatus.READY, action)
        if self.checksum is None:
            raise IllegalTransition(f"asset {self.asset_id} is READY without a checksum")
        return self.checksum


def _verified_changes(verified: VerifiedObject) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "mime_type": verified.mime_type,
        "size": verified.size,
        "checksum": verified.checksum,
    }
    if verified.width and verified.height:
        changes.update(
            width=verified.width,
            height=verified.height,
            aspect_ratio=round(verified.width / verified.height, 4),
        )
    return changes


def count_changes(before: Asset, after: Asset) -> list[UsageDelta]:
    """What a change from ``before`` to ``after`` does to usage and folder counts: what the
    asset counted for goes, what it counts for now comes (nothing when they are the same)."""
    old, new = before.counted_as(), after.counted_as()
    if old == new:
        return []
    return [delta for delta in (old.negated() if old else None, new) if delta is not None]
