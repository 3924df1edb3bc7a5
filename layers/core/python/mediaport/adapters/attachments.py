"""The attachment table: the only module that reads or writes attachment records.

One partition per host-app thing ("entity"), keyed ``{entityType}#{entityId}``: a record
per attached asset (sort key: its assetId) and the entity's own record (sort key
``#entity``: the user who claimed it and ``attachmentCount``). The ``byAsset`` index
finds an asset's attachments.

Attachments are never written on their own: what is here gives the asset table the
writes it adds to the asset's change (its ``usageCount``), in one transaction, as the
usage and folder tables' counts are. The entity's count is checked in that transaction
(``attachmentCount < max``), so two racing attaches can never both take its last place.
"""

from __future__ import annotations

import functools
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from mediaport import names
from mediaport.adapters.records import ATTACHMENT_WRITE as ATTACHMENT_WRITE
from mediaport.adapters.records import ENTITY_WRITE as ENTITY_WRITE
from mediaport.adapters.records import Attachment as Attachment
from mediaport.adapters.records import Entity as Entity
from mediaport.adapters.tables import (
    ConditionFailed,
    Refused,
    TransactionItem,
    transact,
    translated,
)
from mediaport.model import utcnow
from mediaport.model.attachments import entity_key

# The sort key of an entity's own record ("#" sorts before every asset id).
ENTITY_MEMBER = "#entity"


class _AssetIndex(GlobalSecondaryIndex["AttachmentRecord"]):
    class Meta:
        index_name = names.ATTACHMENT_ASSET_INDEX_NAME
        projection = AllProjection()

    asset_id = UnicodeAttribute(hash_key=True, attr_name=names.ATTACHMENT_ASSET_INDEX_PARTITION_KEY)
    entity = UnicodeAttribute(range_key=True, attr_name=names.ATTACHMENT_ASSET_INDEX_SORT_KEY)


