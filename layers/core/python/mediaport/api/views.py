"""Rendering domain objects as API responses (with short-lived URLs where READY)."""

from __future__ import annotations

from mediaport.adapters import storage
from mediaport.api.schemas import AssetView, UploadTicket, VariantView
from mediaport.config import Settings
from mediaport.model import Asset, AssetStatus
from mediaport.uploads import Ticket


def ticket_view(ticket: Ticket) -> UploadTicket:
    """Never a URL to the bytes: they are not verified yet (``publicUrl`` comes with READY)."""
    return UploadTicket(
        asset_id=ticket.asset.asset_id,
        key=ticket.asset.key,
        upload_url=ticket.url,
        method=ticket.method,
        headers=ticket.headers,
        fields=ticket.fields,
        expires_at=ticket.expires_at,
    )


def asset_view(asset: Asset, settings: Settings) -> AssetView:
    """The asset for its owner; URLs only for READY assets, whose bytes were verified."""
    ready = asset.status is AssetStatus.READY
    expires_in = settings.download_expires_seconds
    variants = {
        name: VariantView(
            url=storage.presign_get(asset.bucket, variant.key, expires_in),
            width=variant.width,
            height=variant.height,
            bytes=variant.bytes,
        )
        for name, variant in asset.variants.items()
        if ready
    }
    public_url = (
        f"{settings.public_base_url}/{asset.key}" if ready and settings.public_base_url else None
    )
    return AssetView(
        **asset.model_dump(include=set(AssetView.model_fields) - {"variants", "url", "public_url"}),
        variants=variants,
        url=storage.presign_get(asset.bucket, asset.key, expires_in) if ready else None,
        public_url=public_url,
    )
