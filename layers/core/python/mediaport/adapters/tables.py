"""The asset table: the only module that talks to DynamoDB.

It returns domain models, never pynamodb items, and turns a ``Transition`` decided by the
model into one conditional write. pynamodb and botocore errors are translated here, once:
a caller sees ``TableUnavailable`` (a real outage: retry) or ``TableRequestRefused`` (our
bug: never "retry"), and never a library's text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from mediaport.errors import TableRequestRefused, TableUnavailable
from mediaport.model import Asset, AssetStatus, Transition, utcnow
from mediaport.observability import logger

if TYPE_CHECKING:
    from mediaport.adapters.usage import UsageTable

_CONDITION_FAILED = "ConditionalCheckFailedException"
# A transaction item's cancellation reason when its own condition failed.
_CANCELLED_BY_CONDITION = "ConditionalCheckFailed"
# What DynamoDB (or the way to it) answers when it is the outage, not the request
# (read by every DynamoDB caller, Powertools' idempotency store included).
OUTAGE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
_MAX_ATTEMPTS = 5


class OwnerIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.OWNER_INDEX_NAME
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name=names.OWNER_INDEX_PARTITION_KEY)
    created_at = UnicodeAttribute(range_key=True, attr_name=names.OWNER_INDEX_SORT_KEY)


class StatusIndex(GlobalSecondaryIndex["AssetRecord"]):
    class Meta:
        index_name = names.STATUS_INDEX_NAME
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name=names.STATUS_INDEX_PARTITION_KEY)
    status_created_at = UnicodeAttribute(range_key=True, attr_name=names.STATUS_INDEX_SORT_KEY)


class AssetRecord(Model):
    """The stored shape of an asset (attribute names as in DESIGN §3)."""

    class Meta:
        table_name = "unbound"  # bound per table by ``_record_class``

    asset_id = UnicodeAttribute(hash_key=True, attr_name=names.TABLE_PARTITION_KEY)
    user_id = UnicodeAttribute(attr_name="userId")
    # ISO-8601 text, so the indexes sort by it.
    created_at = UnicodeAttribute(attr_name="createdAt")
    status_created_at = UnicodeAttribute(attr_name=names.STATUS_INDEX_SORT_KEY)
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
    mime_type = UnicodeAttribute(null=True, attr_name="mimeType")
    size = NumberAttribute(null=True)
    checksum = UnicodeAttribute(null=True)
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    aspect_ratio = NumberAttribute(null=True, attr_name="aspectRatio")
    dominant_color = UnicodeAttribute(null=True, attr_name="dominantColor")
    placeholder = UnicodeAttribute(null=True)
    variants: MapAttribute[str, Any] = MapAttribute(null=True)
    processing = UnicodeAttribute(null=True)
    reject_reason = UnicodeAttribute(null=True, attr_name="rejectReason")
    reject_detail = UnicodeAttribute(null=True, attr_name="rejectDetail")
    # DynamoDB TTL, epoch seconds: set while PENDING and once REJECTED.
    expires_at = NumberAttribute(null=True, attr_name=names.TTL_ATTRIBUTE)
    version = VersionAttribute()

    owner_index = OwnerIndex()
    status_index = StatusIndex()


@functools.cache
def _record_class(table_name: str, region: str) -> type[AssetRecord]:
    """``AssetRecord`` bound to one table (a subclass each, so bindings never mix)."""
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type(f"AssetRecord_{table_name}", (AssetRecord,), {"Meta": meta})


def status_sort_key(status: str, created_at: str) -> str:
    """The status index's sort key: a user's assets in one status, by creation time."""
    return f"{status}#{created_at}"


class NoRoom(Exception):
    """A growing usage change did not fit the owner's quota: nothing was written."""


