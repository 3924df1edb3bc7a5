"""The usage table: the only module that reads or writes usage rows.

Storage counting writes are never made here on their own: ``usage_updates`` gives the
table adapter the updates it adds to an asset's state change, in one transaction. What is
here reads rows, keeps the storage warning, and (for reconcile only) corrects a row.

Bandwidth rows (one per owner and month, ``bandwidth#2026-11``) are written here: the
bytes the CDN served, added as they are counted, and the month's warning.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from mediaport import names
from mediaport.adapters.tables import (
    ConditionFailed,
    Refused,
    TransactionItem,
    transact,
    translated,
)
from mediaport.model import Quota, UsageDelta, UsageRow, utcnow
from mediaport.model.usage import TOTAL, bandwidth_dimension, storage_dimension

# How long the record that a log file was counted is kept: longer than its message can be
# delivered again, even redriven from a dead-letter queue (SQS keeps one 14 days at most).
COUNTED_LOG_DAYS = 30


class UsageRecord(Model):
    """One user's counter for one dimension (``total``, ``type#image``, ``scope#…``,
    ``folder#…``; ``bandwidth#2026-11``: the bytes served that month, no files)."""

    class Meta:
        table_name = "unbound"  # bound per table by ``_record_class``

    user_id = UnicodeAttribute(hash_key=True, attr_name=names.USAGE_PARTITION_KEY)
    dimension = UnicodeAttribute(range_key=True, attr_name=names.USAGE_SORT_KEY)
    bytes = NumberAttribute(default=0)
    files = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True, attr_name="updatedAt")
    # The total row only: the last warning level crossed (80, 100) and when.
    warning_level = NumberAttribute(null=True, attr_name="warningLevel")
    storage_warning_at = UTCDateTimeAttribute(null=True, attr_name="storageWarningAt")
    # A bandwidth row only: when the month's bytes crossed ``warning_level``.
    bandwidth_warning_at = UTCDateTimeAttribute(null=True, attr_name="bandwidthWarningAt")
    # Set by reconcile when it last recomputed the row.
    calculated_at = UTCDateTimeAttribute(null=True, attr_name="calculatedAt")


class CountedLog(Model):
    """That one part of a CDN log file was counted (in the idempotency table, which
    expires it): written in the same transaction as the bytes it adds, so a log file
    delivered twice is counted once."""

    class Meta:
        table_name = "unbound"  # bound per table by ``_counted_log_class``

    id = UnicodeAttribute(hash_key=True, attr_name=names.IDEMPOTENCY_PARTITION_KEY)
    expiration = NumberAttribute(attr_name=names.IDEMPOTENCY_TTL_ATTRIBUTE)


@functools.cache
def _record_class(table_name: str, region: str) -> type[UsageRecord]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type(f"UsageRecord_{table_name}", (UsageRecord,), {"Meta": meta})


@functools.cache
def _counted_log_class(table_name: str, region: str) -> type[CountedLog]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type(f"CountedLog_{table_name}", (CountedLog,), {"Meta": meta})


