"""S3 multipart uploads: start one for a new PENDING asset, sign its parts, list what
arrived, complete (and verify, as confirm does) or abort.

The part plan makes the declared size the only size the parts can add up to: every part
URL signs its part's exact Content-Length. Completing runs ``settle_upload``, the same
verification and conditional transition as confirm and the S3 event; the
``CompleteMultipartUpload`` event settles it too, and whichever comes first decides.

An upload whose S3 side is gone while its asset is still PENDING (a lifecycle rule
aborted it, or a concurrent abort did) ends REJECTED with reason ``ABORTED``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mediaport.adapters import storage
from mediaport.errors import InvalidRequest, UploadNotInProgress
from mediaport.keys import pending_tagging
from mediaport.library import owned_asset
from mediaport.model import Asset, AssetStatus, RejectReason, utcnow
from mediaport.names import ABORT_INCOMPLETE_MULTIPART_DAYS
from mediaport.services import Services
from mediaport.settlement import Settlement, remove_files, settle_upload
from mediaport.uploads import UploadIntent, plan_pending

MIB = 1024 * 1024
# S3's rules: every part but the last is at least 5 MiB and at most 5 GiB, and an upload
# has at most 10,000 parts.
MIN_PART_SIZE = 5 * MIB
MAX_PART_SIZE = 5 * 1024 * MIB
MAX_PARTS = 10_000
# Part URLs handed out per call.
MAX_PARTS_PER_SIGNING = 100


@dataclass(frozen=True)
class PartPlan:
    """How a declared size is cut: ``part_count`` parts of ``part_size``, the last smaller."""

    size: int
    part_size: int
    part_count: int

    @classmethod
    def for_size(cls, size: int, preferred_part_size: int) -> PartPlan:
        """The preferred part size, or the smallest whole MiB that keeps within 10,000."""
        needed = -(-size // MAX_PARTS)  # ceiling division
        part_size = max(preferred_part_size, MIN_PART_SIZE, -(-needed // MIB) * MIB)
        return cls(size=size, part_size=part_size, part_count=max(1, -(-size // part_size)))

    def size_of(self, part_number: int) -> int:
        """The exact byte count of one part (1-based)."""
        if part_number < self.part_count:
            return self.part_size
        return self.size - self.part_size * (self.part_count - 1)


@dataclass(frozen=True)
class MultipartStart:
    asset: Asset
    # None when no size was declared (Uppy): parts are then signed without a length.
    plan: PartPlan | None
    # Complete it before this: the asset's PENDING record and the lifecycle rule that
    # aborts stale multipart uploads both end it then.
    expires_at: datetime


@dataclass(frozen=True)
class SignedParts:
    urls: dict[int, str]
    expires_at: datetime


def start_multipart(services: Services, user_id: str, intent: UploadIntent) -> MultipartStart:
    """Check the intent against its scope, start the S3 upload and record the PENDING asset."""
    settings = services.settings
    asset, _policy = plan_pending(services, user_id, intent)
    plan = (
        PartPlan.for_size(intent.size, settings.multipart_part_bytes)
        if intent.size is not None
        else None
    )
    upload_id = storage.create_multipart(
        asset.bucket, asset.key, intent.media_type, pending_tagging()
    )
    asset = asset.model_copy(
        update={
            "upload_id": upload_id,
            "part_size": plan.part_size if plan else None,
            "part_count": plan.part_count if plan else None,
        }
    )
    try:
        services.assets.add_pending(asset)
    except BaseException:
        # No record will ever name this upload: free it now rather than in a day.
        storage.abort_multipart(asset.bucket, asset.key, upload_id)
        raise
    lifecycle_end = asset.created_at + timedelta(days=ABORT_INCOMPLETE_MULTIPART_DAYS)
    expires_at = min(asset.expires_at or lifecycle_end, lifecycle_end)
    return MultipartStart(asset=asset, plan=plan, expires_at=expires_at)


def sign_parts(
    services: Services,
    user_id: str,
    asset_id: str,
    part_numbers: Sequence[int],
    checksums: Mapping[int, str] | None = None,
) -> SignedParts:
    """A presigned PUT per part number: its planned length signed, and its SHA-256 when
    the client gives one."""
    asset = _in_progress(services, user_id, asset_id)
    assert asset.upload_id is not None
    checksums = checksums or {}
    last = asset.part_count or MAX_PARTS
    errors = []
    outside = sorted({number for number in part_numbers if not 1 <= number <= last})
    if outside:
        errors.append(
            _field("partNumbers", f"{_listed(outside)} outside this upload's parts 1-{last}")
        )
    unasked = sorted(set(checksums) - set(part_numbers))
    if unasked:
        errors.append(_field("checksums", f"{_listed(unasked)} not among partNumbers"))
    if errors:
        raise InvalidRequest("the parts asked for are not this upload's", errors=errors)

    plan = _plan_of(asset)
    expires_in = services.settings.presign_expires_seconds
    urls = {
        number: storage.presign_part(
            asset.bucket,
            asset.key,
            asset.upload_id,
            number,
            expires_in,
            size=plan.size_of(number) if plan else None,
            checksum_sha256=checksums.get(number),
        )
        for number in dict.fromkeys(part_numbers)
    }
    return SignedParts(urls=urls, expires_at=utcnow() + timedelta(seconds=expires_in))


def uploaded_parts(services: Services, user_id: str, asset_id: str) -> list[storage.UploadedPart]:
    """The parts S3 holds so far, so that a client can resume with the missing ones."""
    asset = _in_progress(services, user_id, asset_id)
    assert asset.upload_id is not None
    try:
        return storage.list_parts(asset.bucket, asset.key, asset.upload_id)
    except storage.UploadGone:
        raise _ended(services, asset) from None


def complete_multipart(
    services: Services, user_id: str, asset_id: str, parts: Sequence[tuple[int, str]]
) -> Settlement:
    """Complete the S3 upload with ``(partNumber, etag)`` pairs, then verify it now.

    Asked again once settled, it answers the settlement (as confirm does): a retry after a
    lost response, or after the S3 event won, learns the outcome.
    """
    asset = owned_asset(services, user_id, asset_id)
    if asset.status is not AssetStatus.PENDING:
        if asset.reject_reason is RejectReason.ABORTED:
            raise UploadNotInProgress(f"the upload of asset {asset_id} was aborted")
        return Settlement(asset, transitioned=False)
    if asset.upload_id is None:
        raise UploadNotInProgress(f"asset {asset_id} is not a multipart upload")
    listed = _checked_parts(asset, parts)
    try:
        storage.complete_multipart(asset.bucket, asset.key, asset.upload_id, listed)
    except storage.PartsRefused as refused:
        # The upload goes on: the client can list its parts and complete again.
        raise InvalidRequest(
            "storage refused to assemble these parts",
            errors=[_field("parts", _REFUSALS.get(refused.code, refused.code))],
        ) from None
    except storage.UploadGone:
        current = services.assets.get(asset_id) or asset
        if current.status is not AssetStatus.PENDING:
            return Settlement(current, transitioned=False)
        if storage.head_object(asset.bucket, asset.key) is None:
            raise _ended(services, asset) from None
        # A concurrent complete assembled it first: verify what it made.
    return settle_upload(services, asset)


def abort_multipart(services: Services, user_id: str, asset_id: str) -> Asset:
    """Abort the S3 upload; the asset ends REJECTED (``ABORTED``), and nothing is counted."""
    asset = _in_progress(services, user_id, asset_id)
    assert asset.upload_id is not None
    # S3 first: a failure here leaves the asset PENDING and the abort can be repeated.
    storage.abort_multipart(asset.bucket, asset.key, asset.upload_id)
    aborted = _mark_aborted(services, asset, "the upload was aborted")
    if aborted is None:
        current = services.assets.get(asset_id) or asset
        raise UploadNotInProgress(
            f"asset {asset_id} is {current.status.value}: its upload already ended"
        )
    return aborted


def _in_progress(services: Services, user_id: str, asset_id: str) -> Asset:
    """The caller's PENDING asset with a multipart upload going on; 404/403/409 otherwise."""
    asset = owned_asset(services, user_id, asset_id)
    if asset.status is not AssetStatus.PENDING:
        raise UploadNotInProgress(
            f"asset {asset_id} is {asset.status.value}: its upload already ended"
        )
    if asset.upload_id is None:
        raise UploadNotInProgress(f"asset {asset_id} is not a multipart upload")
    return asset