class AttachmentRecord(Model):
    """An attachment (``member`` = its assetId) or an entity's own record (``#entity``)."""

    class Meta:
        table_name = "unbound"  # bound per table by ``_record_class``

    entity = UnicodeAttribute(hash_key=True, attr_name=names.ATTACHMENT_TABLE_PARTITION_KEY)
    member = UnicodeAttribute(range_key=True, attr_name=names.ATTACHMENT_TABLE_SORT_KEY)
    entity_type = UnicodeAttribute(attr_name="entityType")
    entity_id = UnicodeAttribute(attr_name="entityId")
    # The attaching user (an attachment); the user who claimed the entity (its record).
    user_id = UnicodeAttribute(null=True, attr_name="userId")
    # An attachment's: the asset (the index's key), its role and when it was attached.
    asset_id = UnicodeAttribute(null=True, attr_name=names.ATTACHMENT_ASSET_INDEX_PARTITION_KEY)
    role = UnicodeAttribute(null=True)
    attached_at = UTCDateTimeAttribute(null=True, attr_name="attachedAt")
    # An entity record's.
    attachment_count = NumberAttribute(null=True, attr_name="attachmentCount")
    created_at = UTCDateTimeAttribute(null=True, attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(null=True, attr_name="updatedAt")

    asset_index = _AssetIndex()


@functools.cache
def _record_class(table_name: str, region: str) -> type[AttachmentRecord]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type(f"AttachmentRecord_{table_name}", (AttachmentRecord,), {"Meta": meta})


class AttachmentTable:
    """The attachment table named by the settings."""

    def __init__(self, table_name: str, region: str) -> None:
        self.record = _record_class(table_name, region)

    # --- reads ----------------------------------------------------------------------

    def of_entity(self, entity_type: str, entity_id: str) -> tuple[Entity | None, list[Attachment]]:
        """An entity's record and its attachments, oldest first (one consistent Query)."""
        with translated("read an entity's attachments"):
            records = list(
                self.record.query(entity_key(entity_type, entity_id), consistent_read=True)
            )
        entity = next((_to_entity(r) for r in records if r.member == ENTITY_MEMBER), None)
        attached = [_to_attachment(r) for r in records if r.member != ENTITY_MEMBER]
        return entity, sorted(attached, key=lambda a: (a.attached_at or utcnow(), a.asset_id))

    def entity(self, entity_type: str, entity_id: str) -> Entity | None:
        record = self._get(entity_key(entity_type, entity_id), ENTITY_MEMBER)
        return _to_entity(record) if record is not None else None

    def get(self, entity_type: str, entity_id: str, asset_id: str) -> Attachment | None:
        record = self._get(entity_key(entity_type, entity_id), asset_id)
        return _to_attachment(record) if record is not None else None

    def of_asset(self, asset_id: str) -> list[Attachment]:
        """Everything an asset is attached to (the byAsset index)."""
        with translated("read an asset's attachments"):
            return [_to_attachment(r) for r in self.record.asset_index.query(asset_id)]

    # --- writes that go in the asset's transaction ----------------------------------

    def attach_items(
        self, attachment: Attachment, *, max_attachments: int
    ) -> list[TransactionItem]:
        """The attachment record (unless it exists: ``ATTACHMENT_WRITE``) and its count on
        the entity (``ENTITY_WRITE``: refused when another user claimed the entity, or when
        it holds ``max_attachments`` already). The first attach creates and claims it."""
        now = utcnow()
        record = self.record(
            attachment.entity,
            attachment.asset_id,
            entity_type=attachment.entity_type,
            entity_id=attachment.entity_id,
            user_id=attachment.user_id,
            asset_id=attachment.asset_id,
            role=attachment.role,
            attached_at=attachment.attached_at or now,
        )
        a = AttachmentRecord
        claimed_by_caller = a.user_id.does_not_exist() | (a.user_id == attachment.user_id)
        has_room = a.attachment_count.does_not_exist() | (a.attachment_count < max_attachments)
        return [
            TransactionItem.save(record, condition=a.member.does_not_exist()),
            TransactionItem.update(
                self.record(attachment.entity, ENTITY_MEMBER),
                [
                    a.attachment_count.add(1),
                    a.user_id.set(attachment.user_id),
                    a.entity_type.set(attachment.entity_type),
                    a.entity_id.set(attachment.entity_id),
                    a.created_at.set(a.created_at | now),
                    a.updated_at.set(now),
                ],
                claimed_by_caller & has_room,
            ),
        ]

    def detach_items(self, attached: list[Attachment]) -> list[TransactionItem]:
        """For each attachment: its record deleted (refused when it is gone already) and
        its entity's count one lower."""
        now = utcnow()
        a = AttachmentRecord
        items: list[TransactionItem] = []
        for attachment in attached:
            items += [
                TransactionItem.delete(
                    self.record(attachment.entity, attachment.asset_id),
                    condition=a.member.exists(),
                ),
                TransactionItem.update(
                    self.record(attachment.entity, ENTITY_MEMBER),
                    [a.attachment_count.add(-1), a.updated_at.set(now)],
                    a.attachment_count > 0,
                ),
            ]
        return items

    def replace_items(self, old: Attachment, new: Attachment) -> list[TransactionItem]:
        """``old`` gives its place on the entity to ``new`` (the count stays): refused when
        ``old`` is gone already, or ``new`` is there already."""
        a = AttachmentRecord
        record = self.record(
            new.entity,
            new.asset_id,
            entity_type=new.entity_type,
            entity_id=new.entity_id,
            user_id=new.user_id,
            asset_id=new.asset_id,
            role=new.role,
            attached_at=new.attached_at or utcnow(),
        )
        return [
            TransactionItem.delete(self.record(old.entity, old.asset_id), a.member.exists()),
            TransactionItem.save(record, condition=a.member.does_not_exist()),
        ]

    # --- writes of their own ----------------------------------------------------------

    def set_role(self, attachment: Attachment, role: str | None) -> Attachment | None:
        """An existing attachment's role set (None: cleared); None when it is gone."""
        record = self.record(attachment.entity, attachment.asset_id)
        a = AttachmentRecord
        action = a.role.set(role) if role is not None else a.role.remove()
        try:
            with translated("set an attachment's role", passing=_CONDITION_FAILED):
                record.update(actions=[action], condition=a.member.exists())
        except ConditionFailed:
            return None
        return _to_attachment(record)

    def write(self, items: list[TransactionItem]) -> bool:
        """Attachment writes in a transaction of their own (detaching an asset whose
        record is gone); False when a condition refused one: nothing was written."""
        try:
            transact(self._connection(), items, "write attachments")
        except Refused:
            return False
        return True

    def _get(self, entity: str, member: str) -> AttachmentRecord | None:
        with translated("read an attachment"):
            try:
                return self.record.get(entity, member, consistent_read=True)
            except DoesNotExist:
                return None

    def _connection(self) -> Any:
        return self.record._get_connection().connection


_CONDITION_FAILED = "ConditionalCheckFailedException"


def _to_attachment(record: AttachmentRecord) -> Attachment:
    return Attachment(
        entity_type=record.entity_type,
        entity_id=record.entity_id,
        asset_id=record.asset_id or record.member,
        user_id=record.user_id or "",
        role=record.role,
        attached_at=record.attached_at,
    )


def _to_entity(record: AttachmentRecord) -> Entity:
    return Entity(
        entity_type=record.entity_type,
        entity_id=record.entity_id,
        user_id=record.user_id or "",
        attachment_count=int(record.attachment_count or 0),
    )
