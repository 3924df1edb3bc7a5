"""The library use cases: read one asset, list the caller's assets."""

from __future__ import annotations

from typing import Any

from mediaport.errors import AssetNotFound, NotAssetOwner
from mediaport.keys import is_asset_id
from mediaport.model import Asset, AssetStatus
from mediaport.services import Services


def owned_asset(services: Services, user_id: str, asset_id: str) -> Asset:
    """The caller's asset; 404 when there is none (or it is deleted), 403 when not theirs."""
    asset = services.assets.get(asset_id) if is_asset_id(asset_id) else None
    if asset is None or asset.status is AssetStatus.DELETED:
        raise AssetNotFound(f"no asset {asset_id}")
    if asset.user_id != user_id:
        raise NotAssetOwner(f"asset {asset_id} belongs to another user")
    return asset


def list_assets(
    services: Services,
    user_id: str,
    status: AssetStatus | None,
    limit: int,
    start_after: dict[str, Any] | None,
) -> tuple[list[Asset], dict[str, Any] | None]:
    """One page of the caller's assets, newest first, and where the next page starts."""
    return services.assets.list_of(user_id, status, limit, start_after)
