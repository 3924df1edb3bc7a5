"""Attachments: which of a user's media is attached to which host-app thing (a post, a
vehicle, their avatar), and the rules for that (docs/attachments.md).

Every attach or detach is one transaction: the asset's ``usageCount`` and ``lastUsedAt``,
the attachment record and the entity's ``attachmentCount``, whose condition keeps the
entity within its type's maximum however many attaches race for it.

The host app's ids are not ours to check, so the first user to attach to an entity claims
it; from then on only they attach to it or detach from it. A per-user entity type (the
avatar) is named by its user's own id and is theirs from the start.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mediaport import library
from mediaport.adapters.records import ENTITY_WRITE, Attachment, Entity, RefusedAlongside
from mediaport.errors import (
    AssetAttachedTooOften,
    AssetNotReady,
    AttachmentNotFound,
    AvatarNotFound,
    EditConflict,
    EntityClaimed,
    EntityFull,
    EntityTypeNotFound,
    NotAssetOwner,
    NotOwnEntity,
    ScopeNotAllowed,
)
from mediaport.keys import is_asset_id
from mediaport.library import require_served
from mediaport.model import Asset, AssetStatus, Transition, utcnow
from mediaport.model.attachments import AVATAR, AttachmentLimitReached, EntityType
from mediaport.names import ENV_ATTACHMENT_TABLE_NAME
from mediaport.services import Services

if TYPE_CHECKING:
    from mediaport.adapters.attachments import AttachmentTable
    from mediaport.config import Settings

# How often a change is decided again when another one won the race for the same items.
_ATTEMPTS = 3


@dataclass(frozen=True)
class Attached:
    attachment: Attachment
    # False when it was attached already (the PUT changed nothing but maybe its role).
    created: bool


def entity_type_of(settings: Settings, entity_type: str) -> EntityType:
    """The entity type's rules; 404 naming the types there are when it is not one."""
    types = settings.entity_type_table
    found = types.get(entity_type)
    if found is None:
        raise EntityTypeNotFound(
            f"there is no entity type {entity_type!r}; there are {', '.join(sorted(types))}",
            entity_types=sorted(types),
        )
    return found


def attach(
    services: Services,
    user_id: str,
    asset_id: str,
    entity_type: str,
    entity_id: str,
    role: str | None = None,
) -> Attached:
    """Attach the caller's READY asset to an entity, as its type allows. Attached already:
    nothing changes but the role, when one is given."""
    kind = entity_type_of(services.settings, entity_type)
    _require_own_entity(kind, entity_type, entity_id, user_id)
    table = _table(services)
    for _attempt in range(_ATTEMPTS):
        asset = library.owned_asset(services, user_id, asset_id)
        entity = table.entity(entity_type, entity_id)
        _require_claim(entity, user_id)
        _require_attachable(asset, kind, entity_type)
        existing = table.get(entity_type, entity_id, asset_id)
        if existing is not None:
            if role is None or role == existing.role:
                return Attached(existing, created=False)
            changed = table.set_role(existing, role)
            if changed is not None:
                return Attached(changed, created=False)
            continue  # detached meanwhile
        if entity is not None and entity.attachment_count >= kind.max_attachments:
            raise _full(entity_type, entity_id, kind)
        attachment = Attachment(entity_type, entity_id, asset_id, user_id, role, utcnow())
        try:
            if _attach_once(services, table, kind, asset, attachment):
                return Attached(attachment, created=True)
        except RefusedAlongside as refused:
            if refused.index == ENTITY_WRITE:
                # Claimed by another user, or full, since it was read: say which.
                _require_claim(table.entity(entity_type, entity_id), user_id)
                raise _full(entity_type, entity_id, kind) from None
            # Attached by a racing request meanwhile: answered as existing next time.
    raise EditConflict(f"asset {asset_id} kept changing; retry the attach")


def detach(
    services: Services, user_id: str, asset_id: str, entity_type: str, entity_id: str
) -> None:
    """Detach the caller's asset from an entity; 404 when it is not attached there."""
    kind = entity_type_of(services.settings, entity_type)
    _require_own_entity(kind, entity_type, entity_id, user_id)
    table = _table(services)
    for _attempt in range(_ATTEMPTS):
        asset = services.assets.get(asset_id) if is_asset_id(asset_id) else None
        if asset is not None and asset.user_id != user_id:
            raise NotAssetOwner(f"asset {asset_id} belongs to another user")
        _require_claim(table.entity(entity_type, entity_id), user_id)
        attachment = table.get(entity_type, entity_id, asset_id)
        if attachment is None:
            raise AttachmentNotFound(
                f"asset {asset_id} is not attached to {entity_type}/{entity_id}"
            )
        items = table.detach_items([attachment])
        if asset is None or asset.purged_at is not None:
            # The asset's record is gone (a rejected one expires): the attachment goes alone.
            if table.write(items):
                return
            continue
        try:
            if services.assets.apply(asset.detach(), items) is not None:
                return
        except RefusedAlongside:
            continue  # detached meanwhile: the next look says so
    raise EditConflict(f"asset {asset_id} kept changing; retry the detach")


