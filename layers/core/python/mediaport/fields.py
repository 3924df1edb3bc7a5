"""The library fields an uploader may set (folder, alt text, caption, tags): their rules,
written once for every way an asset is created or edited. Pure; no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_ALT_TEXT = 500
MAX_CAPTION = 5000
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_FOLDER_DEPTH = 8
MAX_FOLDER_SEGMENT = 64
MAX_FOLDER_PATH = 255
# A folder segment: letters, digits, space, "_", "-", "." (but never "." or ".." alone).
_SEGMENT = re.compile(r"[A-Za-z0-9 _.-]{1,64}")
# A SHA-256 digest in base64, as S3's x-amz-checksum-sha256 takes it.
CHECKSUM_SHA256_PATTERN = r"^[A-Za-z0-9+/]{43}=$"


def normalize_folder(value: str) -> str:
    """``trips/2026/alps``: safe segments, at most eight deep and 255 characters in all;
    surrounding slashes dropped.

    Raises ``ValueError`` saying what is wrong.
    """
    path = value.strip().strip("/")
    segments = path.split("/")
    if not path:
        raise ValueError("must name a folder, e.g. trips/2026")
    if len(segments) > MAX_FOLDER_DEPTH:
        raise ValueError(f"may be at most {MAX_FOLDER_DEPTH} folders deep")
    if len(path) > MAX_FOLDER_PATH:
        raise ValueError(f"may be at most {MAX_FOLDER_PATH} characters")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment) or segment.strip(" .") == "":
            raise ValueError(
                f"each folder name is 1-{MAX_FOLDER_SEGMENT} letters, digits, spaces or "
                "_-. (and not only dots or spaces)"
            )
        if segment != segment.strip():
            raise ValueError("a folder name may not start or end with a space")
    return path


def folder_ancestors(path: str) -> list[str]:
    """``trips``, ``trips/2026`` for ``trips/2026/alps``: every folder above it, outermost
    first."""
    segments = path.split("/")
    return ["/".join(segments[:depth]) for depth in range(1, len(segments))]


def in_folder_tree(folder: str | None, root: str) -> bool:
    """Whether ``folder`` is ``root`` or one of its subfolders."""
    return folder is not None and (folder == root or folder.startswith(f"{root}/"))


def normalize_tags(values: Iterable[str]) -> list[str]:
    """Trimmed, lower-cased and de-duplicated, in first-seen order; ``ValueError`` when
    there are more than 20 or one is empty or longer than 50 characters."""
    tags: list[str] = []
    for value in values:
        tag = value.strip().lower()
        if not tag:
            raise ValueError("a tag may not be empty")
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"a tag is at most {MAX_TAG_LENGTH} characters")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return tags
