"""CloudFront standard log files, read for the bytes each asset served (pure, no I/O).

A log file (standard logging, legacy or v2 in its W3C format) is gzip'd, tab-separated
text: ``#Version`` and ``#Fields`` header lines, then one line per request. The
``#Fields`` line names the columns, so their order and selection may change; without one
the documented order is assumed. What counts as served: ``sc-bytes`` (the bytes sent to
the viewer, headers included) of a GET answered 200 or 206 for one of our keys, in the
month of its ``date`` (UTC). A 304, an error or a HEAD sent no body: it counts nothing.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from mediaport.keys import is_asset_id
from mediaport.names import DERIVED_PREFIX, RELEASED_PREFIX, UPLOAD_PREFIX

# The fields of a standard log line, in the documented order (CloudFront Developer Guide,
# "Standard logging reference": 33 fields).
DOCUMENTED_FIELDS = (
    *("date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)"),
    *("cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query"),
    *("cs(Cookie)", "x-edge-result-type", "x-edge-request-id", "x-host-header"),
    *("cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for", "ssl-protocol"),
    *("ssl-cipher", "x-edge-response-result-type", "cs-protocol-version", "fle-status"),
    *("fle-encrypted-fields", "c-port", "time-to-first-byte", "x-edge-detailed-result-type"),
    *("sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end"),
)
_NEEDED = ("date", "sc-bytes", "cs-method", "cs-uri-stem", "sc-status")
_SERVED_STATUSES = frozenset({"200", "206"})
_GZIP_MAGIC = b"\x1f\x8b"
# The key prefixes the CDN serves, and how many path segments their keys have.
_KEY_SHAPES = {UPLOAD_PREFIX: 4, RELEASED_PREFIX: 4, DERIVED_PREFIX: 5}


class NotALogFile(ValueError):
    """The file is not a CloudFront standard log (its fields lack what is counted)."""


@dataclass(frozen=True)
class Served:
    """Bytes one asset's objects (original and variants) served in one month."""

    asset_id: str
    month: str
    bytes: int


def asset_of_key(key: str) -> str | None:
    """The asset id of a key the CDN serves (an original under ``media/`` or
    ``released/``, a variant under ``derived/``); None for anything else."""
    parts = key.split("/")
    for prefix, length in _KEY_SHAPES.items():
        if f"{parts[0]}/" == prefix and len(parts) == length and all(parts[1:]):
            return parts[2] if is_asset_id(parts[2]) else None
    return None


def read_log(data: bytes) -> str:
    """A log file's text, gunzipped when it is compressed (v2 may deliver it plain)."""
    try:
        raw = gzip.decompress(data) if data[:2] == _GZIP_MAGIC else data
    except (OSError, EOFError) as error:
        raise NotALogFile(f"the log file is not readable gzip: {error}") from None
    return raw.decode("utf-8", errors="replace")


def served_bytes(text: str) -> list[Served]:
    """The bytes each asset served per month, from a log file's text."""
    totals: dict[tuple[str, str], int] = {}
    for asset_id, month, size in _served_lines(text.splitlines()):
        totals[(asset_id, month)] = totals.get((asset_id, month), 0) + size
    return [Served(asset_id, month, size) for (asset_id, month), size in sorted(totals.items())]


def _served_lines(lines: Iterable[str]) -> Iterator[tuple[str, str, int]]:
    fields: list[str] | tuple[str, ...] = DOCUMENTED_FIELDS
    for line in lines:
        if line.startswith("#Fields:"):
            fields = line.removeprefix("#Fields:").split()
            missing = [name for name in _NEEDED if name not in fields]
            if missing:
                raise NotALogFile(f"the log's fields lack {', '.join(missing)}")
            continue
        if not line.strip() or line.startswith("#"):
            continue
        values = dict(zip(fields, line.split("\t"), strict=False))
        if values.get("cs-method") != "GET" or values.get("sc-status") not in _SERVED_STATUSES:
            continue
        # The stem is URL-encoded as it was requested ("-" when empty).
        asset_id = asset_of_key(unquote(values.get("cs-uri-stem", "-")).lstrip("/"))
        size = values.get("sc-bytes", "-")
        date = values.get("date", "")
        if asset_id is None or not size.isdigit() or len(date) != 10:
            continue
        yield asset_id, date[:7], int(size)
