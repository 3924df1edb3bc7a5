"""What the table adapters hand the domain and raise to it, without loading pynamodb.

The use cases import these at every cold start; the adapters that read and write them
(``tables``, ``folders``, ``attachments``, ``sessions``) load pynamodb and botocore, and
are built only when a request first needs a table (``mediaport.services``). Each adapter
re-exports the names it owns, so ``mediaport.adapters.tables.NoRoom`` is this ``NoRoom``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from mediaport.model import Asset
from mediaport.model.attachments import entity_key

if TYPE_CHECKING:
    from pynamodb.models import Model
    from pynamodb.transactions import TransactWrite

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


class NoRoom(Exception):
    """A growing usage change did not fit the owner's quota: nothing was written."""


class RefusedAlongside(Exception):
    """A write that had to go with an asset's change was refused by its own condition
    (``index`` of the ``alongside`` items): nothing was written."""

    def __init__(self, index: int) -> None:
        super().__init__(f"write {index} alongside the asset's change was refused")
        self.index = index


@dataclass(frozen=True)
class TransactionItem:
    """One write of a DynamoDB transaction, prepared by the adapter that owns the item."""

    kind: Literal["update", "save", "delete"]
    record: Model
    actions: list[Any] = field(default_factory=list)
    condition: Any = None

    @classmethod
    def update(cls, record: Model, actions: list[Any], condition: Any = None) -> TransactionItem:
        return cls("update", record, actions, condition)

    @classmethod
    def save(cls, record: Model, condition: Any = None) -> TransactionItem:
        return cls("save", record, [], condition)

    @classmethod
    def delete(cls, record: Model, condition: Any = None) -> TransactionItem:
        return cls("delete", record, [], condition)

    def add_to(self, transaction: TransactWrite) -> None:
        if self.kind == "update":
            # A copy: pynamodb appends the version increment to the list it is given, and
            # an item may be added again when its transaction is retried.
            transaction.update(self.record, actions=list(self.actions), condition=self.condition)
        elif self.kind == "save":
            transaction.save(self.record, condition=self.condition)
        else:
            transaction.delete(self.record, condition=self.condition)


@dataclass(frozen=True)
class ListingPage:
    """A page of a library listing, and where the next one starts (None: no more)."""

    assets: list[Asset]
    next_start: tuple[str, str] | None


@dataclass(frozen=True)
class Folder:
    path: str
    asset_count: int
    bytes: int
    created_at: datetime


class FolderExists(Exception):
    """The folder to create is there already."""


# Where an attach's writes stand among those ``attach_items`` gives (``RefusedAlongside``
# says which one a condition refused).
ATTACHMENT_WRITE, ENTITY_WRITE = 0, 1


@dataclass(frozen=True)
class Attachment:
    entity_type: str
    entity_id: str
    asset_id: str
    user_id: str = ""
    role: str | None = None
    attached_at: datetime | None = None

    @property
    def entity(self) -> str:
        return entity_key(self.entity_type, self.entity_id)


@dataclass(frozen=True)
class Entity:
    """A host-app thing media is attached to: who claimed it, and how much it holds."""

    entity_type: str
    entity_id: str
    user_id: str
    attachment_count: int


@dataclass(frozen=True)
class UploadSession:
    """An Uppy upload session: who may upload through its capability URL, where, until when."""

    session_id: str
    user_id: str
    scope: str
    folder: str | None
    created_at: datetime
    expires_at: datetime
    revoked: bool = False
    # The opener's storage tier: the session's uploads count against its limits.
    tier: str | None = None

    def is_active(self, now: datetime) -> bool:
        """Whether its token still opens anything (TTL deletes an expired record late)."""
        return not self.revoked and now < self.expires_at
