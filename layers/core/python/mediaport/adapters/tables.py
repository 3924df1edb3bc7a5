"""The asset table: the only module that talks to DynamoDB.

It returns domain models, never pynamodb items, and turns a ``Transition`` decided by the
model into one conditional write. pynamodb and botocore errors are translated here, once:
a caller sees ``TableUnavailable`` (a real outage: retry) or ``TableRequestRefused`` (our
bug: never "retry"), and never a library's text.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from mediaport import names
from mediaport.adapters.records import OUTAGE_CODES as OUTAGE_CODES
from mediaport.adapters.records import ListingPage as ListingPage
from mediaport.adapters.records import NoRoom as NoRoom
from mediaport.adapters.records import RefusedAlongside as RefusedAlongside
from mediaport.adapters.records import TransactionItem as TransactionItem
from mediaport.errors import TableRequestRefused, TableUnavailable
from mediaport.model import Asset, AssetStatus, Transition, utcnow
from mediaport.model.asset import count_changes
from mediaport.model.library import NO_FOLDER, TRASH_SUFFIX, LibraryQuery
from mediaport.model.usage import category_of
from mediaport.observability import logger

if TYPE_CHECKING:
    from mediaport.adapters.folders import FolderTable
    from mediaport.adapters.usage import UsageTable

_CONDITION_FAILED = "ConditionalCheckFailedException"
# A transaction item's cancellation reason when its own condition failed.
CANCELLED_BY_CONDITION = "ConditionalCheckFailed"
# Items a listing with filters evaluates at most per request: the cost of one request is
# bounded whatever else the user has stored (the page may then come back short, with a
# cursor to go on).
MAX_EVALUATED = 1000
# What one Query of a filtered listing reads at most.
_FILTERED_PAGE = 200
_MAX_ATTEMPTS = 5


class StatusIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.STATUS_INDEX_NAME
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name=names.STATUS_INDEX_PARTITION_KEY)
    status_created_at = UnicodeAttribute(range_key=True, attr_name=names.STATUS_INDEX_SORT_KEY)


class _ShelfIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.SHELF_INDEX_NAME
        projection = AllProjection()

    shelf = UnicodeAttribute(hash_key=True, attr_name=names.SHELF_ATTRIBUTE)
    created_at = UnicodeAttribute(range_key=True, attr_name=names.SHELF_INDEX_SORT_KEY)


class _SizeIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.SIZE_INDEX_NAME
        projection = AllProjection()

    shelf = UnicodeAttribute(hash_key=True, attr_name=names.SHELF_ATTRIBUTE)
    size_key = UnicodeAttribute(range_key=True, attr_name=names.SIZE_INDEX_SORT_KEY)


class _NameIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.NAME_INDEX_NAME
        projection = AllProjection()

    shelf = UnicodeAttribute(hash_key=True, attr_name=names.SHELF_ATTRIBUTE)
    name_key = UnicodeAttribute(range_key=True, attr_name=names.NAME_INDEX_SORT_KEY)


class _FolderIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.FOLDER_INDEX_NAME
        projection = AllProjection()

    folder_shelf = UnicodeAttribute(hash_key=True, attr_name=names.FOLDER_INDEX_PARTITION_KEY)
    created_at = UnicodeAttribute(range_key=True, attr_name=names.SHELF_INDEX_SORT_KEY)


class _TypeIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.TYPE_INDEX_NAME
        projection = AllProjection()

    type_shelf = UnicodeAttribute(hash_key=True, attr_name=names.TYPE_INDEX_PARTITION_KEY)
    created_at = UnicodeAttribute(range_key=True, attr_name=names.SHELF_INDEX_SORT_KEY)


class _QuarantineIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.QUARANTINE_INDEX_NAME
        projection = AllProjection()

    quarantine = UnicodeAttribute(hash_key=True, attr_name=names.QUARANTINE_INDEX_PARTITION_KEY)
    created_at = UnicodeAttribute(range_key=True, attr_name=names.QUARANTINE_INDEX_SORT_KEY)


class AssetRecord(Model):
    """The stored shape of an asset (attribute names as in DESIGN §3)."""

    class Meta:
        table_name = "unbound"  # bound per table by ``_record_class``

    asset_id = UnicodeAttribute(hash_key=True, attr_name=names.TABLE_PARTITION_KEY)
    user_id = UnicodeAttribute(attr_name="userId")
    # ISO-8601 text, so the indexes sort by it.
    created_at = UnicodeAttribute(attr_name="createdAt")
    # None only on a purged record's tombstone (in no index).
    status_created_at = UnicodeAttribute(null=True, attr_name=names.STATUS_INDEX_SORT_KEY)
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    scope = UnicodeAttribute()
    status = UnicodeAttribute()
    bucket = UnicodeAttribute()
    key = UnicodeAttribute()
    filename = UnicodeAttribute()
    original_filename = UnicodeAttribute(attr_name="originalFilename")
    declared_type = UnicodeAttribute(attr_name="declaredType")
    declared_size = NumberAttribute(null=True, attr_name="declaredSize")
    profile_id = UnicodeAttribute(null=True, attr_name="profileId")
    folder = UnicodeAttribute(null=True)
    alt_text = UnicodeAttribute(null=True, attr_name="altText")
    caption = UnicodeAttribute(null=True)
    tags: ListAttribute[Any] = ListAttribute(of=UnicodeAttribute, null=True)
    upload_id = UnicodeAttribute(null=True, attr_name="uploadId")
    part_size = NumberAttribute(null=True, attr_name="partSize")
    part_count = NumberAttribute(null=True, attr_name="partCount")
    checksum_sha256 = UnicodeAttribute(null=True, attr_name="checksumSha256")
    upload_session = UnicodeAttribute(null=True, attr_name="uploadSession")
    tier = UnicodeAttribute(null=True)
    usage_count = NumberAttribute(null=True, attr_name="usageCount")
    last_used_at = UTCDateTimeAttribute(null=True, attr_name="lastUsedAt")
    deleted_at = UTCDateTimeAttribute(null=True, attr_name="deletedAt")
    purged_at = UTCDateTimeAttribute(null=True, attr_name="purgedAt")
    # The library's index keys and search text, derived from the fields above on every
    # write (``_listing_keys``); none on a purged record.
    shelf = UnicodeAttribute(null=True, attr_name=names.SHELF_ATTRIBUTE)
    size_key = UnicodeAttribute(null=True, attr_name=names.SIZE_INDEX_SORT_KEY)
    name_key = UnicodeAttribute(null=True, attr_name=names.NAME_INDEX_SORT_KEY)
    folder_shelf = UnicodeAttribute(null=True, attr_name=names.FOLDER_INDEX_PARTITION_KEY)
    type_shelf = UnicodeAttribute(null=True, attr_name=names.TYPE_INDEX_PARTITION_KEY)
    search_text = UnicodeAttribute(null=True, attr_name="searchText")
    mime_type = UnicodeAttribute(null=True, attr_name="mimeType")
    size = NumberAttribute(null=True)
    checksum = UnicodeAttribute(null=True)
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    aspect_ratio = NumberAttribute(null=True, attr_name="aspectRatio")
    dominant_color = UnicodeAttribute(null=True, attr_name="dominantColor")
    placeholder = UnicodeAttribute(null=True)
    variants: MapAttribute[str, Any] = MapAttribute(null=True)
    requested_variants: MapAttribute[str, Any] = MapAttribute(
        null=True, attr_name="requestedVariants"
    )
    original_size = NumberAttribute(null=True, attr_name="originalSize")
    optimized_size = NumberAttribute(null=True, attr_name="optimizedSize")
    compression_ratio = NumberAttribute(null=True, attr_name="compressionRatio")
    scan_status = UnicodeAttribute(null=True, attr_name="scanStatus")
    scan_result = UnicodeAttribute(null=True, attr_name="scanResult")
    scanned_at = UTCDateTimeAttribute(null=True, attr_name="scannedAt")
    released_by = UnicodeAttribute(null=True, attr_name="releasedBy")
    released_at = UTCDateTimeAttribute(null=True, attr_name="releasedAt")
    release_reason = UnicodeAttribute(null=True, attr_name="releaseReason")
    # The quarantine index's key: set ("QUARANTINED") only while the asset is.
    quarantine = UnicodeAttribute(null=True, attr_name=names.QUARANTINE_INDEX_PARTITION_KEY)
    processing = UnicodeAttribute(null=True)
    reject_reason = UnicodeAttribute(null=True, attr_name="rejectReason")
    reject_detail = UnicodeAttribute(null=True, attr_name="rejectDetail")
    # DynamoDB TTL, epoch seconds: set while PENDING and once REJECTED.
    expires_at = NumberAttribute(null=True, attr_name=names.TTL_ATTRIBUTE)
    version = VersionAttribute()

    status_index = StatusIndex()
    shelf_index = _ShelfIndex()
    size_index = _SizeIndex()
    name_index = _NameIndex()
    folder_index = _FolderIndex()
    type_index = _TypeIndex()
    quarantine_index = _QuarantineIndex()


# Derived attributes: set from the asset on every write, never by hand.
_DERIVED = (
    "status_created_at",
    "shelf",
    "size_key",
    "name_key",
    "folder_shelf",
    "type_shelf",
    "search_text",
    "quarantine",
)


@functools.cache
def _record_class(table_name: str, region: str) -> type[AssetRecord]:
    """``AssetRecord`` bound to one table (a subclass each, so bindings never mix)."""
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type(f"AssetRecord_{table_name}", (AssetRecord,), {"Meta": meta})


def status_sort_key(status: str, created_at: str) -> str:
    """The status index's sort key: a user's assets in one status, by creation time."""
    return f"{status}#{created_at}"


# The order pynamodb sends a transaction's writes in, whatever order they were added:
# deletes, then puts, then updates (``Connection.transact_write_items``).
_SENT_ORDER = {"delete": 0, "save": 1, "update": 2}


def in_given_order(kinds: list[str], sent: list[Any]) -> list[Any]:
    """The cancellation reasons of a transaction (``sent``, one per write in the order
    pynamodb sent them) back in the order its writes of ``kinds`` were added."""
    if len(sent) != len(kinds):
        return sent
    order = sorted(range(len(kinds)), key=lambda index: _SENT_ORDER[kinds[index]])
    given: list[Any] = [None] * len(kinds)
    for position, index in enumerate(order):
        given[index] = sent[position]
    return given


class Refused(Exception):
    """Writes of a transaction refused by their own conditions (``positions``, in the
    order the writes were given): nothing was written."""

    def __init__(self, positions: list[int]) -> None:
        super().__init__(f"writes {positions} of the transaction were refused")
        self.positions = positions


# How often a transaction another one held an item of (TransactionConflict: nothing was
# written) is sent again before it counts as an outage.
_CONFLICT_ATTEMPTS = 5


def transact(connection: Any, items: list[TransactionItem], doing: str) -> None:
    """``items`` in one DynamoDB transaction: all written, or none.

    ``Refused`` when conditions refused writes. A conflict with another transaction is
    retried as it is (its conditions are evaluated again), then answered as an outage;
    anything else is translated as every table error is.
    """
    kinds: list[str] = [item.kind for item in items]
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            with TransactWrite(connection=connection) as transaction:
                for item in items:
                    item.add_to(transaction)
            return
        except TransactWriteError as error:
            codes = in_given_order(
                kinds, [getattr(reason, "code", None) for reason in error.cancellation_reasons]
            )
            refused = [i for i, code in enumerate(codes) if code == CANCELLED_BY_CONDITION]
            if refused:
                raise Refused(refused) from None
            if "TransactionConflict" not in codes:
                with translated(doing):
                    raise
            time.sleep(0.02 * 2**attempt)
    logger.warning("transaction kept conflicting", extra={"doing": doing})
    raise TableUnavailable()


class AssetTable:
    """The asset table named by the settings, and the tables its changes count in (usage
    rows, folder records): those counts change only in the same transaction."""

    def __init__(
        self,
        table_name: str,
        region: str,
        usage: UsageTable | None = None,
        folders: FolderTable | None = None,
    ) -> None:
        self.record = _record_class(table_name, region)
        self.usage = usage
        self.folders = folders

    def add_pending(self, asset: Asset) -> None:
        """Store a new PENDING asset; never overwrites one with the same id. Its folder
        (and every folder above it) is created with it when missing, in one transaction:
        an asset's folder always exists."""
        record = self._to_record(asset)
        condition = AssetRecord.asset_id.does_not_exist()
        if asset.folder is None or self.folders is None:
            with translated("add asset"):
                record.save(condition=condition)
            return
        folders = self.folders.folder_updates([], (asset.user_id, asset.folder))
        try:
            transact(
                self.connection(),
                [TransactionItem.save(record, condition), *folders],
                "add asset and its folder",
            )
        except Refused:
            raise TableRequestRefused() from None  # asset ids are random: never there

    def get(self, asset_id: str) -> Asset | None:
        """The asset with this id, or None."""
        record = self._get_record(asset_id)
        return _to_asset(record) if record is not None else None

    def from_stream_image(self, image: Mapping[str, Any]) -> Asset:
        """The asset a stream record's image holds (DynamoDB-typed attribute values)."""
        return _to_asset(self.record.from_raw_data(dict(image)))

    def get_many(self, asset_ids: list[str]) -> dict[str, Asset]:
        """The assets with these ids that exist (one BatchGetItem per 100)."""
        with translated("read assets"):
            records = self.record.batch_get(list(dict.fromkeys(asset_ids)))
            return {record.asset_id: _to_asset(record) for record in records}

    def list_of(
        self,
        user_id: str,
        status: AssetStatus,
        limit: int,
        start_after: dict[str, Any] | None,
    ) -> tuple[list[Asset], dict[str, Any] | None]:
        """One page of a user's assets in one status, newest first (the status index)."""
        with translated("list assets"):
            results = self.record.status_index.query(
                user_id,
                AssetRecord.status_created_at.startswith(f"{status.value}#"),
                scan_index_forward=False,
                page_size=limit,
                last_evaluated_key=start_after,
            )
            page = next(results.page_iter, None) or {}
        records = [self.record.from_raw_data(item) for item in page.get("Items", [])]
        return [_to_asset(record) for record in records], results.page_iter.last_evaluated_key

    def list_library(self, query: LibraryQuery, start_after: tuple[str, str] | None) -> ListingPage:
        """One page of a library listing: the index designed for the query's main filter
        or order answers, the other filters are evaluated on at most ``MAX_EVALUATED``
        items (docs/data-model.md has the access patterns)."""
        return self._read_page(_plan(self.record, query), query.limit, start_after)

    def list_quarantined(
        self,
        *,
        scan_status: str | None,
        user_id: str | None,
        limit: int,
        start_after: tuple[str, str] | None,
    ) -> ListingPage:
        """One page of every user's QUARANTINED assets, newest first (the sparse
        quarantine index), filtered by scan status and owner."""
        return self._read_page(
            _quarantine_plan(self.record, scan_status, user_id), limit, start_after
        )

    def quarantine_page_starts_well(self, start_after: tuple[str, str]) -> bool:
        """Whether a cursor's sort value has the quarantine index's shape (a createdAt)."""
        return _quarantine_plan(self.record, None, None).sort_value_fits(start_after[1])

    def _read_page(
        self, plan: _Plan, limit: int, start_after: tuple[str, str] | None
    ) -> ListingPage:
        """Up to ``limit`` items of the plan's index from ``start_after``, the plan's filter
        evaluated on at most ``MAX_EVALUATED`` items."""
        assets: list[Asset] = []
        evaluated = 0
        start = plan.start_key(start_after) if start_after else None
        next_start: tuple[str, str] | None = None
        while True:
            wanted = limit - len(assets)
            size = wanted if plan.filter is None else min(_FILTERED_PAGE, MAX_EVALUATED - evaluated)
            with translated("list assets"):
                results = plan.index.query(
                    plan.hash_key,
                    plan.range_condition,
                    filter_condition=plan.filter,
                    scan_index_forward=plan.forward,
                    page_size=size,
                    last_evaluated_key=start,
                )
                page = next(results.page_iter, None) or {}
            evaluated += int(page.get("ScannedCount", 0))
            items = page.get("Items", [])
            last_key = results.page_iter.last_evaluated_key
            if len(items) >= wanted:
                # A full page ends at its last item (a filtered Query may have read on).
                assets.extend(_to_asset(self.record.from_raw_data(item)) for item in items[:wanted])
                if len(items) == wanted and last_key is None:
                    next_start = None  # the listing's end, exactly
                else:
                    cut = items[wanted - 1]
                    next_start = (
                        cut[names.TABLE_PARTITION_KEY]["S"],
                        cut[plan.sort_attribute]["S"],
                    )
                break
            assets.extend(_to_asset(self.record.from_raw_data(item)) for item in items)
            if last_key is None:
                next_start = None  # the listing's end
                break
            start = last_key
            next_start = (
                last_key[names.TABLE_PARTITION_KEY]["S"],
                last_key[plan.sort_attribute]["S"],
            )
            if evaluated >= MAX_EVALUATED:
                break  # bounded: the cursor goes on from where the evaluation stopped
        return ListingPage(assets, next_start)

    def starts_well(self, query: LibraryQuery, start_after: tuple[str, str]) -> bool:
        """Whether a cursor's sort value has the shape of the index the query is answered
        from (a page can only start where a page of that index ended)."""
        return _plan(self.record, query).sort_value_fits(start_after[1])

    def apply(
        self, transition: Transition, alongside: Iterable[TransactionItem] = ()
    ) -> Asset | None:
        """Make a decided change if the stored asset is still as expected; else None.

        What the change does to usage and folder counts is derived from the asset before
        and after, and written with it in one transaction (as is every ``alongside``
        write); ``NoRoom`` when a growing change does not fit the quota, and
        ``RefusedAlongside`` when an alongside write's own condition fails. Nothing is
        written in either case.
        """
        condition = AssetRecord.status == transition.expect_status.value
        if transition.expect_checksum is not None:
            condition &= AssetRecord.checksum == transition.expect_checksum
        if transition.expect_processing:
            condition &= AssetRecord.processing.is_in(
                *(state.value for state in transition.expect_processing)
            )
        if transition.expect_version is not None:
            condition &= AssetRecord.version == transition.expect_version
        others = list(alongside)
        for _attempt in range(_MAX_ATTEMPTS):
            record = self._get_record(transition.asset_id)
            if record is None:
                return None
            before = _to_asset(record)
            after = before.model_copy(update=dict(transition.changes))
            actions = [
                *_actions(transition),
                *_derived_actions(after, record.created_at),
                AssetRecord.updated_at.set(utcnow()),
            ]
            counted = self._count_updates(before, after, transition)
            try:
                if counted or others:
                    self._transact(record, actions, condition, [*counted, *others], len(counted))
                else:
                    with translated("update asset", passing=_CONDITION_FAILED):
                        record.update(actions=actions, condition=condition)
            except ConditionFailed:
                current = self._get_record(transition.asset_id)
                if current is None or current.version == record.version:
                    return None  # the stated condition failed, not the version check
                continue
            return self.get(transition.asset_id) if (counted or others) else _to_asset(record)
        return None

    def _count_updates(
        self, before: Asset, after: Asset, transition: Transition
    ) -> list[TransactionItem]:
        deltas = count_changes(before, after)
        moved = after.folder is not None and after.folder != before.folder
        updates: list[TransactionItem] = []
        if deltas and self.usage is not None:
            updates += self.usage.usage_updates(deltas, transition.quota)
        if (deltas or moved) and self.folders is not None:
            moved_to = (after.user_id, after.folder) if moved and after.folder else None
            updates += self.folders.folder_updates(deltas, moved_to)
        return updates

    def _transact(
        self,
        record: AssetRecord,
        actions: list[Any],
        condition: Any,
        items: list[TransactionItem],
        counted: int,
    ) -> None:
        """The asset's update and ``items`` in one transaction (the first ``counted`` of
        them are counts, whose refusal means no room)."""
        mine = TransactionItem.update(record, actions, condition)
        try:
            transact(self.connection(), [mine, *items], "update asset and its counts")
        except Refused as refused:
            first = refused.positions[0]
            if first == 0:
                raise ConditionFailed() from None
            if first - 1 < counted:
                raise NoRoom() from None
            raise RefusedAlongside(first - 1 - counted) from None

    def connection(self) -> Any:
        """The asset table's own connection (one botocore client per table, reused); a
        transaction across tables goes through it."""
        return self.record._get_connection().connection

    def change_item(self, asset: Asset, transition: Transition) -> TransactionItem:
        """Another asset's decided change, as one write alongside ``apply``'s: on the
        status the transition expects and the version ``asset`` was read at. Only for a
        change that moves no usage or folder count (those are ``apply``'s to derive)."""
        after = asset.model_copy(update=dict(transition.changes))
        if count_changes(asset, after):
            raise ValueError(f"asset {asset.asset_id}'s change moves counts: apply() it")
        actions = [
            *_actions(transition),
            *_derived_actions(after, asset.created_at.isoformat()),
            AssetRecord.updated_at.set(utcnow()),
        ]
        # The record carries the version read: pynamodb conditions the write on it.
        record = self.record(asset.asset_id, version=asset.version)
        return TransactionItem.update(
            record, actions, AssetRecord.status == transition.expect_status.value
        )

    def put_tombstone(self, asset: Asset, *, purged_at: datetime, keep_until: datetime) -> bool:
        """Record that a deleted asset was purged (restore then answers 409), unless a
        record with its id exists; False then."""
        tombstone = asset.model_copy(
            update={"purged_at": purged_at, "expires_at": keep_until, "variants": {}}
        )
        record = self._to_record(tombstone)
        try:
            with translated("record a purge", passing=_CONDITION_FAILED):
                record.save(condition=AssetRecord.asset_id.does_not_exist())
        except ConditionFailed:
            return False
        return True

    def _get_record(self, asset_id: str) -> AssetRecord | None:
        with translated("read asset"):
            try:
                return self.record.get(asset_id, consistent_read=True)
            except DoesNotExist:
                return None

    def _to_record(self, asset: Asset) -> AssetRecord:
        created_at = asset.created_at.isoformat()
        return self.record(
            asset.asset_id,
            user_id=asset.user_id,
            created_at=created_at,
            updated_at=asset.updated_at,
            scope=asset.scope,
            status=asset.status.value,
            bucket=asset.bucket,
            key=asset.key,
            filename=asset.filename,
            original_filename=asset.original_filename,
            declared_type=asset.declared_type,
            declared_size=asset.declared_size,
            profile_id=asset.profile_id,
            folder=asset.folder,
            alt_text=asset.alt_text,
            caption=asset.caption,
            tags=list(asset.tags) or None,
            upload_id=asset.upload_id,
            part_size=asset.part_size,
            part_count=asset.part_count,
            checksum_sha256=asset.checksum_sha256,
            upload_session=asset.upload_session,
            tier=asset.tier,
            mime_type=asset.mime_type,
            size=asset.size,
            checksum=asset.checksum,
            usage_count=asset.usage_count or None,
            last_used_at=asset.last_used_at,
            deleted_at=asset.deleted_at,
            purged_at=asset.purged_at,
            expires_at=_epoch(asset.expires_at),
            **_listing_keys(asset, created_at),  # type: ignore[arg-type]
        )


