"""Keep three promises moto does not, in the local stack and in tests (the emulator is
patched, never our code).

1. DynamoDB's conditional writes are atomic. moto evaluates a ``ConditionExpression``
and then writes, with no lock between the two, so two threads can both pass
``status = PENDING`` and both write. DynamoDB never lets that happen, and Mediaport's
"whichever comes first wins" relies on it. This serializes moto's DynamoDB writes.
2. A read sees committed items only, whole. moto returns its live ``Item`` objects and
serializes them after the call, so a read racing a write could answer half an update
(the new ``status`` with the old ``version``), or an item of a transaction about to be
rolled back. A writer that read such an item passed the version check against the
rolled-back item: an upload became READY without its usage (seen in the usage race
test as 8 READY assets counted as 7). Reads and the items writes return are copied under
the lock, and a transaction checks every condition before it writes anything, so it
rolls back only on a malformed write, item by item.
3. Deleting the tags of a missing object answers ``NoSuchKey``. moto 5.2.5 fails with an
AttributeError, a 500, when the object went between the request and the call (a racing
rejection deleted it); S3 answers 404, which the storage adapter already treats as gone.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.s3.exceptions import MissingKey
from moto.s3.models import S3Backend

# Every read and write of moto's DynamoDB goes through one lock, and leaves it with a copy.
_CALLS = ("get_item", "query", "scan", "put_item", "update_item", "delete_item")
_lock = threading.RLock()
# moto's own methods, as they were before any patch (a transaction writes through these).
_original: dict[str, Callable[..., Any]] = {}


def keep_aws_promises() -> None:
    """Both patches below (idempotent)."""
    make_dynamodb_writes_atomic()
    answer_missing_keys_on_untag()


def answer_missing_keys_on_untag() -> None:
    """DeleteObjectTagging of a missing key raises NoSuchKey, as S3 answers (idempotent)."""
    method = S3Backend.delete_object_tagging
    if getattr(method, "_mediaport_missing_key", False):
        return

    @functools.wraps(method)
    def delete_object_tagging(
        self: S3Backend, bucket_name: str, key_name: str, version_id: str | None = None
    ) -> None:
        if self.get_object(bucket_name, key_name, version_id=version_id) is None:
            raise MissingKey(key=key_name)
        method(self, bucket_name, key_name, version_id=version_id)

    delete_object_tagging._mediaport_missing_key = True  # type: ignore[attr-defined]
    S3Backend.delete_object_tagging = delete_object_tagging  # type: ignore[method-assign]


def make_dynamodb_writes_atomic() -> None:
    """Serialize moto's DynamoDB reads and writes, copy what they answer under the lock,
    and check a transaction's conditions before writing (idempotent)."""
    for name in _CALLS:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_mediaport_atomic", False):
            continue
        _original[name] = method
        setattr(DynamoDBBackend, name, _atomic(method))
    if not getattr(DynamoDBBackend.transact_write_items, "_mediaport_atomic", False):
        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


