"""Pagination cursors: opaque to clients, and validated to the exact key shape on return.

A cursor carries the DynamoDB key where a page ended. Decoding accepts only the shape
this API produced for this caller and this listing, so a malformed, tampered or foreign
cursor is a 400 naming ``cursor``, never a request DynamoDB refuses.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from mediaport import names
from mediaport.errors import InvalidRequest
from mediaport.keys import is_asset_id
from mediaport.model import AssetStatus

_VERSION = 1


def encode_cursor(last_key: dict[str, Any], status: AssetStatus | None) -> str:
    """The cursor for a page that ended at ``last_key`` (a DynamoDB key, typed values)."""
    sort_name = names.STATUS_INDEX_SORT_KEY if status else names.OWNER_INDEX_SORT_KEY
    payload = {
        "v": _VERSION,
        "u": last_key[names.OWNER_INDEX_PARTITION_KEY]["S"],
        "a": last_key[names.TABLE_PARTITION_KEY]["S"],
        "k": last_key[sort_name]["S"],
        "s": status.value if status else None,
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, user_id: str, status: AssetStatus | None) -> dict[str, Any]:
    """The DynamoDB key a cursor stands for; ``InvalidRequest`` for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise _invalid("is not a cursor this API returned") from None
    if not isinstance(payload, dict) or set(payload) != {"v", "u", "a", "k", "s"}:
        raise _invalid("is not a cursor this API returned")
    if payload["v"] != _VERSION or not all(isinstance(payload[n], str) for n in "uak"):
        raise _invalid("is not a cursor this API returned")
    if payload["u"] != user_id:
        raise _invalid("belongs to another user's listing")
    if payload["s"] != (status.value if status else None):
        raise _invalid("belongs to a listing with other filters")
    if not is_asset_id(payload["a"]) or not _valid_sort_key(payload["k"], status):
        raise _invalid("is not a cursor this API returned")
    sort_name = names.STATUS_INDEX_SORT_KEY if status else names.OWNER_INDEX_SORT_KEY
    return {
        names.TABLE_PARTITION_KEY: {"S": payload["a"]},
        names.OWNER_INDEX_PARTITION_KEY: {"S": user_id},
        sort_name: {"S": payload["k"]},
    }


def _valid_sort_key(value: str, status: AssetStatus | None) -> bool:
    if status is not None:
        prefix = f"{status.value}#"
        if not value.startswith(prefix):
            return False
        value = value.removeprefix(prefix)
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _invalid(why: str) -> InvalidRequest:
    return InvalidRequest(f"the cursor {why}", errors=[{"field": "cursor", "detail": why}])
