"""Reconcile: recompute each user's usage rows from their counted assets and report drift.

Usage is written only in the same transaction as the asset change it counts, so on a
healthy system the drift is always zero; this is the check that proves it (and, with
``fix``, the repair when it does not hold).

Cost of a run: one Query of the usage table and paged Queries of the status index
(READY, QUARANTINED) per user, a scan of the usage table's total rows, and one full scan
of the asset table (projecting ``userId`` and ``status``) to find users who have counted
assets but no usage row.

Reads are ordered so that a transition racing the run is never taken for drift: a user's
rows are read before their assets and again after. A row that changed in between is
reported as ``changed meanwhile`` and never corrected; a correction itself is a
conditional write on the row as first read, so a transition landing after the second
read wins too. The status index is eventually consistent: a transition in the last
moment before a run may not be in it yet, which is why fixing is opt-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit

from mediaport.adapters.tables import translated
from mediaport.adapters.usage import UsageRecord
from mediaport.model import Asset
from mediaport.model.asset import COUNTED_STATUSES as COUNTED
from mediaport.model.usage import UsageRow, expected_rows
from mediaport.observability import logger, metrics
from mediaport.services import Services

# The statuses whose assets count in usage (the model's rule), in a fixed order.
COUNTED_STATUSES = sorted(COUNTED)
_PAGE_SIZE = 200

Outcome = Literal["reported", "fixed", "changed meanwhile"]


@dataclass(frozen=True)
class RowDrift:
    """One dimension whose stored counts differ from what the assets add up to."""

    dimension: str
    stored_bytes: int
    stored_files: int
    expected_bytes: int
    expected_files: int
    outcome: Outcome

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "storedBytes": self.stored_bytes,
            "storedFiles": self.stored_files,
            "expectedBytes": self.expected_bytes,
            "expectedFiles": self.expected_files,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class Drift:
    """One user's reconcile result: ``rows`` is empty when the stored usage is exact."""

    user_id: str
    rows: list[RowDrift] = field(default_factory=list)

    @property
    def drifting(self) -> list[RowDrift]:
        """The rows that really differed (not those a transition moved during the run)."""
        return [row for row in self.rows if row.outcome != "changed meanwhile"]

    def as_dict(self) -> dict[str, Any]:
        return {"userId": self.user_id, "rows": [row.as_dict() for row in self.rows]}


def reconcile_user(services: Services, user_id: str, fix: bool) -> Drift:
    """Compare one user's stored usage rows with their counted assets; with ``fix``,
    correct each drifting row unless a transition changed it meanwhile."""
    before = services.usage.rows(user_id)
    expected = expected_rows(
        (asset.mime_type, asset.scope, asset.folder, asset.size or 0)
        for asset in _counted_assets(services, user_id)
    )
    after = services.usage.rows(user_id)
    drift = []
    for dimension in sorted(before.keys() | after.keys() | expected.keys()):
        seen = before.get(dimension)
        want = expected.get(dimension, UsageRow(dimension, 0, 0))
        stored_bytes, stored_files = _counts(seen)
        if (stored_bytes, stored_files) == (want.bytes, want.files):
            continue
        outcome: Outcome = "reported"
        if _stamp(seen) != _stamp(after.get(dimension)):
            outcome = "changed meanwhile"
        elif fix:
            corrected = services.usage.correct(user_id, want, seen)
            outcome = "fixed" if corrected else "changed meanwhile"
        drift.append(
            RowDrift(dimension, stored_bytes, stored_files, want.bytes, want.files, outcome)
        )
    return Drift(user_id, drift)


def reconcile_all(services: Services, fix: bool) -> list[Drift]:
    """Reconcile every user with a usage row or a counted asset; logs each drifting user
    and adds the ``UsageDrift`` metric (the number of drifting rows)."""
    users = set(services.usage.users()) | set(_owners_of_counted_assets(services))
    results = [reconcile_user(services, user_id, fix) for user_id in sorted(users)]
    for result in results:
        if result.rows:
            logger.warning("usage drift", extra={**result.as_dict(), "fix": fix})
    drifting = sum(len(result.drifting) for result in results)
    metrics.add_metric(name="UsageDrift", unit=MetricUnit.Count, value=drifting)
    return results


def _counted_assets(services: Services, user_id: str) -> Iterator[Asset]:
    for status in COUNTED_STATUSES:
        start_after: dict[str, Any] | None = None
        while True:
            page, start_after = services.assets.list_of(user_id, status, _PAGE_SIZE, start_after)
            yield from page
            if start_after is None:
                break


def _owners_of_counted_assets(services: Services) -> Iterator[str]:
    """The distinct owners of READY and QUARANTINED assets: one full, paginated scan of
    the asset table, reading only ``userId`` and ``status``.

    A user whose usage rows were lost entirely has no total row, so the usage table alone
    would never name them.
    """
    record = services.assets.record
    counted = [status.value for status in COUNTED_STATUSES]
    seen: set[str] = set()
    with translated("scan asset owners"):
        for item in record.scan(
            filter_condition=record.status.is_in(*counted),
            attributes_to_get=[record.user_id.attr_name, record.status.attr_name],
        ):
            if item.user_id not in seen:
                seen.add(item.user_id)
                yield item.user_id


def _counts(row: UsageRecord | None) -> tuple[int, int]:
    return (int(row.bytes or 0), int(row.files or 0)) if row is not None else (0, 0)


def _stamp(row: UsageRecord | None) -> object:
    """What tells one version of a row from the next (every counting write sets it)."""
    return (row.updated_at, _counts(row)) if row is not None else None