class UsageTable:
    """The usage table named by the settings."""

    def __init__(self, table_name: str, region: str) -> None:
        self.record = _record_class(table_name, region)
        self.region = region

    def rows(self, user_id: str) -> dict[str, UsageRecord]:
        """Every storage row of one user, by dimension (one Query; bandwidth rows left out:
        reconcile recomputes these, and has nothing to recompute a month's bytes from)."""
        with translated("read usage"):
            return {
                row.dimension: row
                for row in self.record.query(user_id)
                if storage_dimension(row.dimension)
            }

    def bandwidth(self, user_id: str, month: str) -> UsageRecord | None:
        """One user's bandwidth row of one month, if anything was served (one GetItem)."""
        with translated("read bandwidth"):
            try:
                return self.record.get(user_id, bandwidth_dimension(month))
            except self.record.DoesNotExist:
                return None

    def add_bandwidth(self, user_id: str, month: str, served: int) -> int:
        """Add bytes served to a month's row (one UpdateItem ADD); its new total."""
        record = self.record(user_id, bandwidth_dimension(month))
        with translated("add bandwidth"):
            record.update(
                actions=[UsageRecord.bytes.add(served), UsageRecord.updated_at.set(utcnow())]
            )
        return int(record.bytes or 0)

    def add_bandwidth_once(
        self, served: Mapping[tuple[str, str], int], *, counted_as: str, counted_in: str
    ) -> bool:
        """Add the bytes of each ``(user, month)`` to that row, with the record
        ``counted_as`` (in the table ``counted_in``), all in one transaction (at most 99
        rows); False when that record exists: they were counted before, nothing is written."""
        now = utcnow()
        marker = _counted_log_class(counted_in, self.region)(
            counted_as, expiration=int((now + timedelta(days=COUNTED_LOG_DAYS)).timestamp())
        )
        items = [TransactionItem.save(marker, CountedLog.id.does_not_exist())]
        for (user_id, month), size in served.items():
            items.append(
                TransactionItem.update(
                    self.record(user_id, bandwidth_dimension(month)),
                    [UsageRecord.bytes.add(size), UsageRecord.updated_at.set(now)],
                )
            )
        try:
            transact(self.record._get_connection().connection, items, "add bandwidth")
        except Refused:
            return False
        return True

    def note_bandwidth_warning(self, user_id: str, month: str, level: int, at: datetime) -> bool:
        """Record that a month's bytes crossed ``level`` (once per month and level); False
        when it was already recorded."""
        record = self.record(user_id, bandwidth_dimension(month))
        previous = UsageRecord.warning_level
        try:
            with translated("note a bandwidth warning", passing="ConditionalCheckFailedException"):
                record.update(
                    actions=[previous.set(level), UsageRecord.bandwidth_warning_at.set(at)],
                    condition=previous.does_not_exist() | (previous < level),
                )
        except ConditionFailed:
            return False
        return True

    def users(self) -> Iterator[str]:
        """Every user with a usage row (a scan of total rows, for reconcile)."""
        with translated("list usage"):
            for row in self.record.scan(UsageRecord.dimension == TOTAL):
                yield row.user_id

    def usage_updates(
        self, deltas: Iterable[UsageDelta], quota: Quota | None
    ) -> list[TransactionItem]:
        """The update of each row a change counts in (its net change; none for a row it
        leaves as it was); the total's condition keeps a growing change within the quota."""
        net: dict[tuple[str, str], list[int]] = {}
        for delta in deltas:
            for dimension in delta.dimensions:
                counts = net.setdefault((delta.user_id, dimension), [0, 0])
                counts[0] += delta.bytes
                counts[1] += delta.files
        now = utcnow()
        updates = []
        for (user_id, dimension), (size, files) in net.items():
            if size == 0 and files == 0:
                continue
            actions = [
                UsageRecord.bytes.add(size),
                UsageRecord.files.add(files),
                UsageRecord.updated_at.set(now),
            ]
            condition = None
            if dimension == TOTAL and quota is not None and (size > 0 or files > 0):
                condition = _room_for(size, files, quota)
            updates.append(
                TransactionItem.update(self.record(user_id, dimension), actions, condition)
            )
        return updates

    def note_warning(self, user_id: str, level: int, at: datetime) -> bool:
        """Record that the total crossed ``level`` (once per crossing); False when it was
        already recorded. Level 0 clears it, so the next crossing warns again."""
        record = self.record(user_id, TOTAL)
        previous = UsageRecord.warning_level
        if level:
            condition = previous.does_not_exist() | (previous < level)
            actions: list[Action] = [previous.set(level), UsageRecord.storage_warning_at.set(at)]
        else:
            condition = previous > 0
            actions = [previous.set(0)]
        try:
            with translated("note a storage warning", passing="ConditionalCheckFailedException"):
                record.update(actions=actions, condition=condition)
        except ConditionFailed:
            return False
        return True

    def correct(self, user_id: str, row: UsageRow, seen: UsageRecord | None) -> bool:
        """Reconcile only: set one row to recomputed counts, if it is still as ``seen``
        (absent when None); False when a transition changed it meanwhile."""
        record = self.record(user_id, row.dimension)
        condition: Any
        if seen is None:
            condition = UsageRecord.user_id.does_not_exist()
        elif seen.updated_at is not None:
            condition = UsageRecord.updated_at == seen.updated_at
        else:  # a row no transition wrote (edited by hand): as it was read
            condition = (
                UsageRecord.updated_at.does_not_exist()
                & (UsageRecord.bytes == seen.bytes)
                & (UsageRecord.files == seen.files)
            )
        now = utcnow()
        actions: list[Action] = [
            UsageRecord.bytes.set(row.bytes),
            UsageRecord.files.set(row.files),
            UsageRecord.updated_at.set(now),
            UsageRecord.calculated_at.set(now),
        ]
        try:
            with translated("correct usage", passing="ConditionalCheckFailedException"):
                record.update(actions=actions, condition=condition)
        except ConditionFailed:
            return False
        return True


def _room_for(size: int, files: int, quota: Quota) -> Any:
    """``totalBytes + bytes <= limit`` and ``files + n <= maxFiles`` (a missing row is 0)."""
    limits = quota.limits
    bytes_left = limits.storage_bytes - size
    files_left = limits.max_files - max(files, 0)
    if bytes_left < 0 or files_left < 0:
        # Larger than the whole tier: no row can make room (and none must be written).
        return UsageRecord.bytes < 0
    total = UsageRecord.bytes
    return (total.does_not_exist() | (total <= bytes_left)) & (
        UsageRecord.files.does_not_exist() | (UsageRecord.files <= files_left)
    )
