"""The upload-session table: the only module that talks to it.

A session is stored under the SHA-256 of its token, never the token itself: whoever reads
the table (or a backup of it) cannot upload with what they read. Errors are translated
exactly as for the asset table.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from mediaport import names
from mediaport.adapters.records import UploadSession as UploadSession

# One translation of pynamodb's errors for every table (it logs the cause, never answers it).
from mediaport.adapters.tables import ConditionFailed, translated

_CONDITION_FAILED = "ConditionalCheckFailedException"


class SessionRecord(Model):
    """The stored shape of a session."""

    class Meta:
        table_name = "unbound"  # bound per table by ``_record_class``

    session_id = UnicodeAttribute(hash_key=True, attr_name=names.SESSION_TABLE_PARTITION_KEY)
    user_id = UnicodeAttribute(attr_name="userId")
    scope = UnicodeAttribute()
    folder = UnicodeAttribute(null=True)
    tier = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    # DynamoDB TTL, epoch seconds.
    expires_at = NumberAttribute(attr_name=names.SESSION_TTL_ATTRIBUTE)
    revoked = BooleanAttribute(default=False)
    revoked_at = UTCDateTimeAttribute(null=True, attr_name="revokedAt")


@functools.cache
def _record_class(table_name: str, region: str) -> type[SessionRecord]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type(f"SessionRecord_{table_name}", (SessionRecord,), {"Meta": meta})


class SessionTable:
    """The upload-session table named by the settings."""

    def __init__(self, table_name: str, region: str) -> None:
        self.record = _record_class(table_name, region)

    def add(self, session: UploadSession) -> None:
        """Store a new session; never overwrites one with the same id."""
        record = self.record(
            session.session_id,
            user_id=session.user_id,
            scope=session.scope,
            folder=session.folder,
            tier=session.tier,
            created_at=session.created_at,
            expires_at=int(session.expires_at.timestamp()),
            revoked=session.revoked,
        )
        with translated("add upload session"):
            record.save(condition=SessionRecord.session_id.does_not_exist())

    def get(self, session_id: str) -> UploadSession | None:
        """The session with this id (active or not), or None."""
        with translated("read upload session"):
            try:
                record = self.record.get(session_id, consistent_read=True)
            except DoesNotExist:
                return None
        return UploadSession(
            session_id=record.session_id,
            user_id=record.user_id,
            scope=record.scope,
            folder=record.folder,
            tier=record.tier,
            created_at=record.created_at,
            expires_at=datetime.fromtimestamp(int(record.expires_at), UTC),
            revoked=bool(record.revoked),
        )

    def revoke(self, session_id: str, user_id: str, now: datetime) -> bool:
        """Revoke the session if it is ``user_id``'s and still active; whether it was."""
        condition = (
            (SessionRecord.user_id == user_id)
            & (SessionRecord.revoked == False)  # noqa: E712 - a pynamodb condition
            & (SessionRecord.expires_at > int(now.timestamp()))
        )
        record = self.record(session_id)
        try:
            with translated("revoke upload session", passing=_CONDITION_FAILED):
                record.update(
                    actions=[SessionRecord.revoked.set(True), SessionRecord.revoked_at.set(now)],
                    condition=condition,
                )
        except ConditionFailed:
            return False
        return True