def _atomic(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            # A copy: moto serializes the answer after the call, when another write may be
            # changing the live item.
            return copy.deepcopy(method(*args, **kwargs))

    locked._mediaport_atomic = True  # type: ignore[attr-defined]
    return locked


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems as DynamoDB runs it: every condition is checked on the items as
    they are, and only when all hold are the writes made. moto checks and writes one item
    after the other, deep-copying every table the transaction touches (all its items and
    its whole stream: slower with each write) to swap back when a later check fails.

    The items are distinct (as in moto, one write per item), so checking all first is the
    same as checking each before its write. A write that still fails (a malformed update)
    undoes the ones before it, item by item, stream records included.
    """
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _lock:
        writes = [_transaction_write(self, entry) for entry in transact_items]
        seen: set[tuple[str, str]] = set()
        for write in writes:
            item = (write.table.name, str(sorted(write.key.items())))
            if item in seen:
                raise MultipleTransactionsException()
            seen.add(item)
        refusals = [_refusal(write) for write in writes]
        if any(code is not None for code, _, _ in refusals):
            raise TransactionCanceledException(refusals)
        _write_all(self, writes)


_transact_write_items._mediaport_atomic = True  # type: ignore[attr-defined]


def _refusal(write: _TransactionWrite) -> tuple[str | None, str | None, dict[str, Any] | None]:
    try:
        return write.refusal()
    except MockValidationException:
        raise
    except Exception as error:  # as moto answers a write it cannot evaluate (a malformed key)
        return (type(error).__name__, str(error), None)


class _TransactionWrite:
    """One write of a transaction: its item's keys, its condition, and how to undo it."""

    def __init__(
        self, kind: str, op: dict[str, Any], table: Table, key: dict[str, Any], backend: Any
    ) -> None:
        self.kind = kind
        self.op = op
        self.table = table
        self.key = key
        self.hash_key, self.range_key = backend.get_keys_value(table, key)

    def current(self) -> Item | None:
        return self.table.get_item(self.hash_key, self.range_key)

    def refusal(self) -> tuple[str | None, str | None, dict[str, Any] | None]:
        """(None, None, None) when the condition holds; DynamoDB's reason otherwise."""
        expression = self.op.get("ConditionExpression")
        if self.kind == "ConditionCheck" or expression is not None:
            current = self.current()
            condition = get_filter_expression(
                expression,
                self.op.get("ExpressionAttributeNames"),
                self.op.get("ExpressionAttributeValues"),
            )
            if not condition.expr(current):
                wanted = self.op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                item = current.to_json()["Attributes"] if wanted and current else None
                return ("ConditionalCheckFailed", "The conditional request failed", item)
        return (None, None, None)

    def write(self, backend: DynamoDBBackend) -> None:
        op, name = self.op, self.table.name
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        if self.kind == "Put":
            _original["put_item"](backend, name, op["Item"])
        elif self.kind == "Delete":
            _original["delete_item"](backend, name, self.key, names, values)
        elif self.kind == "Update":
            _original["update_item"](
                backend,
                name,
                self.key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=names,
                expression_attribute_values=values,
            )

    def restore(self, item: Item | None) -> None:
        """Put the item back as it was before this transaction (absent when None)."""
        items: dict[DynamoType, Any] = self.table.items
        if self.range_key is not None:
            if item is None:
                items[self.hash_key].pop(self.range_key, None)
            else:
                items[self.hash_key][self.range_key] = item
        elif item is None:
            items.pop(self.hash_key, None)
        else:
            items[self.hash_key] = item


def _transaction_write(backend: DynamoDBBackend, entry: dict[str, Any]) -> _TransactionWrite:
    if len(entry) > 1:
        raise TransactWriteSingleOpException()
    kind, op = next(iter(entry.items()))
    if kind not in {"ConditionCheck", "Put", "Delete", "Update"}:
        raise MockValidationException(f"Unsupported transaction operation: {kind}")
    table = backend.get_table(op["TableName"])
    if kind == "Put":
        item = op["Item"]
        names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
        missing = [name for name in names if name not in item]
        if missing:
            raise MockValidationException(
                f"One or more parameter values were invalid: Missing the key {missing[0]} "
                "in the item"
            )
        key = {name: item[name] for name in names}
    else:
        key = op["Key"]
    return _TransactionWrite(kind, op, table, key, backend)


def _write_all(backend: DynamoDBBackend, writes: list[_TransactionWrite]) -> None:
    """Make every write; if one fails, undo those made (items and stream records)."""
    streams = {
        write.table.name: (write.table, len(write.table.stream_shard.items))
        for write in writes
        if write.table.stream_shard is not None
    }
    done: list[tuple[_TransactionWrite, Item | None]] = []
    for index, write in enumerate(writes):
        before = copy.deepcopy(write.current())
        try:
            write.write(backend)
        except Exception as error:
            for made, item in reversed([*done, (write, before)]):
                made.restore(item)
            for table, length in streams.values():
                if table.stream_shard is not None:
                    del table.stream_shard.items[length:]
            if isinstance(error, MockValidationException):
                raise
            reasons: list[tuple[str | None, str | None, dict[str, Any] | None]] = [
                (None, None, None)
            ] * len(writes)
            reasons[index] = (type(error).__name__, str(error), None)
            raise TransactionCanceledException(reasons) from error
        done.append((write, before))
