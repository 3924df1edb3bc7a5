"""Entity types: which scopes may be attached to which kind of host-app thing, and how
many per thing. Pure data and rules; no I/O.

Mediaport does not own the host app's posts or vehicles, but it owns which media is
attached to which of them. Entity types are data, like scopes: the defaults below are
replaced or extended through configuration (``MEDIAPORT_ENTITY_TYPES``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# An entity type's name: short, lower case, safe in a path and in a table key.
ENTITY_TYPE_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
# A host-app id (or a user id): letters, digits and ``._:@-``, at most 128 characters:
# nothing a path segment must encode, and no ``#`` (it is part of a table key).
ENTITY_ID_PATTERN = r"^[A-Za-z0-9._:@-]{1,128}$"
# An attachment's role on its entity ("cover", "gallery", ...).
ROLE_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
_ENTITY_TYPE = re.compile(ENTITY_TYPE_PATTERN)
_ENTITY_ID = re.compile(ENTITY_ID_PATTERN)

# What one entity may hold at most, whatever the configuration: an entity's media are
# read in one Query and one BatchGetItem (100 keys).
MAX_PER_ENTITY = 100
# What one asset may be attached to at most: deleting it with ?detach=true removes every
# attachment (two writes each) in the delete's own transaction, which DynamoDB caps at
# 100 writes; the asset, its usage rows and its folder take up to 6 of them.
MAX_ATTACHMENTS_PER_ASSET = 40

# The entity type of a user's avatar (``PUT /me/avatar``): one per user, named by the
# user's own id.
AVATAR = "avatar"


class EntityType(BaseModel):
    """What one kind of host-app thing takes."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    # The scopes an attached asset must have been uploaded in.
    scopes: frozenset[str] = Field(min_length=1)
    # How many assets one entity may have attached at once.
    max_attachments: int = Field(ge=1, le=MAX_PER_ENTITY)
    # Whether an entity's id is its owner's user id (an avatar): then only that user
    # attaches to it, and it is theirs from the start.
    per_user: bool = False

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


DEFAULT_ENTITY_TYPES: Mapping[str, EntityType] = {
    "post": EntityType(scopes=frozenset({"POST_ATTACHMENT"}), max_attachments=1),
    AVATAR: EntityType(scopes=frozenset({"PROFILE_AVATAR"}), max_attachments=1, per_user=True),
    "vehicle": EntityType(scopes=frozenset({"GENERIC", "POST_ATTACHMENT"}), max_attachments=50),
}


def entity_type_table(overrides: Mapping[str, EntityType]) -> dict[str, EntityType]:
    """The defaults with configured entity types replacing or adding to them."""
    return {**DEFAULT_ENTITY_TYPES, **overrides}


def check_entity_types(types: Mapping[str, EntityType], scopes: set[str]) -> None:
    """``ValueError`` naming what is wrong: a name that is not ``ENTITY_TYPE_PATTERN``, a
    scope that does not exist, or an avatar that is not one per user."""
    for name, entity_type in types.items():
        if not _ENTITY_TYPE.fullmatch(name):
            raise ValueError(f"entity type {name!r} is not 1-32 of a-z, 0-9, _ or - (a-z first)")
        unknown = sorted(entity_type.scopes - scopes)
        if unknown:
            raise ValueError(f"entity type {name!r} names unknown scopes: {', '.join(unknown)}")
    avatar = types.get(AVATAR)
    if avatar is None or not avatar.per_user or avatar.max_attachments != 1:
        raise ValueError(f"entity type {AVATAR!r} must stay one per user (perUser, max 1)")


def is_entity_id(value: str) -> bool:
    return _ENTITY_ID.fullmatch(value) is not None


def entity_key(entity_type: str, entity_id: str) -> str:
    """``post#123``: the one key of an entity (the type has no ``#``)."""
    return f"{entity_type}#{entity_id}"


class AttachmentLimitReached(Exception):
    """The asset is attached to as many entities as one asset may be."""