def _ended(services: Services, asset: Asset) -> UploadNotInProgress:
    """S3 no longer has the upload (a lifecycle rule or another caller aborted it): the
    asset ends too. The problem to answer."""
    _mark_aborted(services, asset, "the upload was aborted before it was completed")
    return UploadNotInProgress(f"the upload of asset {asset.asset_id} was aborted")


def _mark_aborted(services: Services, asset: Asset, detail: str) -> Asset | None:
    keep_until = utcnow() + timedelta(seconds=services.settings.rejected_ttl_seconds)
    aborted = services.assets.apply(
        asset.mark_rejected(RejectReason.ABORTED, detail, keep_until=keep_until)
    )
    if aborted is not None:
        # A complete that raced the abort may have assembled the object already.
        remove_files(asset)
    return aborted


def _checked_parts(asset: Asset, parts: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """The parts in order, each once; with a plan, exactly parts 1..partCount."""
    numbers = [number for number, _etag in parts]
    repeated = sorted({number for number in numbers if numbers.count(number) > 1})
    if repeated:
        raise InvalidRequest(
            "a part is listed twice", errors=[_field("parts", f"{_listed(repeated)} repeated")]
        )
    if asset.part_count is not None:
        expected = set(range(1, asset.part_count + 1))
        missing, extra = sorted(expected - set(numbers)), sorted(set(numbers) - expected)
        errors = []
        if missing:
            errors.append(_field("parts", f"{_listed(missing)} missing"))
        if extra:
            errors.append(_field("parts", f"{_listed(extra)} not in this upload's plan"))
        if errors:
            raise InvalidRequest(
                f"this upload has parts 1-{asset.part_count}; list each once", errors=errors
            )
    return sorted(parts)


def _plan_of(asset: Asset) -> PartPlan | None:
    if asset.declared_size is None or asset.part_size is None or asset.part_count is None:
        return None
    return PartPlan(asset.declared_size, asset.part_size, asset.part_count)


_REFUSALS = {
    "InvalidPart": "an ETag is not the one of the part uploaded under that number, or the "
    "part was never uploaded",
    "InvalidPartOrder": "the parts are not in ascending order",
    "EntityTooSmall": "a part other than the last is smaller than 5 MiB",
    "MalformedXML": "the part list is not one storage can read",
}


def _listed(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(number) for number in numbers[:10])
    more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
    return f"part{'s' if len(numbers) > 1 else ''} {shown}{more}"


def _field(field: str, detail: str) -> dict[str, str]:
    return {"field": field, "detail": detail}
