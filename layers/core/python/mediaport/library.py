"""The library use cases: read, list, edit, move, delete and restore the caller's assets,
download one, and keep their folders.

Every change is a transition decided on the asset as read and written conditionally; the
table adapter writes the usage and folder counts it implies in the same transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from mediaport import serving, usage
from mediaport.adapters import storage
from mediaport.adapters.records import (
    Folder,
    ListingPage,
    NoRoom,
    RefusedAlongside,
    TransactionItem,
)
from mediaport.adapters.records import FolderExists as FolderRecordExists
from mediaport.errors import (
    AssetAttached,
    AssetChanged,
    AssetNotDeleted,
    AssetNotFound,
    AssetNotReady,
    AssetNotServed,
    AssetPurged,
    EditConflict,
    FolderExists,
    FolderNotEmpty,
    FolderNotFound,
    InvalidCursor,
    InvalidRequest,
    NotAssetOwner,
)
from mediaport.fields import in_folder_tree, normalize_folder
from mediaport.keys import is_asset_id
from mediaport.model import Asset, AssetStatus, utcnow
from mediaport.model.library import LibraryQuery
from mediaport.services import Services

# How often a change is decided again when another one won the race for the same asset.
_ATTEMPTS = 3
# Assets one DELETE /media/folders/{path}?moveTo= moves at most; the rest on a repeat.
MAX_MOVES_PER_REQUEST = 500
# How long to wait for the attachments index to catch up with a recent attach.
_INDEX_CATCH_UP_SECONDS = 0.2
# Assets a refusal to delete a folder counts at most (it says "100+").
_COUNTED_AT_MOST = 100


def owned_asset(
    services: Services,
    user_id: str,
    asset_id: str,
    *,
    deleted: bool = False,
    purged: bool = False,
) -> Asset:
    """The caller's asset; 404 when there is none, it is in the trash (unless
    ``deleted``: the trash's own routes see it) or was purged (unless ``purged``: restore
    says so), 403 when it is not theirs."""
    asset = services.assets.get(asset_id) if is_asset_id(asset_id) else None
    if asset is None or (asset.purged_at is not None and not purged):
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.status is AssetStatus.DELETED and not deleted:
        raise AssetNotFound(f"asset {asset_id} is in the trash")
    if asset.user_id != user_id:
        raise NotAssetOwner(f"asset {asset_id} belongs to another user")
    return asset


def list_library(
    services: Services, query: LibraryQuery, start_after: tuple[str, str] | None
) -> ListingPage:
    """One page of the caller's library (or trash), as the query asks; ``start_after``
    from a cursor of the same listing."""
    if query.deleted and query.status is not None:
        raise InvalidRequest(
            "the trash holds DELETED assets only: status does not apply with deleted=true",
            errors=[{"field": "status", "detail": "does not combine with deleted=true"}],
        )
    if start_after is not None and not services.assets.starts_well(query, start_after):
        raise InvalidCursor()
    return services.assets.list_library(query, start_after)


def edit_asset(
    services: Services,
    user_id: str,
    asset_id: str,
    changes: Mapping[str, Any],
    *,
    if_match: int | None = None,
) -> Asset:
    """Set or clear library fields (a merge patch); with ``if_match``, only on that
    version (412 otherwise). A folder change moves the counts in the same transaction."""
    for _attempt in range(_ATTEMPTS):
        asset = owned_asset(services, user_id, asset_id, deleted=True)
        if if_match is not None and asset.version != if_match:
            raise AssetChanged(f"asset {asset_id} is at version {asset.version}, not {if_match}")
        if not changes:
            return asset
        changed = services.assets.apply(asset.edit(changes, version=if_match))
        if changed is not None:
            return changed
    raise EditConflict(f"asset {asset_id} kept changing; read it again and retry")


def move_asset(services: Services, user_id: str, asset_id: str, folder: str | None) -> Asset:
    """Into ``folder`` (None: out of every folder); its counts move with it."""
    return edit_asset(services, user_id, asset_id, {"folder": folder})


def delete_asset(services: Services, user_id: str, asset_id: str, *, detach: bool) -> None:
    """READY → DELETED (the trash): it stops being served and leaves usage and its
    folder's counts in the same transaction. Attached somewhere: 409 naming where, unless
    ``detach``, which removes the attachments in that same transaction."""
    for _attempt in range(_ATTEMPTS):
        asset = owned_asset(services, user_id, asset_id, deleted=True)
        if asset.status is AssetStatus.DELETED:
            return  # deleted already: the same outcome
        if asset.status not in (AssetStatus.READY, AssetStatus.QUARANTINED):
            raise AssetNotReady(
                f"asset {asset_id} is {asset.status.value}; only READY (or QUARANTINED) "
                "assets are deleted"
            )
        alongside: list[TransactionItem] = []
        attachments = services.attachments
        # Decided on this version: an attach landing meanwhile makes it decide again.
        transition = replace(
            asset.soft_delete(now=(now := utcnow()), purge_at=_purge_time(services, now)),
            expect_version=asset.version,
        )
        if attachments is not None:
            attached = attachments.of_asset(asset_id)
            if len(attached) < asset.usage_count:
                # The attachments index is eventually consistent: it has not caught up
                # with an attach yet. Read again rather than miss one.
                time.sleep(_INDEX_CATCH_UP_SECONDS)
                continue
            if attached and not detach:
                names = ", ".join(f"{a.entity_type}/{a.entity_id}" for a in attached)
                raise AssetAttached(
                    f"asset {asset_id} is attached to {names}; detach it first, or delete "
                    "with ?detach=true",
                    attachments=[
                        {"entityType": a.entity_type, "entityId": a.entity_id} for a in attached
                    ],
                )
            if attached:
                alongside = attachments.detach_items(attached)
                transition = replace(transition, changes={**transition.changes, "usage_count": 0})
        try:
            if services.assets.apply(transition, alongside) is not None:
                # Public: CloudFront may no longer read its files (the tag goes), and the
                # edges drop what they cached of it.
                serving.set_cdn_tags(asset, services.settings, serve=False)
                serving.stop_serving(
                    asset,
                    services.settings,
                    reason="delete",
                    was_on_cdn=serving.on_cdn(asset, services.settings),
                )
                # Usage fell: a recorded warning level clears, so the next crossing warns.
                usage.follow_warnings(services, user_id, asset.tier)
                return
        except RefusedAlongside:
            continue  # an attachment went meanwhile: decide again on what is there now
    raise EditConflict(f"asset {asset_id} kept changing; retry the delete")


def restore_asset(services: Services, user_id: str, asset_id: str, tier: str) -> Asset:
    """DELETED → READY while in the trash, counted again within the caller's tier (403
    quota-exceeded when it no longer fits); 409 once purged."""
    for _attempt in range(_ATTEMPTS):
        asset = owned_asset(services, user_id, asset_id, deleted=True, purged=True)
        if asset.status is not AssetStatus.DELETED:
            if asset.status in (AssetStatus.READY, AssetStatus.QUARANTINED):
                return asset  # restored already
            raise AssetNotDeleted(f"asset {asset_id} is {asset.status.value}, not in the trash")
        now = utcnow()
        if not asset.restorable(now):
            raise AssetPurged(f"asset {asset_id} was in the trash too long and is purged")
        usage.require_room(services, user_id, tier, asset.size, what="restore")
        blocking = services.settings.scan_error_policy == "block"
        transition = replace(
            asset.restore(now=now, block_scan_errors=blocking),
            quota=usage.quota_of_tier(services, tier),
        )
        try:
            restored = services.assets.apply(transition)
        except NoRoom:
            # Another change took the room meanwhile: decided again, so the early check
            # refuses it (403), or there is room again after all.
            continue
        if restored is not None:
            if restored.status is AssetStatus.READY:
                # (While its scan is pending the bucket policy still refuses CloudFront.)
                serving.set_cdn_tags(restored, services.settings, serve=True)
            usage.follow_warnings(services, user_id, tier)
            return restored
    raise EditConflict(f"asset {asset_id} kept changing; retry the restore")


def require_served(asset: Asset) -> None:
    """409 for a READY asset still waiting for its malware scan."""
    if not asset.served:
        raise AssetNotServed(
            f"asset {asset.asset_id} is served once its malware scan is done "
            f"(scanStatus {asset.scan_status.value if asset.scan_status else 'PENDING'})"
        )


@dataclass(frozen=True)
class Download:
    url: str
    filename: str
    expires_at: datetime


def download(services: Services, user_id: str, asset_id: str) -> Download:
    """A short-lived URL that downloads a READY asset under its original filename."""
    asset = owned_asset(services, user_id, asset_id)
    if asset.status is not AssetStatus.READY:
        raise AssetNotReady(f"asset {asset_id} is {asset.status.value}; nothing to download")
    require_served(asset)
    expires_in = services.settings.download_expires_seconds
    url = storage.presign_download(
        asset.bucket, asset.key, expires_in, asset.original_filename, asset.mime_type
    )
    return Download(url, asset.original_filename, utcnow() + timedelta(seconds=expires_in))


# --- Folders ------------------------------------------------------------------------


def folders_of(services: Services, user_id: str) -> list[Folder]:
    return services.folders.all_of(user_id)


def create_folder(services: Services, user_id: str, path: str) -> Folder:
    try:
        return services.folders.create(user_id, path)
    except FolderRecordExists:
        raise FolderExists(f"folder {path} exists already") from None


def delete_folder(services: Services, user_id: str, path: str, *, move_to: str | None) -> None:
    """An empty folder goes; one holding assets or subfolders gets 409, unless
    ``move_to``: then its assets (and its subfolders, re-rooted under ``move_to``) move
    there first, one transaction per asset, and the emptied folders go."""
    folder = services.folders.get(user_id, path)
    if folder is None:
        raise FolderNotFound(f"no folder {path}")
    below = services.folders.subfolders(user_id, path)
    if move_to is None:
        listed = _assets_in_tree(services, user_id, path, limit=_COUNTED_AT_MOST)
        if folder.asset_count or below or listed:
            ready = sum(1 for asset in listed if asset.status is AssetStatus.READY)
            others = len(listed) - ready
            more = "+" if len(listed) == _COUNTED_AT_MOST else ""
            held = [
                f"{ready}{more} assets" if ready else "",
                f"{len(below)} subfolders" if below else "",
            ]
            if others:
                held.append(f"{others}{more} more in the trash or still uploading")
            raise FolderNotEmpty(
                f"folder {path} holds {', '.join(h for h in held if h)}; delete it with "
                "?moveTo=<folder> to move them first (the trash too: a restore puts an "
                "asset back in its folder)",
                asset_count=folder.asset_count,
                subfolders=len(below),
            )
    else:
        if in_folder_tree(move_to, path):
            raise InvalidRequest(
                f"moveTo {move_to} is inside {path}, which is being deleted",
                errors=[{"field": "moveTo", "detail": "is inside the folder being deleted"}],
            )
        for sub in below:
            _require_folder_path(move_to + sub.path[len(path) :], sub.path)
        moved = 0
        for asset in _assets_in_tree(services, user_id, path, limit=MAX_MOVES_PER_REQUEST):
            target = move_to + asset.folder[len(path) :] if asset.folder else move_to
            edit_asset(services, user_id, asset.asset_id, {"folder": target})
            moved += 1
        if moved >= MAX_MOVES_PER_REQUEST:
            raise FolderNotEmpty(
                f"moved {moved} assets of {path} to {move_to}; repeat the request to move the rest",
                asset_count=folder.asset_count,
                subfolders=len(below),
            )
        for sub in below:
            services.folders.create_if_missing(user_id, move_to + sub.path[len(path) :])
    for emptied in [*(sub.path for sub in reversed(below)), path]:
        if not services.folders.delete_empty(user_id, emptied):
            raise EditConflict(f"folder {emptied} received an asset meanwhile; retry")


def _require_folder_path(target: str, source: str) -> None:
    """A subfolder re-rooted under ``moveTo`` must still be a folder path the API takes;
    checked for all before anything moves."""
    try:
        normalize_folder(target)
    except ValueError as error:
        raise InvalidRequest(
            f"moveTo would make {source} into {target}, which {error}",
            errors=[{"field": "moveTo", "detail": f"{source} would become {target}: {error}"}],
        ) from None


def _assets_in_tree(services: Services, user_id: str, path: str, *, limit: int) -> list[Asset]:
    """Assets (library and trash, any state) in ``path`` or a folder below it, at most
    ``limit``: the folder index of each folder, so the rest of the library is never read."""
    paths = [path, *(sub.path for sub in services.folders.subfolders(user_id, path))]
    found: list[Asset] = []
    for folder in paths:
        for deleted in (False, True):
            start: tuple[str, str] | None = None
            while len(found) < limit:
                query = LibraryQuery(user_id, folder=folder, deleted=deleted, limit=100)
                page = services.assets.list_library(query, start)
                found += page.assets
                if page.next_start is None:
                    break
                start = page.next_start
    return found[:limit]


def _purge_time(services: Services, now: datetime) -> datetime:
    return now + timedelta(days=services.settings.trash_days)
