"""Rendering domain objects as API responses (with short-lived URLs where READY)."""

from __future__ import annotations

from mediaport.adapters import storage
from mediaport.adapters.attachments import Attachment
from mediaport.adapters.folders import Folder
from mediaport.api.schemas import (
    AssetView,
    AttachedMediaView,
    AttachmentView,
    AvatarView,
    FolderView,
    MediaVariantView,
    QuarantinedView,
    ReleasedView,
    UploadTicket,
    VariantDetail,
    VariantView,
)
from mediaport.config import Settings
from mediaport.model import Asset, AssetStatus, Variant, VariantStatus
from mediaport.model.variants import THUMBNAIL_QUALITY, THUMBNAIL_SIZES
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
    """The asset for its owner; URLs only for served assets (READY: their bytes were
    verified, and with scanning on, found clean)."""
    ready = asset.served
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
    deleted = asset.status is AssetStatus.DELETED
    return AssetView(
        **asset.model_dump(
            include=set(AssetView.model_fields) - {"variants", "url", "public_url", "purge_at"}
        ),
        variants=variants,
        url=_original_url(asset, settings) if ready else None,
        public_url=public_url,
        purge_at=asset.expires_at if deleted else None,
    )


def variant_detail(asset: Asset, name: str, variant: Variant, settings: Settings) -> VariantDetail:
    """One variant as its owner sees it: a URL once READY (and the asset served)."""
    ready = variant.status is VariantStatus.READY
    params = variant.params or {
        "operation": "thumbnail",
        "maxEdge": THUMBNAIL_SIZES.get(name, max(variant.width, variant.height)),
        "format": variant.format,
        "quality": THUMBNAIL_QUALITY,
    }
    return VariantDetail(
        name=name,
        width=variant.width,
        height=variant.height,
        format=variant.format,
        bytes=variant.bytes if ready else None,
        status=variant.status,
        params=params,
        url=(
            storage.presign_get(asset.bucket, variant.key, settings.download_expires_seconds)
            if ready and asset.served
            else None
        ),
        reason=variant.reason,
        detail=variant.detail,
        requested_at=variant.requested_at,
    )


def quarantined_view(asset: Asset) -> QuarantinedView:
    return QuarantinedView(**asset.model_dump(include=set(QuarantinedView.model_fields)))


def released_view(asset: Asset) -> ReleasedView:
    return ReleasedView(**asset.model_dump(include=set(ReleasedView.model_fields)))


def folder_view(folder: Folder) -> FolderView:
    return FolderView(
        path=folder.path,
        asset_count=folder.asset_count,
        bytes=folder.bytes,
        created_at=folder.created_at,
    )


def etag_of(asset: Asset) -> str:
    """The asset's version as a strong entity tag."""
    return f'"{asset.version}"'


def attachment_view(attachment: Attachment) -> AttachmentView:
    return AttachmentView(
        asset_id=attachment.asset_id,
        entity_type=attachment.entity_type,
        entity_id=attachment.entity_id,
        role=attachment.role,
        attached_at=attachment.attached_at,
    )


def attached_media_view(
    attachment: Attachment, asset: Asset, settings: Settings
) -> AttachedMediaView:
    """A READY asset as the host app's feed shows it to anyone: what renders it, and
    nothing of its owner's (original filename, folder, tags, reject details)."""
    return AttachedMediaView(
        asset_id=asset.asset_id,
        role=attachment.role,
        url=_original_url(asset, settings),
        variants=_shared_variants(asset, settings),
        mime_type=asset.mime_type,
        alt_text=asset.alt_text,
        width=asset.width,
        height=asset.height,
        placeholder=asset.placeholder,
        dominant_color=asset.dominant_color,
        attached_at=attachment.attached_at,
    )


def avatar_view(asset: Asset, settings: Settings) -> AvatarView:
    return AvatarView(
        asset_id=asset.asset_id,
        url=_original_url(asset, settings),
        variants=_shared_variants(asset, settings),
    )


def _original_url(asset: Asset, settings: Settings) -> str:
    return storage.presign_get(asset.bucket, asset.key, settings.download_expires_seconds)


def _shared_variants(asset: Asset, settings: Settings) -> dict[str, MediaVariantView]:
    expires_in = settings.download_expires_seconds
    return {
        name: MediaVariantView(
            url=storage.presign_get(asset.bucket, variant.key, expires_in),
            width=variant.width,
            height=variant.height,
        )
        for name, variant in asset.variants.items()
    }
