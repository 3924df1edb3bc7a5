"""Upload scopes: which media types each scope accepts, how large they may be, and who
may see what is uploaded in them.

Scopes are data, not code: the defaults below can be replaced or extended through
configuration (``MEDIAPORT_SCOPES``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MIB = 1024 * 1024

JPEG, PNG, WEBP, GIF = "image/jpeg", "image/png", "image/webp", "image/gif"
MP4, MPEG_AUDIO, PDF = "video/mp4", "audio/mpeg", "application/pdf"
IMAGE_TYPES = frozenset({JPEG, PNG, WEBP, GIF})

# Names clients commonly send for the types above.
_TYPE_ALIASES = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "audio/mp3": MPEG_AUDIO,
    "audio/mpeg3": MPEG_AUDIO,
    "audio/x-mpeg-3": MPEG_AUDIO,
}

# The extensions a stored file may keep for each type; the first is the canonical one.
EXTENSIONS: Mapping[str, tuple[str, ...]] = {
    JPEG: ("jpg", "jpeg", "jfif"),
    PNG: ("png",),
    WEBP: ("webp",),
    GIF: ("gif",),
    MP4: ("mp4", "m4v"),
    MPEG_AUDIO: ("mp3",),
    PDF: ("pdf",),
}


# public: served by the CDN at stable URLs (cdnUrl) to anyone who has them; private: only
# through short-lived presigned URLs handed to those the API lets read it (docs/serving.md).
Visibility = Literal["public", "private"]


class ScopePolicy(BaseModel):
    """What one scope accepts, and who may see it."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    types: frozenset[str] = Field(min_length=1)
    max_bytes: int = Field(gt=0)
    # A configured scope that says nothing is private: making media public is a decision.
    visibility: Visibility = "private"

    @property
    def public(self) -> bool:
        return self.visibility == "public"


DEFAULT_SCOPE = "GENERIC"

DEFAULT_SCOPES: Mapping[str, ScopePolicy] = {
    # What the host app shows every one of its users: public.
    "PROFILE_AVATAR": ScopePolicy(
        types=frozenset({JPEG, PNG, WEBP}), max_bytes=2 * MIB, visibility="public"
    ),
    "POST_ATTACHMENT": ScopePolicy(
        types=frozenset({JPEG, PNG, WEBP, MP4, MPEG_AUDIO}), max_bytes=50 * MIB, visibility="public"
    ),
    # A user's own files (documents, the library): private.
    "GENERIC": ScopePolicy(
        types=IMAGE_TYPES | {MP4, MPEG_AUDIO, PDF}, max_bytes=100 * MIB, visibility="private"
    ),
}


def scope_table(overrides: Mapping[str, ScopePolicy]) -> dict[str, ScopePolicy]:
    """The defaults with configured scopes replacing or adding to them."""
    return {**DEFAULT_SCOPES, **overrides}


def normalize_media_type(value: str) -> str:
    """``Image/JPG; charset=x`` → ``image/jpeg``: lower case, no parameters, aliases resolved."""
    base = value.split(";", 1)[0].strip().lower()
    return _TYPE_ALIASES.get(base, base)


def describe_size(size: int) -> str:
    """A human size: ``2 MiB``, ``512 KiB``, ``17 bytes``."""
    for unit, factor in (("MiB", MIB), ("KiB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"
