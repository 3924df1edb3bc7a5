"""Object keys, built by the server only."""

from __future__ import annotations

import re
import unicodedata

from mediaport.names import (
    DERIVED_PREFIX,
    PENDING_TAG_KEY,
    PENDING_TAG_VALUE,
    RELEASED_PREFIX,
    UPLOAD_PREFIX,
)
from mediaport.policy import EXTENSIONS

MAX_FILENAME_LENGTH = 100
# Asset ids are UUIDs the server makes (lower-case, as uuid4() prints them).
ASSET_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_ASSET_ID = re.compile(ASSET_ID_PATTERN)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_REPEATED_SEPARATORS = re.compile(r"[-_.]{2,}")


def sanitize_filename(name: str, media_type: str) -> str:
    """A safe file name for a key: no path, ASCII letters, digits, ``._-`` only, capped length.

    The extension is kept when it fits the media type; otherwise the type's canonical
    extension is used, so ``invoice.html`` declared as ``image/png`` is stored as
    ``invoice.png`` and can never be served as something it is not.
    """
    base = re.split(r"[/\\]", name)[-1]
    ascii_only = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", ascii_only)
    stem, dot, extension = cleaned.rpartition(".")
    if not dot:
        stem, extension = cleaned, ""
    extension = extension.lower()
    allowed = EXTENSIONS.get(media_type, ())
    if allowed and extension not in allowed:
        extension = allowed[0]
    elif not allowed:
        extension = re.sub(r"[^a-z0-9]", "", extension)[:10]
    stem = _REPEATED_SEPARATORS.sub("-", stem).strip("-_.") or "file"
    suffix = f".{extension}" if extension else ""
    return stem[: MAX_FILENAME_LENGTH - len(suffix)].rstrip("-_.") + suffix


def is_asset_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id the server makes."""
    return _ASSET_ID.fullmatch(value) is not None


def build_object_key(user_id: str, asset_id: str, filename: str) -> str:
    """``media/{userId}/{assetId}/{filename}``: where an upload lands."""
    return f"{UPLOAD_PREFIX}{_safe_segment(user_id)}/{asset_id}/{filename}"


def build_variant_key(user_id: str, asset_id: str, checksum: str, name: str) -> str:
    """``derived/{userId}/{assetId}/{checksum}/{name}.webp``: a prefix that does not notify.

    The key names the bytes the variant was made from (their ETag), so a variant of one
    version of the bytes can never be taken for another's, and a key's content never
    changes (it may be cached for good).
    """
    return f"{variant_folder(user_id, asset_id, checksum)}{name}.webp"


def build_requested_variant_key(
    user_id: str, asset_id: str, checksum: str, stem: str, extension: str
) -> str:
    """``derived/{userId}/{assetId}/{checksum}/{stem}.{ext}``: a variant made on request,
    its stem naming the parameters (so its content never changes either)."""
    return f"{variant_folder(user_id, asset_id, checksum)}{stem}.{extension}"


def build_released_key(user_id: str, asset_id: str, filename: str) -> str:
    """``released/{userId}/{assetId}/{filename}``: where an admin's release copies a
    quarantined original (outside the scanned and guarded ``media/``)."""
    return f"{RELEASED_PREFIX}{_safe_segment(user_id)}/{asset_id}/{filename}"


def variant_prefix(user_id: str, asset_id: str) -> str:
    """``derived/{userId}/{assetId}/``: every variant ever made for one asset."""
    return f"{DERIVED_PREFIX}{_safe_segment(user_id)}/{asset_id}/"


def variant_folder(user_id: str, asset_id: str, checksum: str) -> str:
    """``derived/{userId}/{assetId}/{checksum}/``: the variants of one version of the bytes."""
    return f"{variant_prefix(user_id, asset_id)}{_safe_segment(checksum)}/"


def parse_object_key(key: str) -> tuple[str, str] | None:
    """``(userId segment, assetId)`` of an upload key, or None when it is not one of ours."""
    parts = key.split("/")
    if len(parts) != 4 or f"{parts[0]}/" != UPLOAD_PREFIX or not all(parts[1:]):
        return None
    return parts[1], parts[2]


def pending_tagging() -> str:
    """The object tag every presigned upload carries until its asset is READY."""
    return f"{PENDING_TAG_KEY}={PENDING_TAG_VALUE}"


def _safe_segment(user_id: str) -> str:
    # Identity provider subjects are usually UUIDs; anything else is made key-safe.
    return _UNSAFE.sub("-", user_id)[:128] or "anonymous"
