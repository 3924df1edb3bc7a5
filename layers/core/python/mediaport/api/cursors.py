"""Pagination cursors: opaque to clients, and validated to the exact shape on return.

A cursor carries where a page ended (the asset and its key in the listing's index) and
the fingerprint of the listing it belongs to: the caller, the filters and the order.
Decoding accepts only the shape this API produced for this caller and this listing, so a
malformed, tampered or foreign cursor is a 400 naming ``cursor``, never a request
DynamoDB refuses. The index's partition is never taken from a cursor: it is the caller's.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Protocol

from mediaport.errors import InvalidCursor
from mediaport.keys import is_asset_id

_VERSION = 2
_MAX_SORT_VALUE = 1024


class Listing(Protocol):
    """What a cursor is bound to: whose listing it is, and its filters and order."""

    @property
    def user_id(self) -> str: ...

    def fingerprint(self) -> str: ...


def encode_cursor(start_after: tuple[str, str], query: Listing) -> str:
    """The cursor for a page of ``query`` that ended after ``start_after``."""
    asset_id, sort_value = start_after
    payload = {
        "v": _VERSION,
        "u": query.user_id,
        "a": asset_id,
        "k": sort_value,
        "s": query.fingerprint(),
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, query: Listing) -> tuple[str, str]:
    """Where the page a cursor stands for starts; ``InvalidRequest`` for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor("is not a cursor this API returned") from None
    if not isinstance(payload, dict) or set(payload) != {"v", "u", "a", "k", "s"}:
        raise InvalidCursor("is not a cursor this API returned")
    if payload["v"] != _VERSION or not all(isinstance(payload[n], str) for n in "uaks"):
        raise InvalidCursor("is not a cursor this API returned")
    if payload["u"] != query.user_id:
        raise InvalidCursor("belongs to another user's listing")
    if payload["s"] != query.fingerprint():
        raise InvalidCursor("belongs to a listing with other filters or another order")
    if not is_asset_id(payload["a"]) or len(payload["k"]) > _MAX_SORT_VALUE:
        raise InvalidCursor("is not a cursor this API returned")
    return payload["a"], payload["k"]