class AssetTable:
    """The asset table named by the settings (and the usage table its changes count in)."""

    def __init__(self, table_name: str, region: str, usage: UsageTable | None = None) -> None:
        self.record = _record_class(table_name, region)
        self.usage = usage

    def add_pending(self, asset: Asset) -> None:
        """Store a new PENDING asset; never overwrites one with the same id."""
        record = self._to_record(asset)
        with translated("add asset"):
            record.save(condition=AssetRecord.asset_id.does_not_exist())

    def get(self, asset_id: str) -> Asset | None:
        """The asset with this id, or None."""
        record = self._get_record(asset_id)
        return _to_asset(record) if record is not None else None

    def list_of(
        self,
        user_id: str,
        status: AssetStatus | None,
        limit: int,
        start_after: dict[str, Any] | None,
    ) -> tuple[list[Asset], dict[str, Any] | None]:
        """One page of a user's assets, newest first, and where the next page starts.

        With a status, the status index answers exactly; without, the owner index does,
        and DELETED assets (not listed) are filtered out of at most ``limit`` evaluated
        items, so the page may come back short with a cursor to go on.
        """
        with translated("list assets"):
            if status is not None:
                results = self.record.status_index.query(
                    user_id,
                    AssetRecord.status_created_at.startswith(f"{status.value}#"),
                    scan_index_forward=False,
                    page_size=limit,
                    last_evaluated_key=start_after,
                )
            else:
                results = self.record.owner_index.query(
                    user_id,
                    scan_index_forward=False,
                    filter_condition=AssetRecord.status != AssetStatus.DELETED.value,
                    page_size=limit,
                    last_evaluated_key=start_after,
                )
            # Exactly one Query call, whatever else the user has stored.
            page = next(results.page_iter, None) or {}
        records = [self.record.from_raw_data(item) for item in page.get("Items", [])]
        return [_to_asset(record) for record in records], results.page_iter.last_evaluated_key

    def apply(self, transition: Transition) -> Asset | None:
        """Make a decided change if the stored asset is still as expected; else None."""
        condition = AssetRecord.status == transition.expect_status.value
        if transition.expect_checksum is not None:
            condition &= AssetRecord.checksum == transition.expect_checksum
        if transition.expect_processing:
            condition &= AssetRecord.processing.is_in(
                *(state.value for state in transition.expect_processing)
            )
        if transition.usage is not None and self.usage is not None:
            return self._apply_counted(transition, condition)
        return self.update_if(
            transition.asset_id, condition, lambda record: _actions(transition, record)
        )

    def _apply_counted(self, transition: Transition, condition: Any) -> Asset | None:
        """The change and its usage rows in one transaction: both are written, or neither.

        ``NoRoom`` when a growing change does not fit the quota (nothing is written); None
        when the asset is no longer as the transition expects.
        """
        assert transition.usage is not None
        assert self.usage is not None
        usage_updates = self.usage.usage_updates(transition.usage, transition.quota)
        for _attempt in range(_MAX_ATTEMPTS):
            record = self._get_record(transition.asset_id)
            if record is None:
                return None
            stamped = [*_actions(transition, record), AssetRecord.updated_at.set(utcnow())]
            try:
                # The asset table's own connection (one botocore client per table, reused).
                connection = self.record._get_connection().connection
                with TransactWrite(connection=connection) as transaction:
                    transaction.update(record, actions=stamped, condition=condition)
                    for usage_record, actions, usage_condition in usage_updates:
                        transaction.update(usage_record, actions=actions, condition=usage_condition)
            except TransactWriteError as error:
                codes = [getattr(reason, "code", None) for reason in error.cancellation_reasons]
                if codes and codes[0] == _CANCELLED_BY_CONDITION:
                    current = self._get_record(transition.asset_id)
                    if current is None or current.version == record.version:
                        return None  # the stated condition failed, not the version check
                    continue
                if _CANCELLED_BY_CONDITION in codes[1:]:
                    raise NoRoom() from None
                if "TransactionConflict" in codes:
                    continue  # another transaction held one of the items: try again
                with translated("update asset and usage"):
                    raise
            return self.get(transition.asset_id)
        return None

    def update_if(
        self, asset_id: str, condition: Any, actions: Callable[[AssetRecord], list[Any]]
    ) -> Asset | None:
        """Apply ``actions(current record)`` once if ``condition`` holds; else None.

        The stated condition decides. pynamodb adds a version condition too: a concurrent
        edit of other fields makes this retry with the same condition, never lose a write.
        """
        for _attempt in range(_MAX_ATTEMPTS):
            record = self._get_record(asset_id)
            if record is None:
                return None
            stamped = [*actions(record), AssetRecord.updated_at.set(utcnow())]
            try:
                with translated("update asset", passing=_CONDITION_FAILED):
                    record.update(actions=stamped, condition=condition)
            except ConditionFailed:
                current = self._get_record(asset_id)
                if current is None or current.version == record.version:
                    return None  # the stated condition failed, not the version check
                continue
            return _to_asset(record)
        return None

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
            status_created_at=status_sort_key(asset.status.value, created_at),
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
            expires_at=_epoch(asset.expires_at),
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


def _actions(transition: Transition, record: AssetRecord) -> list[Any]:
    actions: list[Any] = []
    for name, value in transition.changes.items():
        attribute = getattr(AssetRecord, name)
        if value is None:
            actions.append(attribute.remove())
        elif name == "expires_at":
            actions.append(attribute.set(_epoch(value)))
        elif name == "variants":
            actions.append(attribute.set({k: v.model_dump() for k, v in value.items()}))
        else:
            actions.append(attribute.set(getattr(value, "value", value)))
    if "status" in transition.changes:
        # The status index's key moves with the status; createdAt never changes.
        status = transition.changes["status"].value
        actions.append(
            AssetRecord.status_created_at.set(status_sort_key(status, record.created_at))
        )
    return actions


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _to_asset(record: AssetRecord) -> Asset:
    data = dict(record.attribute_values)
    data.pop("status_created_at", None)
    variants = data.pop("variants", None)
    expires = data.pop("expires_at", None)
    data["tags"] = list(data.get("tags") or [])
    return Asset(
        **data,
        variants=variants.as_dict() if variants is not None else {},
        expires_at=datetime.fromtimestamp(int(expires), UTC) if expires else None,
    )
