"""Storage usage: the caller's totals against their tier, the breakdown, the early quota
check, and the storage warnings.

The counts themselves change only inside the transitions that change what they count
(``settlement.counted``); nothing here adds to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from mediaport.errors import QuotaExceeded
from mediaport.model import Asset, Quota, TierLimits, utcnow
from mediaport.model.usage import (
    CATEGORIES,
    FOLDER_PREFIX,
    SCOPE_PREFIX,
    TOTAL,
    TYPE_PREFIX,
    WARNING_LEVELS,
    warning_level,
)
from mediaport.observability import logger, metrics
from mediaport.services import Services

if TYPE_CHECKING:
    from mediaport.adapters.usage import UsageRecord


@dataclass(frozen=True)
class Counter:
    bytes: int
    files: int


@dataclass(frozen=True)
class UsageSummary:
    tier: str
    limits: TierLimits
    total: Counter
    warning_level: int
    storage_warning_at: datetime | None
    calculated_at: datetime | None

    @property
    def remaining_bytes(self) -> int:
        return max(0, self.limits.storage_bytes - self.total.bytes)

    @property
    def percent_used(self) -> float:
        return round(self.total.bytes * 100 / self.limits.storage_bytes, 2)

    @property
    def warning(self) -> str | None:
        """None, APPROACHING (past the first warning level) or EXCEEDED (at the limit)."""
        level = warning_level(self.total.bytes, self.limits)
        if level >= WARNING_LEVELS[-1] or self.total.files >= self.limits.max_files:
            return "EXCEEDED"
        return "APPROACHING" if level else None


@dataclass(frozen=True)
class UsageBreakdown:
    by_type: dict[str, Counter]
    by_scope: dict[str, Counter]
    by_folder: dict[str, Counter]


def tier_name(services: Services, asset: Asset) -> str:
    return services.settings.tier_of(asset.tier)


def quota_for(services: Services, asset: Asset) -> Quota:
    """The room an asset's growing change must fit in: its owner's tier at upload time."""
    return quota_of_tier(services, tier_name(services, asset))


def quota_of_tier(services: Services, tier: str) -> Quota:
    """The room the caller's own tier gives (a restore is counted within it)."""
    return Quota(tier=tier, limits=services.settings.tiers[tier])


def summary(services: Services, user_id: str, tier: str) -> UsageSummary:
    """The caller's totals against their tier (one Query)."""
    rows = services.usage.rows(user_id)
    total = rows.get(TOTAL)
    return UsageSummary(
        tier=tier,
        limits=services.settings.tiers[tier],
        total=_counter(total),
        warning_level=int(total.warning_level or 0) if total else 0,
        storage_warning_at=total.storage_warning_at if total else None,
        calculated_at=total.calculated_at if total else None,
    )


def breakdown(services: Services, user_id: str) -> UsageBreakdown:
    """Bytes and files per type category, scope and top-level folder (one Query)."""
    rows = services.usage.rows(user_id)

    def under(prefix: str) -> dict[str, Counter]:
        return {
            name.removeprefix(prefix): _counter(row)
            for name, row in sorted(rows.items())
            if name.startswith(prefix) and (row.files or row.bytes)
        }

    by_type = {category: Counter(0, 0) for category in CATEGORIES} | under(TYPE_PREFIX)
    return UsageBreakdown(
        by_type=by_type, by_scope=under(SCOPE_PREFIX), by_folder=under(FOLDER_PREFIX)
    )


def require_room(
    services: Services, user_id: str, tier: str, size: int | None, *, what: str = "upload"
) -> None:
    """Refuse early (403 quota-exceeded) an upload that cannot fit: used + declared over
    the limit, or one file more than allowed. ``size`` None (undeclared): refused only
    when nothing is left. The limit itself is enforced when the upload becomes READY."""
    current = summary(services, user_id, tier)
    limits, used = current.limits, current.total
    declared = size or 0
    full = used.bytes + declared > limits.storage_bytes or (
        size is None and used.bytes >= limits.storage_bytes
    )
    if full or used.files + 1 > limits.max_files:
        reason = (
            f"{used.files:,} of {limits.max_files:,} files"
            if used.files + 1 > limits.max_files
            else f"{used.bytes:,} of {limits.storage_bytes:,} bytes"
        )
        raise QuotaExceeded(
            f"this {what} does not fit in tier {tier}: {reason} are used",
            limit_bytes=limits.storage_bytes,
            used_bytes=used.bytes,
            remaining_bytes=current.remaining_bytes,
        )


def follow_warnings(services: Services, user_id: str, tier: str | None) -> None:
    """After a counted change: record a newly crossed warning level (once per crossing),
    or clear the level when usage fell back below the first."""
    tier_name_ = services.settings.tier_of(tier)
    current = summary(services, user_id, tier_name_)
    level = warning_level(current.total.bytes, current.limits)
    if level == current.warning_level or (level and level < current.warning_level):
        return
    if services.usage.note_warning(user_id, level, utcnow()) and level:
        storage_warning(user_id, tier_name_, level, current)


def storage_warning(user_id: str, tier: str, level: int, current: UsageSummary) -> None:
    """A crossing of a warning level, recorded once: logged and counted here. The host
    app's "Storage Warning" event is not sent from here: ``publish_events`` derives it from
    the usage table's stream (the ``warningLevel`` this crossing wrote), so a function that
    dies right after the write loses no event (docs/events.md)."""
    logger.info(
        "storage warning",
        extra={
            "userId": user_id,
            "tier": tier,
            "level": level,
            "totalBytes": current.total.bytes,
            "limitBytes": current.limits.storage_bytes,
        },
    )
    metrics.add_metric(name="StorageWarnings", unit=MetricUnit.Count, value=1)


def _counter(row: UsageRecord | None) -> Counter:
    return Counter(int(row.bytes or 0), int(row.files or 0)) if row else Counter(0, 0)