def entity_media(
    services: Services, entity_type: str, entity_id: str
) -> list[tuple[Attachment, Asset]]:
    """What an entity shows: its attachments whose assets are READY, oldest first, with
    the assets (one Query, one BatchGetItem). Anyone signed in may read it."""
    entity_type_of(services.settings, entity_type)
    _entity, attached = _table(services).of_entity(entity_type, entity_id)
    if not attached:
        return []
    assets = services.assets.get_many([a.asset_id for a in attached])
    return [
        (attachment, assets[attachment.asset_id])
        for attachment in attached
        if attachment.asset_id in assets and assets[attachment.asset_id].served
    ]


# --- Avatars: one per user, the entity named by the user's own id ----------------------


def set_avatar(services: Services, user_id: str, asset_id: str) -> Asset:
    """Make the caller's READY ``PROFILE_AVATAR`` asset their avatar. The one it replaces
    is released in the same transaction (its attachment goes, its usageCount − 1)."""
    kind = entity_type_of(services.settings, AVATAR)
    table = _table(services)
    for _attempt in range(_ATTEMPTS):
        asset = library.owned_asset(services, user_id, asset_id)
        _require_attachable(asset, kind, AVATAR)
        _entity, current = table.of_entity(AVATAR, user_id)
        old = current[0] if current else None
        if old is not None and old.asset_id == asset_id:
            return asset  # the avatar already: nothing to change
        new = Attachment(AVATAR, user_id, asset_id, user_id, None, utcnow())
        try:
            if old is None:
                if _attach_once(services, table, kind, asset, new):
                    return asset
            elif _replace_once(services, table, asset, old, new):
                return asset
        except RefusedAlongside:
            continue  # another change to the avatar won: decide again on what it left
    raise EditConflict("your avatar kept changing; retry")


def clear_avatar(services: Services, user_id: str) -> None:
    """The caller has no avatar any more (also when they had none)."""
    _entity, current = _table(services).of_entity(AVATAR, user_id)
    for attachment in current:
        with contextlib.suppress(AttachmentNotFound):  # cleared meanwhile: the same outcome
            detach(services, user_id, attachment.asset_id, AVATAR, user_id)


def avatar_of(services: Services, user_id: str) -> Asset:
    """A user's avatar (READY); 404 when they have none. Anyone signed in may read it."""
    _entity, current = _table(services).of_entity(AVATAR, user_id)
    asset = services.assets.get(current[0].asset_id) if current else None
    if asset is None or not asset.served:
        raise AvatarNotFound(f"user {user_id} has no avatar")
    return asset


# --- One try of each change --------------------------------------------------------------


def _attach_once(
    services: Services,
    table: AttachmentTable,
    kind: EntityType,
    asset: Asset,
    attachment: Attachment,
) -> bool:
    """The asset counted as attached (on the version read) with the attachment record
    and the entity's count; False when the asset changed meanwhile."""
    transition = _attach_transition(asset, attachment)
    items = table.attach_items(attachment, max_attachments=kind.max_attachments)
    return services.assets.apply(transition, items) is not None


def _replace_once(
    services: Services, table: AttachmentTable, asset: Asset, old: Attachment, new: Attachment
) -> bool:
    """``new`` takes ``old``'s place on its entity, in one transaction: ``asset`` counted
    as attached, the old asset released (−1, on the version read)."""
    items = table.replace_items(old, new)
    old_asset = services.assets.get(old.asset_id)
    if old_asset is not None and old_asset.purged_at is None:
        items.append(services.assets.change_item(old_asset, old_asset.detach()))
    return services.assets.apply(_attach_transition(asset, new), items) is not None


def _attach_transition(asset: Asset, attachment: Attachment) -> Transition:
    try:
        return asset.attach(attachment.attached_at or utcnow())
    except AttachmentLimitReached as error:
        raise AssetAttachedTooOften(str(error)) from None


# --- The rules ---------------------------------------------------------------------------


def _require_own_entity(kind: EntityType, entity_type: str, entity_id: str, user_id: str) -> None:
    if kind.per_user and entity_id != user_id:
        raise NotOwnEntity(
            f"{entity_type} entities are named by their user's own id: "
            f"{entity_type}/{entity_id} is another user's"
        )


def _require_claim(entity: Entity | None, user_id: str) -> None:
    if entity is not None and entity.user_id and entity.user_id != user_id:
        raise EntityClaimed(
            f"{entity.entity_type}/{entity.entity_id} holds another user's media: the first "
            "user to attach to an entity claims it"
        )


def _require_attachable(asset: Asset, kind: EntityType, entity_type: str) -> None:
    if asset.status is not AssetStatus.READY:
        raise AssetNotReady(
            f"asset {asset.asset_id} is {asset.status.value}; only READY assets are attached"
        )
    require_served(asset)
    if not kind.allows(asset.scope):
        allowed = sorted(kind.scopes)
        raise ScopeNotAllowed(
            f"{entity_type} takes assets of scope {' or '.join(allowed)}; asset "
            f"{asset.asset_id} is {asset.scope}",
            scope=asset.scope,
            allowed_scopes=allowed,
        )


def _full(entity_type: str, entity_id: str, kind: EntityType) -> EntityFull:
    most = kind.max_attachments
    return EntityFull(
        f"{entity_type}/{entity_id} holds {most} attachment{'s' if most != 1 else ''}, the "
        f"most one {entity_type} may hold; detach one first",
        max_attachments=most,
    )


def _table(services: Services) -> AttachmentTable:
    if services.attachments is None:
        from mediaport.config import ConfigurationError

        raise ConfigurationError(f"{ENV_ATTACHMENT_TABLE_NAME} is not set for this function")
    return services.attachments
