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
from mediaport.policy import IMAGE_TYPES


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


class ScanStatus(StrEnum):
    """What malware scanning says of an asset's bytes (None: scanning is off)."""

    PENDING = "PENDING"  # not scanned yet: not served
    CLEAN = "CLEAN"  # no threat found, or released by an admin after review
    INFECTED = "INFECTED"  # a threat found: QUARANTINED
    ERROR = "ERROR"  # the scan could not be done: QUARANTINED or served, by policy


class VariantStatus(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


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
    # Built on first use, not at import: a function validates and answers with a few of
    # these per route, and the cold start should not pay for the rest.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)


class Variant(CamelModel):
    """A derived image: an automatic thumbnail (``params`` None), or one asked for."""

    key: str
    width: int
    height: int
    # Unknown (0) until a requested variant is READY.
    bytes: int = 0
    format: str = "webp"
    status: VariantStatus = VariantStatus.READY
    # The request, as recorded (``VariantSpec.params``); None for an automatic thumbnail.
    params: dict[str, int | str] | None = None
    # Why a requested variant FAILED (``NOT_SMALLER``, ``UNREADABLE``, ``GAVE_UP``).
    reason: str | None = None
    detail: str | None = None
    requested_at: datetime | None = None

    def stored(self) -> dict[str, Any]:
        """As the table keeps it (no empty fields)."""
        return self.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class ScanVerdict:
    """A scan's result for one version of the bytes (GuardDuty's tag or event)."""

    status: ScanStatus
    # GuardDuty's scanResultStatus (NO_THREATS_FOUND, THREATS_FOUND, UNSUPPORTED, ...).
    result: str
    at: datetime
    # Whether the asset must not be served: a threat, or an error under the block policy.
    quarantine: bool


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
_IMAGE_FACTS = (
    "width",
    "height",
    "aspect_ratio",
    "dominant_color",
    "placeholder",
    "variants",
    "requested_variants",
    "original_size",
    "optimized_size",
    "compression_ratio",
)
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
    # Variants made on request (resize, crop, optimize), by name; kept apart from the
    # automatic thumbnails so that neither kind's write can lose the other's.
    requested_variants: dict[str, Variant] = Field(default_factory=dict)
    # What the optimized variant saved (set when it is READY).
    original_size: int | None = None
    optimized_size: int | None = None
    compression_ratio: float | None = None
    # Malware scanning (None while scanning is off); a release by an admin after review.
    scan_status: ScanStatus | None = None
    scan_result: str | None = None
    scanned_at: datetime | None = None
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str | None = None
    processing: Processing | None = None
    reject_reason: RejectReason | None = None
    reject_detail: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    version: int | None = None

    # --- PENDING: the upload settles once --------------------------------------------

    def mark_ready(
        self,
        verified: VerifiedObject,
        processing: Processing,
        scan: ScanVerdict | None = None,
        *,
        scanning: bool = False,
    ) -> Transition:
        """PENDING → READY with what verification learned; the TTL goes.

        With scanning on, the bytes' scan result if it is already known (``scan``),
        else ``scanStatus=PENDING``: a threat (or an error under the block policy) makes
        it QUARANTINED instead, its variants never made until an admin releases it.
        """
        self._require(AssetStatus.PENDING, "become READY")
        changes: dict[str, Any] = {
            "status": AssetStatus.READY,
            "processing": processing,
            "expires_at": None,
            "upload_id": None,
            **_verified_changes(verified),
            **_scan_changes(scan, scanning=scanning),
        }
        if scan is not None and scan.quarantine:
            changes.update(status=AssetStatus.QUARANTINED, processing=Processing.SKIPPED)
        return Transition(self.asset_id, AssetStatus.PENDING, changes)

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

    def accept_overwrite(
        self,
        verified: VerifiedObject,
        processing: Processing,
        scan: ScanVerdict | None = None,
        *,
        scanning: bool = False,
    ) -> Transition:
        """READY stays READY with the new bytes' facts; what was derived from the old goes
        (and, with scanning on, the new bytes wait for their own scan)."""
        checksum = self._require_ready_bytes("take new bytes")
        changes: dict[str, Any] = dict.fromkeys(_IMAGE_FACTS)
        changes.update(
            processing=processing,
            **_verified_changes(verified),
            **_scan_changes(scan, scanning=scanning),
        )
        if scan is not None and scan.quarantine:
            changes.update(status=AssetStatus.QUARANTINED, processing=Processing.SKIPPED)
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
        """READY (or QUARANTINED) → DELETED: in the trash until ``purge_at``, when TTL
        purges it."""
        if self.status not in (AssetStatus.READY, AssetStatus.QUARANTINED):
            self._require(AssetStatus.READY, "be deleted")
        return Transition(
            self.asset_id,
            self.status,
            {"status": AssetStatus.DELETED, "deleted_at": now, "expires_at": purge_at},
        )

    def restore(self, *, now: datetime, block_scan_errors: bool = True) -> Transition:
        """DELETED → READY, while it is in the trash (not purged, its time not up); back to
        QUARANTINED when its scan found a threat (or failed, under the block policy)."""
        self._require(AssetStatus.DELETED, "be restored")
        if not self.restorable(now):
            raise IllegalTransition(f"asset {self.asset_id} was purged and cannot be restored")
        blocked = self.scan_status is ScanStatus.INFECTED or (
            self.scan_status is ScanStatus.ERROR and block_scan_errors
        )
        return Transition(
            self.asset_id,
            AssetStatus.DELETED,
            {
                "status": AssetStatus.QUARANTINED if blocked else AssetStatus.READY,
                "deleted_at": None,
                "expires_at": None,
            },
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
        if not self.served:
            raise IllegalTransition(
                f"asset {self.asset_id} is not served until its malware scan is done"
            )
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

    # --- Malware scanning ---------------------------------------------------------------

    @property
    def served(self) -> bool:
        """Whether its URLs may be handed out (and it attached): READY, and not waiting for
        its scan (a threat, or an error under the block policy, made it QUARANTINED)."""
        return self.status is AssetStatus.READY and self.scan_status is not ScanStatus.PENDING

    def record_scan(self, verdict: ScanVerdict) -> Transition | None:
        """A scan result for the asset's current bytes; None when it changes nothing (a
        duplicate, a late event after an admin's release, or after a threat was found).

        READY: CLEAN stays served, a threat (or a blocked error) → QUARANTINED with its
        variants gone; QUARANTINED for an error → READY once a scan finds it clean;
        DELETED: the result is kept, and restore follows it. A PENDING asset is settled
        first (its settle reads the result from the object's scan tag).
        """
        if self.purged_at is not None or self.status in (AssetStatus.PENDING, AssetStatus.REJECTED):
            raise IllegalTransition(
                f"asset {self.asset_id} is {self.status.value}: no scan to record"
            )
        if self.released_at is not None or self.scan_status is ScanStatus.INFECTED:
            return None  # reviewed by an admin, or already quarantined for a threat
        if (self.scan_status, self.scan_result) == (verdict.status, verdict.result):
            return None
        checksum = self.checksum
        changes: dict[str, Any] = _scan_changes(verdict, scanning=True)
        if self.status is AssetStatus.READY and verdict.quarantine:
            changes.update(
                status=AssetStatus.QUARANTINED,
                variants={},
                requested_variants={},
                processing=Processing.SKIPPED,
            )
        elif self.status is AssetStatus.QUARANTINED and not verdict.quarantine:
            # Blocked for an error; a scan has now found it clean (or the policy serves).
            changes.update(status=AssetStatus.READY, processing=_processing_of(self.mime_type))
        elif self.status is AssetStatus.DELETED and verdict.status is ScanStatus.INFECTED:
            changes.update(variants={}, requested_variants={})
        return Transition(
            self.asset_id,
            self.status,
            changes,
            expect_checksum=checksum,
            expect_version=self.version,
        )

    def release(
        self, *, by: str, reason: str, now: datetime, key: str, checksum: str
    ) -> Transition:
        """QUARANTINED → READY after an admin's review: CLEAN by hand, served from ``key``
        (the released copy, whose ETag is ``checksum``), its variants made again."""
        self._require(AssetStatus.QUARANTINED, "be released")
        return Transition(
            self.asset_id,
            AssetStatus.QUARANTINED,
            {
                "status": AssetStatus.READY,
                "scan_status": ScanStatus.CLEAN,
                "released_by": by,
                "released_at": now,
                "release_reason": reason,
                "key": key,
                "checksum": checksum,
                "variants": {},
                "requested_variants": {},
                "processing": _processing_of(self.mime_type),
            },
            expect_checksum=self.checksum,
        )

    # --- Variants on request --------------------------------------------------------------

    def request_variant(self, name: str, variant: Variant, *, max_requested: int) -> Transition:
        """A requested variant, PENDING (again, when it had FAILED), on the version read
        (another request's write must not be lost); at most ``max_requested`` of them."""
        checksum = self._require_ready_bytes("make variants")
        if not self.served:
            raise IllegalTransition(f"asset {self.asset_id} is not served until its scan is done")
        others = {k: v for k, v in self.requested_variants.items() if k != name}
        if len(others) >= max_requested:
            raise VariantLimitReached(
                f"asset {self.asset_id} has {len(others)} requested variants, the most one "
                f"asset may have ({max_requested}); variants of other parameters are new ones"
            )
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            {"requested_variants": {**self.requested_variants, name: variant}},
            expect_checksum=checksum,
            expect_version=self.version,
        )

    def record_variant(
        self, name: str, *, size: int, original_size: int | None = None
    ) -> Transition:
        """A PENDING requested variant made: READY with its size. For the optimized one,
        the saving goes on the asset (``original_size``: what it was made from)."""
        checksum = self._require_ready_bytes("record a variant")
        variant = self._pending_variant(name)
        changes: dict[str, Any] = {
            "requested_variants": {
                **self.requested_variants,
                name: variant.model_copy(update={"status": VariantStatus.READY, "bytes": size}),
            }
        }
        if original_size is not None:
            changes.update(
                original_size=original_size,
                optimized_size=size,
                compression_ratio=round(original_size / size, 4) if size else None,
            )
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            changes,
            expect_checksum=checksum,
            expect_version=self.version,
        )

    def fail_variant(self, name: str, reason: str, detail: str) -> Transition:
        """A PENDING requested variant that cannot be made: FAILED, saying why."""
        checksum = self._require_ready_bytes("record a variant")
        variant = self._pending_variant(name)
        failed = variant.model_copy(
            update={"status": VariantStatus.FAILED, "reason": reason, "detail": detail}
        )
        return Transition(
            self.asset_id,
            AssetStatus.READY,
            {"requested_variants": {**self.requested_variants, name: failed}},
            expect_checksum=checksum,
            expect_version=self.version,
        )

    def _pending_variant(self, name: str) -> Variant:
        variant = self.requested_variants.get(name)
        if variant is None or variant.status is not VariantStatus.PENDING:
            raise IllegalTransition(f"asset {self.asset_id} has no pending variant {name!r}")
        return variant

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


class VariantLimitReached(Exception):
    """An asset has as many requested variants as it may."""


def _processing_of(media_type: str | None) -> Processing:
    return Processing.PENDING if media_type in IMAGE_TYPES else Processing.SKIPPED


def _scan_changes(scan: ScanVerdict | None, *, scanning: bool) -> dict[str, Any]:
    """The scan fields for bytes whose result is ``scan`` (None: not known yet)."""
    if scan is None:
        return {"scan_status": ScanStatus.PENDING} if scanning else {}
    return {"scan_status": scan.status, "scan_result": scan.result, "scanned_at": scan.at}


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
