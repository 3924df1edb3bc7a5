"""Bandwidth: the bytes the CDN serves of each owner's public media, per calendar month
(UTC), against their tier's monthly limit.

Counted where the bytes are served: on AWS from CloudFront's standard logs
(``count_log_file``, once per log file however often its event comes), locally by the
``/cdn`` stand-in after each response (``count_response``). A month is a row of its own,
so a new month starts at 0 with nothing to reset. Crossing 80 % and then 100 % of the
limit is recorded once per month (``bandwidthWarningAt``), logged and counted; nothing is
refused: CloudFront cannot cheaply be told to stop serving one user's media
(docs/serving.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit

from mediaport.cdn_logs import Served
from mediaport.model import TierLimits, utcnow
from mediaport.model.usage import (
    WARNING_LEVELS,
    bandwidth_warning_level,
    month_of,
    month_reset_at,
)
from mediaport.observability import logger, metrics
from mediaport.services import Services

# A DynamoDB transaction holds 100 writes: the record of the count, and 99 rows.
_ROWS_PER_TRANSACTION = 99


@dataclass(frozen=True)
class BandwidthSummary:
    month: str
    used_bytes: int
    limit_bytes: int
    warning_at: datetime | None

    @property
    def reset_at(self) -> datetime:
        return month_reset_at(self.month)

    @property
    def percent_used(self) -> float:
        return round(self.used_bytes * 100 / self.limit_bytes, 2)

    @property
    def warning(self) -> str | None:
        """None, APPROACHING (past the first warning level) or EXCEEDED (at the limit)."""
        percent = self.used_bytes * 100 / self.limit_bytes
        level = max((level for level in WARNING_LEVELS if percent >= level), default=0)
        if level >= WARNING_LEVELS[-1]:
            return "EXCEEDED"
        return "APPROACHING" if level else None


@dataclass(frozen=True)
class CountedLog:
    """What counting one log file added: bytes per owner and month (none of what was
    counted before), and the bytes of assets no longer known."""

    added: dict[tuple[str, str], int]
    unattributed: int
    duplicate: bool


def summary(
    services: Services, user_id: str, tier: str, now: datetime | None = None
) -> BandwidthSummary:
    """The caller's bandwidth this month against their tier (one GetItem)."""
    month = month_of(now or utcnow())
    row = services.usage.bandwidth(user_id, month)
    return BandwidthSummary(
        month=month,
        used_bytes=int(row.bytes or 0) if row else 0,
        limit_bytes=services.settings.tiers[tier].bandwidth_bytes,
        warning_at=row.bandwidth_warning_at if row else None,
    )


def count_response(
    services: Services, user_id: str, tier: str | None, served: int, at: datetime
) -> None:
    """The bytes of one response the CDN sent (one UpdateItem ADD), then the warning."""
    if served <= 0:
        return
    month = month_of(at)
    total = services.usage.add_bandwidth(user_id, month, served)
    _follow_warning(services, user_id, month, services.settings.tier_of(tier), total)


def count_log_file(services: Services, served: Iterable[Served], log_id: str) -> CountedLog:
    """The bytes one CloudFront log file says each asset served, added to their owners'
    months, once: a second count of the same ``log_id`` (its key and ETag) adds nothing.

    The owner and tier are the asset's (read in batches of 100): a key's user segment is
    made key-safe and may not be the user id, and CloudFront sends no token to tell a tier.
    """
    served = list(served)
    assets = services.assets.get_many([item.asset_id for item in served])
    counted: dict[tuple[str, str], int] = {}
    tiers: dict[str, str] = {}
    unattributed = 0
    for item in served:
        asset = assets.get(item.asset_id)
        if asset is None:  # purged long ago: nobody's to count
            unattributed += item.bytes
            continue
        owner_month = (asset.user_id, item.month)
        counted[owner_month] = counted.get(owner_month, 0) + item.bytes
        tiers.setdefault(asset.user_id, services.settings.tier_of(asset.tier))
    ordered = sorted(counted)  # the same chunks however often the file is counted
    added: dict[tuple[str, str], int] = {}
    duplicate = False
    for start in range(0, len(ordered), _ROWS_PER_TRANSACTION):
        chunk = {key: counted[key] for key in ordered[start : start + _ROWS_PER_TRANSACTION]}
        marker = f"count_bandwidth#{log_id}#{start // _ROWS_PER_TRANSACTION}"
        if not _add_once(services, chunk, marker):
            duplicate = True  # counted before: its warnings were followed then
            continue
        added.update(chunk)
        for user_id, month in chunk:
            stored = services.usage.bandwidth(user_id, month)
            used = int(stored.bytes or 0) if stored else 0
            _follow_warning(services, user_id, month, tiers[user_id], used)
    if unattributed:
        logger.info("bandwidth of no known asset", extra={"log": log_id, "bytes": unattributed})
    return CountedLog(added, unattributed, duplicate)


def _add_once(services: Services, chunk: Mapping[tuple[str, str], int], marker: str) -> bool:
    table = services.settings.idempotency_table_name
    if table is None:
        from mediaport.config import ConfigurationError

        raise ConfigurationError(
            "count_bandwidth needs MEDIAPORT_IDEMPOTENCY_TABLE_NAME (where a counted log "
            "file is recorded)"
        )
    return services.usage.add_bandwidth_once(chunk, counted_as=marker, counted_in=table)


def _follow_warning(services: Services, user_id: str, month: str, tier: str, used: int) -> None:
    limits: TierLimits = services.settings.tiers[tier]
    level = bandwidth_warning_level(used, limits)
    if level and services.usage.note_bandwidth_warning(user_id, month, level, utcnow()):
        logger.info(
            "bandwidth warning",
            extra={
                "userId": user_id,
                "tier": tier,
                "month": month,
                "level": level,
                "usedBytes": used,
                "limitBytes": limits.bandwidth_bytes,
            },
        )
        metrics.add_metric(name="BandwidthWarnings", unit=MetricUnit.Count, value=1)
