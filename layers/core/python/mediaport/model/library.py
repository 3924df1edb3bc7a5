"""A library listing, as asked for: filters, order and page size. Pure; no I/O."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from mediaport.model.asset import AssetStatus

SortOrder = Literal["-createdAt", "createdAt", "size", "-size", "filename"]
# ``folder=/``: the assets in no folder.
NO_FOLDER = "/"
# A user's trash is a shelf of its own: "{userId}|trash".
TRASH_SUFFIX = "|trash"


@dataclass(frozen=True)
class LibraryQuery:
    """What ``GET /media`` asks for. Every filter is optional and they combine."""

    user_id: str
    folder: str | None = None
    recursive: bool = False
    tags: tuple[str, ...] = field(default=())
    type: str | None = None
    mime_type: str | None = None
    scope: str | None = None
    status: AssetStatus | None = None
    q: str | None = None
    deleted: bool = False
    sort: SortOrder = "-createdAt"
    limit: int = 20

    def fingerprint(self) -> str:
        """Everything that decides which assets are listed and in what order (not the page
        size): a cursor is only good for the listing it came from."""
        fields = asdict(self)
        fields.pop("limit")
        fields["status"] = self.status.value if self.status else None
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class ListingFingerprint:
    """Any other listing a cursor is bound to: whose it is, which, and its filters."""

    user_id: str
    listing: str
    filters: dict[str, str | None]

    def fingerprint(self) -> str:
        canonical = json.dumps(
            {"listing": self.listing, **self.filters}, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:24]
