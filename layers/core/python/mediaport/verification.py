"""Verification: what is really in storage, checked from the bytes. Shared by confirm and
the S3 event path, so both reach the same verdict."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

from mediaport.adapters import storage
from mediaport.errors import ObjectNotUploaded
from mediaport.imaging import DECODERS, UnreadableImage, inspect_image
from mediaport.model import Asset, RejectReason, VerifiedObject
from mediaport.policy import ScopePolicy, describe_size
from mediaport.sniff import SNIFF_LENGTH, sniff_media_type

# Images up to this size are read in one GET (see verify_upload); larger ones by ranges,
# so that memory stays bounded and a bomb is refused after its first kilobytes.
WHOLE_READ_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Rejection:
    reason: RejectReason
    detail: str


def verify_stored_object(
    asset: Asset, scopes: Mapping[str, ScopePolicy], max_pixels: int
) -> VerifiedObject | Rejection:
    """Verify an asset's object against its scope as configured now."""
    policy = scopes.get(asset.scope)
    if policy is None:
        return Rejection(RejectReason.TYPE_NOT_ALLOWED, f"scope {asset.scope} no longer exists")
    return verify_upload(asset, policy, max_pixels)


def verify_upload(asset: Asset, policy: ScopePolicy, max_pixels: int) -> VerifiedObject | Rejection:
    """Check the stored object against its asset and scope; ``ObjectNotUploaded`` if absent."""
    head = storage.head_object(asset.bucket, asset.key)
    if head is None:
        raise ObjectNotUploaded(
            f"nothing is stored for asset {asset.asset_id} yet: upload it, then confirm"
        )
    if head.size == 0:
        return Rejection(RejectReason.EMPTY_FILE, "the uploaded file is empty")
    if head.size > policy.max_bytes:
        return Rejection(
            RejectReason.TOO_LARGE,
            f"the file is {describe_size(head.size)}; scope {asset.scope} allows at most "
            f"{describe_size(policy.max_bytes)}",
        )
    if asset.declared_size is not None and head.size != asset.declared_size:
        # Presign signs the declared size, but moto (and a misbehaving proxy) may not
        # enforce a signature: this check is the real guard.
        return Rejection(
            RejectReason.SIZE_MISMATCH,
            f"the file is {head.size:,} bytes but {asset.declared_size:,} were declared",
        )
    if (
        asset.checksum_sha256
        and asset.upload_id is None
        and head.checksum_sha256
        and head.checksum_sha256 != asset.checksum_sha256
    ):
        # S3 refuses a signed PUT whose body does not match; an emulator may not. (A
        # multipart object's checksum is one of its parts' checksums: not comparable.)
        return Rejection(
            RejectReason.CHECKSUM_MISMATCH,
            "the file's SHA-256 is not the checksumSha256 that was declared",
        )
    # A declared image is read to its last byte by the integrity check anyway: when it is
    # small, one GET serves the sniff and the check (a 1 MB JPEG took five: the first
    # bytes, then 256 KB ranges). Larger files and other types are read by ranges.
    whole = (
        storage.read_object(asset.bucket, asset.key, head.etag)
        if asset.declared_type in DECODERS and head.size <= WHOLE_READ_BYTES
        else None
    )
    first_bytes = (
        whole[:SNIFF_LENGTH]
        if whole is not None
        else storage.read_range(asset.bucket, asset.key, 0, SNIFF_LENGTH - 1, head.etag)
    )
    detected = sniff_media_type(first_bytes)
    if detected is None:
        return Rejection(
            RejectReason.UNRECOGNIZED_TYPE,
            "the file's contents are not a format Mediaport recognizes",
        )
    if detected != asset.declared_type:
        return Rejection(
            RejectReason.TYPE_MISMATCH,
            f"the file was declared as {asset.declared_type} but its contents are {detected}",
        )
    if detected not in policy.types:
        return Rejection(
            RejectReason.TYPE_NOT_ALLOWED, f"{detected} is not allowed in scope {asset.scope}"
        )
    verified = VerifiedObject(mime_type=detected, size=head.size, checksum=head.etag)
    if detected in DECODERS:
        try:
            with (
                io.BytesIO(whole)
                if whole is not None
                else storage.open_object(asset.bucket, asset.key, head)
            ) as file:
                facts = inspect_image(file, detected, max_pixels)
        except UnreadableImage as problem:
            reason = (
                RejectReason.IMAGE_TOO_MANY_PIXELS
                if problem.too_many_pixels
                else RejectReason.IMAGE_CORRUPT
            )
            return Rejection(reason, problem.detail)
        verified = verified.model_copy(update={"width": facts.width, "height": facts.height})
    return verified
