"""Usage: what an asset counts for in storage, and the change a transition makes to it;
and the bytes the CDN serves of an owner's public media in a month (bandwidth).

Pure rules, no I/O. A ``UsageDelta`` rides on a ``Transition``: the table adapter writes
both in one DynamoDB transaction, so a count can never change without the state it counts
(and never twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

CATEGORIES = ("image", "video", "audio", "document", "other")
TOTAL = "total"
# Usage rows: one total, and one per type category, scope and top-level folder.
TYPE_PREFIX, SCOPE_PREFIX, FOLDER_PREFIX = "type#", "scope#", "folder#"
# Bandwidth rows: one per month ("bandwidth#2026-11"), the bytes served that month. A new
# month is a new row, so nothing is ever reset; they are not storage rows (reconcile and
# the breakdown never see them).
BANDWIDTH_PREFIX = "bandwidth#"

# Storage warnings, in percent of the tier's bytes: crossing one sets storageWarningAt.
WARNING_LEVELS = (80, 100)


class TierLimits(BaseModel):
    """What one tier allows."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    storage_bytes: int = Field(gt=0)
    max_files: int = Field(gt=0)
    # What the CDN may serve of the owner's public media in a calendar month (UTC). Warned
    # at, never enforced: CloudFront cannot cheaply be told to stop one user's media.
    bandwidth_bytes: int = Field(default=10 * 1024**3, gt=0)


DEFAULT_TIER = "free"
# Bandwidth is ten times the storage: every stored byte served ten times a month.
DEFAULT_TIERS: Mapping[str, TierLimits] = {
    "free": TierLimits(storage_bytes=1024**3, max_files=10_000, bandwidth_bytes=10 * 1024**3),
    "pro": TierLimits(storage_bytes=100 * 1024**3, max_files=1_000_000, bandwidth_bytes=1024**4),
}


def category_of(media_type: str | None) -> str:
    """image, video, audio, document or other, from the detected type."""
    major = (media_type or "").split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return major
    if media_type == "application/pdf":
        return "document"
    return "other"


def top_folder(folder: str | None) -> str:
    """The top-level folder an asset counts under ("" for none)."""
    return (folder or "").split("/", 1)[0]


@dataclass(frozen=True)
class UsageDelta:
    """Bytes and files added (or, negative, taken away) for one asset's owner, counted
    in the total and under the asset's type category, scope and top-level folder (usage),
    and in the folder it is in (``path``, "" for none: the folder's own counts)."""

    user_id: str
    bytes: int
    files: int
    category: str
    scope: str
    path: str

    @property
    def folder(self) -> str:
        """The top-level folder it counts under in usage."""
        return top_folder(self.path)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return (
            TOTAL,
            f"{TYPE_PREFIX}{self.category}",
            f"{SCOPE_PREFIX}{self.scope}",
            f"{FOLDER_PREFIX}{self.folder}",
        )

    def negated(self) -> UsageDelta:
        return replace(self, bytes=-self.bytes, files=-self.files)


@dataclass(frozen=True)
class Quota:
    """The room a growing change must fit in (the owner's tier)."""

    tier: str
    limits: TierLimits


@dataclass(frozen=True)
class UsageRow:
    """One stored counter: a dimension's bytes and files."""

    dimension: str
    bytes: int
    files: int


def expected_rows(
    counted: Iterable[tuple[str | None, str, str | None, int]],
) -> dict[str, UsageRow]:
    """The rows a user's counted assets add up to, from ``(mimeType, scope, folder, size)``
    of each (what reconcile compares the stored rows with)."""
    totals: dict[str, list[int]] = {}
    for media_type, scope, folder, size in counted:
        delta = UsageDelta("", size, 1, category_of(media_type), scope, folder or "")
        for dimension in delta.dimensions:
            row = totals.setdefault(dimension, [0, 0])
            row[0] += size
            row[1] += 1
    return {name: UsageRow(name, values[0], values[1]) for name, values in totals.items()}


def warning_level(total_bytes: int, limits: TierLimits) -> int:
    """The highest warning level reached (0 below the first)."""
    percent = total_bytes * 100 / limits.storage_bytes
    return max((level for level in WARNING_LEVELS if percent >= level), default=0)


def storage_dimension(dimension: str) -> bool:
    """Whether a usage row counts stored bytes (not a month's bandwidth)."""
    return not dimension.startswith(BANDWIDTH_PREFIX)


def month_of(moment: datetime) -> str:
    """The calendar month (UTC) a moment falls in: ``2026-11``."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def bandwidth_dimension(month: str) -> str:
    """The usage row of one month's bandwidth: ``bandwidth#2026-11``."""
    return f"{BANDWIDTH_PREFIX}{month}"


def month_reset_at(month: str) -> datetime:
    """The first instant (UTC) after ``month``: when the next month's row starts at 0."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)


def bandwidth_warning_level(served_bytes: int, limits: TierLimits) -> int:
    """The highest warning level a month's bandwidth reached (0 below the first)."""
    percent = served_bytes * 100 / limits.bandwidth_bytes
    return max((level for level in WARNING_LEVELS if percent >= level), default=0)
