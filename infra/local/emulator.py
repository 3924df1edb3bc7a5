"""Keep two promises moto does not, in the local stack and in tests (the emulator is
patched, never our code).

1. DynamoDB's conditional writes are atomic. moto evaluates a ``ConditionExpression``
and then writes, with no lock between the two, so two threads can both pass
``status = PENDING`` and both write. DynamoDB never lets that happen, and Mediaport's
"whichever comes first wins" relies on it. This serializes moto's DynamoDB writes.
2. Deleting the tags of a missing object answers ``NoSuchKey``. moto 5.2.5 fails with an
AttributeError, a 500, when the object went between the request and the call (a racing
rejection deleted it); S3 answers 404, which the storage adapter already treats as gone.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.s3.exceptions import MissingKey
from moto.s3.models import S3Backend

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_lock = threading.RLock()


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