class ConditionFailed(Exception):
    pass


@contextmanager
def translated(doing: str, passing: str | None = None) -> Iterator[None]:
    """Library errors become domain errors here; their text goes to the log only."""
    try:
        yield
    except PynamoDBException as error:
        code = getattr(error, "cause_response_code", None)
        if passing is not None and code == passing:
            raise ConditionFailed from error
        # Logged with the correlation id Powertools keeps on the logger; never answered.
        logger.exception("table request failed", extra={"doing": doing, "code": code})
        if code is None or code in OUTAGE_CODES:
            raise TableUnavailable() from error
        raise TableRequestRefused() from error


def _actions(transition: Transition) -> list[Any]:
    actions: list[Any] = []
    for name, value in transition.changes.items():
        attribute = getattr(AssetRecord, name)
        if value is None or (name == "tags" and not value):
            actions.append(attribute.remove())
        elif name == "expires_at":
            actions.append(attribute.set(_epoch(value)))
        elif name in ("variants", "requested_variants"):
            actions.append(attribute.set({k: v.stored() for k, v in value.items()}))
        else:
            actions.append(attribute.set(getattr(value, "value", value)))
    return actions


def _derived_actions(after: Asset, created_at: str) -> list[Any]:
    """The index keys and search text of the asset as it will be (createdAt never changes)."""
    actions: list[Any] = []
    for name, value in _listing_keys(after, created_at).items():
        attribute = getattr(AssetRecord, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


def _listing_keys(asset: Asset, created_at: str) -> dict[str, str | None]:
    """Where an asset is listed: its shelf (the owner's library, or their trash) and its
    key in each library index; nothing for a purged record."""
    status_key = status_sort_key(asset.status.value, created_at)
    if asset.purged_at is not None:
        return {"status_created_at": None, **dict.fromkeys(_DERIVED[1:])}
    shelf = (
        f"{asset.user_id}{TRASH_SUFFIX}" if asset.status is AssetStatus.DELETED else asset.user_id
    )
    size = asset.size if asset.size is not None else (asset.declared_size or 0)
    name = asset.original_filename.casefold()[:400]
    searched = (asset.original_filename, asset.filename, asset.alt_text or "", asset.caption or "")
    return {
        "status_created_at": status_key,
        "shelf": shelf,
        "size_key": f"{size:015d}|{created_at}",
        "name_key": f"{name}|{created_at}",
        "folder_shelf": f"{shelf}|{asset.folder or NO_FOLDER}",
        "type_shelf": f"{shelf}|{category_of(asset.mime_type or asset.declared_type)}",
        "search_text": "\n".join(searched).casefold(),
        "quarantine": names.QUARANTINED if asset.status is AssetStatus.QUARANTINED else None,
    }


# What separates a sort key's leading part from the createdAt that ends it.
_SORT_SEPARATORS = {
    names.SHELF_INDEX_SORT_KEY: "\x00",  # createdAt alone
    names.SIZE_INDEX_SORT_KEY: "|",
    names.NAME_INDEX_SORT_KEY: "|",
    names.STATUS_INDEX_SORT_KEY: "#",
}


@dataclass(frozen=True)
class _Plan:
    """How a library query is answered: which index, which part of it, what is filtered."""

    index: Any
    hash_key: str
    range_condition: Any
    filter: Any
    forward: bool
    hash_attribute: str
    sort_attribute: str

    def sort_value_fits(self, value: str) -> bool:
        head, separator, created_at = value.rpartition(_SORT_SEPARATORS[self.sort_attribute])
        if separator == "" and self.sort_attribute != names.SHELF_INDEX_SORT_KEY:
            return False
        if self.sort_attribute == names.SIZE_INDEX_SORT_KEY and not (
            len(head) == 15 and head.isdigit()
        ):
            return False
        if self.sort_attribute == names.STATUS_INDEX_SORT_KEY and head not in {
            status.value for status in AssetStatus
        }:
            return False
        try:
            datetime.fromisoformat(created_at)
        except ValueError:
            return False
        return True

    def start_key(self, start_after: tuple[str, str]) -> dict[str, Any]:
        """The ExclusiveStartKey of a page that goes on after ``start_after``."""
        asset_id, sort_value = start_after
        return {
            names.TABLE_PARTITION_KEY: {"S": asset_id},
            self.hash_attribute: {"S": self.hash_key},
            self.sort_attribute: {"S": sort_value},
        }


def _quarantine_plan(
    record: type[AssetRecord], scan_status: str | None, user_id: str | None
) -> _Plan:
    filters = []
    if scan_status is not None:
        filters.append(AssetRecord.scan_status == scan_status)
    if user_id is not None:
        filters.append(AssetRecord.user_id == user_id)
    combined = None
    for condition in filters:
        combined = condition if combined is None else combined & condition
    return _Plan(
        record.quarantine_index,
        names.QUARANTINED,
        None,
        combined,
        False,
        names.QUARANTINE_INDEX_PARTITION_KEY,
        names.QUARANTINE_INDEX_SORT_KEY,
    )


def _plan(record: type[AssetRecord], query: LibraryQuery) -> _Plan:
    index: Any
    shelf = f"{query.user_id}{TRASH_SUFFIX}" if query.deleted else query.user_id
    filters: list[Any] = []
    range_condition = None
    forward = query.sort in ("createdAt", "size", "filename")
    folder_used = type_used = status_used = False
    if query.sort in ("size", "-size"):
        index, hash_key = record.size_index, shelf
        hash_attribute, sort_attribute = names.SHELF_ATTRIBUTE, names.SIZE_INDEX_SORT_KEY
    elif query.sort == "filename":
        index, hash_key = record.name_index, shelf
        hash_attribute, sort_attribute = names.SHELF_ATTRIBUTE, names.NAME_INDEX_SORT_KEY
    elif query.folder is not None and not query.recursive:
        index, hash_key = record.folder_index, f"{shelf}|{query.folder}"
        hash_attribute, sort_attribute = (
            names.FOLDER_INDEX_PARTITION_KEY,
            names.SHELF_INDEX_SORT_KEY,
        )
        folder_used = True
    elif query.type is not None:
        index, hash_key = record.type_index, f"{shelf}|{query.type}"
        hash_attribute, sort_attribute = names.TYPE_INDEX_PARTITION_KEY, names.SHELF_INDEX_SORT_KEY
        type_used = True
    elif query.status is not None and not query.deleted:
        index, hash_key = record.status_index, query.user_id
        hash_attribute, sort_attribute = (
            names.STATUS_INDEX_PARTITION_KEY,
            names.STATUS_INDEX_SORT_KEY,
        )
        # A listed status is never DELETED, and a purged record is in no index: the
        # status index's part for it is exactly the library's.
        range_condition = AssetRecord.status_created_at.startswith(f"{query.status.value}#")
        status_used = True
    else:
        index, hash_key = record.shelf_index, shelf
        hash_attribute, sort_attribute = names.SHELF_ATTRIBUTE, names.SHELF_INDEX_SORT_KEY
    if query.folder is not None and not folder_used:
        if query.recursive and query.folder != NO_FOLDER:
            filters.append(
                (AssetRecord.folder == query.folder)
                | AssetRecord.folder.startswith(f"{query.folder}/")
            )
        else:
            filters.append(AssetRecord.folder_shelf == f"{shelf}|{query.folder}")
    if query.type is not None and not type_used:
        filters.append(AssetRecord.type_shelf == f"{shelf}|{query.type}")
    if query.status is not None and not status_used:
        filters.append(AssetRecord.status == query.status.value)
    if query.mime_type is not None:
        filters.append(AssetRecord.mime_type == query.mime_type)
    if query.scope is not None:
        filters.append(AssetRecord.scope == query.scope)
    for tag in query.tags:
        filters.append(AssetRecord.tags.contains(tag))
    if query.q:
        filters.append(AssetRecord.search_text.contains(query.q.casefold()))
    combined = None
    for condition in filters:
        combined = condition if combined is None else combined & condition
    return _Plan(
        index, hash_key, range_condition, combined, forward, hash_attribute, sort_attribute
    )


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _to_asset(record: AssetRecord) -> Asset:
    data = dict(record.attribute_values)
    for derived in _DERIVED:
        data.pop(derived, None)
    data["usage_count"] = int(data.get("usage_count") or 0)
    variants = data.pop("variants", None)
    requested = data.pop("requested_variants", None)
    expires = data.pop("expires_at", None)
    data["tags"] = list(data.get("tags") or [])
    return Asset(
        **data,
        variants=variants.as_dict() if variants is not None else {},
        requested_variants=requested.as_dict() if requested is not None else {},
        expires_at=datetime.fromtimestamp(int(expires), UTC) if expires else None,
    )
