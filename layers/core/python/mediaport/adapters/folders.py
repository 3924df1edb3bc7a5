"""The folder table: the only module that reads or writes folder records.

A folder is a record per user and path (``trips``, ``trips/2026``) holding the counted
assets directly in it: ``assetCount`` and ``bytes``. Its counts are never written on their
own: ``folder_updates`` gives the asset table the updates it adds to an asset's change,
in one transaction, as the usage table's rows are. What is here creates, lists and deletes
folders.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from mediaport import names
from mediaport.adapters.records import Folder as Folder
from mediaport.adapters.records import FolderExists as FolderExists
from mediaport.adapters.tables import (
    ConditionFailed,
    Refused,
    TransactionItem,
    transact,
    translated,
)
from mediaport.fields import folder_ancestors
from mediaport.model import UsageDelta, utcnow


class FolderRecord(Model):
    """One user's folder."""

    class Meta:
        table_name = "unbound"  # bound per table by ``_record_class``

    user_id = UnicodeAttribute(hash_key=True, attr_name=names.FOLDER_TABLE_PARTITION_KEY)
    path = UnicodeAttribute(range_key=True, attr_name=names.FOLDER_TABLE_SORT_KEY)
    asset_count = NumberAttribute(default=0, attr_name="assetCount")
    bytes = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(null=True, attr_name="updatedAt")


@functools.cache
def _record_class(table_name: str, region: str) -> type[FolderRecord]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type(f"FolderRecord_{table_name}", (FolderRecord,), {"Meta": meta})


class FolderTable:
    """The folder table named by the settings."""

    def __init__(self, table_name: str, region: str) -> None:
        self.record = _record_class(table_name, region)

    def all_of(self, user_id: str) -> list[Folder]:
        """Every folder of a user, sorted by path (DynamoDB's order)."""
        with translated("list folders"):
            return [_to_folder(record) for record in self.record.query(user_id)]

    def get(self, user_id: str, path: str) -> Folder | None:
        with translated("read folder"):
            found = list(self.record.query(user_id, FolderRecord.path == path))
        return _to_folder(found[0]) if found else None

    def subfolders(self, user_id: str, path: str) -> list[Folder]:
        """Every folder below ``path``, outermost first."""
        with translated("list subfolders"):
            below = self.record.query(user_id, FolderRecord.path.startswith(f"{path}/"))
            return [_to_folder(record) for record in below]

    def create(self, user_id: str, path: str) -> Folder:
        """A new empty folder, and every folder above it that is missing;
        ``FolderExists`` when the folder itself is there."""
        now = utcnow()
        record = self.record(user_id, path, asset_count=0, bytes=0, created_at=now)
        created = TransactionItem.save(record, FolderRecord.path.does_not_exist())
        ancestors = self._ensure(user_id, folder_ancestors(path), now)
        try:
            transact(self._connection(), [created, *ancestors], "create folder")
        except Refused:
            raise FolderExists(path) from None  # only the folder's own write has a condition
        return _to_folder(record)

    def create_if_missing(self, user_id: str, path: str) -> None:
        """The folder (and those above it), unless it is there."""
        with contextlib.suppress(FolderExists):
            self.create(user_id, path)

    def delete_empty(self, user_id: str, path: str) -> bool:
        """Delete a folder holding no counted asset; False when it holds one (or is gone)."""
        record = self.record(user_id, path)
        try:
            with translated("delete folder", passing="ConditionalCheckFailedException"):
                record.delete(condition=FolderRecord.asset_count == 0)
        except ConditionFailed:
            return False
        return True

    def folder_updates(
        self, deltas: Iterable[UsageDelta], moved_to: tuple[str, str] | None = None
    ) -> list[TransactionItem]:
        """The folder records an asset's change counts in: each path's net change, and
        every folder above a path that gains an asset created if missing; ``moved_to``
        (user, path): the folder an asset moves into, created (with those above it) if
        missing even when the asset is not counted."""
        net: dict[tuple[str, str], list[int]] = {}
        for delta in deltas:
            if delta.path:
                counts = net.setdefault((delta.user_id, delta.path), [0, 0])
                counts[0] += delta.bytes
                counts[1] += delta.files
        now = utcnow()
        items: list[TransactionItem] = []
        touched = set(net)
        for (user_id, path), (size, files) in net.items():
            if size == 0 and files == 0:
                continue
            items.append(self._count(user_id, path, size, files, now))
            if files > 0:
                missing = [p for p in folder_ancestors(path) if (user_id, p) not in touched]
                touched.update((user_id, p) for p in missing)
                items.extend(self._ensure(user_id, missing, now))
        if moved_to is not None:
            user_id, path = moved_to
            missing = [p for p in (*folder_ancestors(path), path) if (user_id, p) not in touched]
            items.extend(self._ensure(user_id, missing, now))
        return items

    def _count(self, user_id: str, path: str, size: int, files: int, now: datetime) -> Any:
        created = FolderRecord.created_at
        return TransactionItem.update(
            self.record(user_id, path),
            [
                FolderRecord.bytes.add(size),
                FolderRecord.asset_count.add(files),
                created.set(created | now),
                FolderRecord.updated_at.set(now),
            ],
        )

    def _ensure(self, user_id: str, paths: Iterable[str], now: datetime) -> list[TransactionItem]:
        """Create each folder if missing (counts untouched when it exists)."""
        created = FolderRecord.created_at
        return [
            TransactionItem.update(
                self.record(user_id, path),
                [
                    FolderRecord.bytes.add(0),
                    FolderRecord.asset_count.add(0),
                    created.set(created | now),
                ],
            )
            for path in paths
        ]

    def _connection(self) -> Any:
        return self.record._get_connection().connection


def _to_folder(record: FolderRecord) -> Folder:
    return Folder(
        path=record.path,
        asset_count=int(record.asset_count or 0),
        bytes=int(record.bytes or 0),
        created_at=record.created_at,
    )
