"""Keep one promise moto does not: DynamoDB's conditional writes are atomic.

moto evaluates a ``ConditionExpression`` and then writes, with no lock between the two,
so two threads can both pass ``status = PENDING`` and both write. DynamoDB never lets
that happen, and Mediaport's "whichever comes first wins" relies on it. This serializes
moto's DynamoDB writes (the emulator, not our code) in the local stack and in tests.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_lock = threading.RLock()


def make_dynamodb_writes_atomic() -> None:
    """Wrap moto's DynamoDB write operations in one lock (idempotent)."""
    for name in _WRITES:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_mediaport_atomic", False):
            continue
        setattr(DynamoDBBackend, name, _atomic(method))


def _atomic(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    locked._mediaport_atomic = True  # type: ignore[attr-defined]
    return locked
