"""Rendering domain objects as API responses: short-lived presigned URLs for served
assets, and for public ones their stable CDN URLs too (``cdnUrl``, docs/serving.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mediaport import serving
from mediaport.adapters import storage
from mediaport.adapters.records import Attachment, Folder
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
from mediaport.model import Asset, AssetStatus, Variant, VariantStatus
from mediaport.model.variants import THUMBNAIL_QUALITY, THUMBNAIL_SIZES
from mediaport.uploads import Ticket

if TYPE_CHECKING:
    from mediaport.config import Settings


def ticket_view(ticket: Ticket) -> UploadTicket:
    """Never a URL to the bytes: they are not verified yet (``url`` and ``cdnUrl`` come
    once the asset is served)."""
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
    verified, and with scanning on, found clean), CDN URLs only for public ones."""
    ready = asset.served
    expires_in = settings.download_expires_seconds
    public = serving.public_urls(asset, settings)
    variants = {
        name: VariantView(
            url=storage.presign_get(asset.bucket, variant.key, expires_in),
            cdn_url=public.variants.get(name) if public else None,
            width=variant.width,
            height=variant.height,
            bytes=variant.bytes,
        )
        for name, variant in asset.variants.items()
        if ready
    }
    deleted = asset.status is AssetStatus.DELETED
    cdn_url = public.original if public else None
    return AssetView(
        **asset.model_dump(
            include=set(AssetView.model_fields)
            - {"variants", "url", "cdn_url", "public_url", "purge_at"}
        ),
        variants=variants,
        url=_original_url(asset, settings) if ready else None,
        cdn_url=cdn_url,
        public_url=cdn_url,
        purge_at=asset.expires_at if deleted else None,
    )


def variant_detail(asset: Asset, name: str, variant: Variant, settings: Settings) -> VariantDetail:
    """One variant as its owner sees it: a URL once READY (and the asset served), a CDN
    URL too when the asset is public."""
    ready = variant.status is VariantStatus.READY
    public = serving.public_urls(asset, settings)
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
        cdn_url=public.variants.get(name) if ready and public else None,
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
    public = serving.public_urls(asset, settings)
    return AttachedMediaView(
        asset_id=asset.asset_id,
        role=attachment.role,
        url=_original_url(asset, settings),
        cdn_url=public.original if public else None,
        variants=_shared_variants(asset, settings, public),
        mime_type=asset.mime_type,
        alt_text=asset.alt_text,
        width=asset.width,
        height=asset.height,
        placeholder=asset.placeholder,
        dominant_color=asset.dominant_color,
        attached_at=attachment.attached_at,
    )


def avatar_view(asset: Asset, settings: Settings) -> AvatarView:
    public = serving.public_urls(asset, settings)
    return AvatarView(
        asset_id=asset.asset_id,
        url=_original_url(asset, settings),
        cdn_url=public.original if public else None,
        variants=_shared_variants(asset, settings, public),
    )


def _original_url(asset: Asset, settings: Settings) -> str:
    return storage.presign_get(asset.bucket, asset.key, settings.download_expires_seconds)


def _shared_variants(
    asset: Asset, settings: Settings, public: serving.PublicUrls | None
) -> dict[str, MediaVariantView]:
    expires_in = settings.download_expires_seconds
    return {
        name: MediaVariantView(
            url=storage.presign_get(asset.bucket, variant.key, expires_in),
            cdn_url=public.variants.get(name) if public else None,
            width=variant.width,
            height=variant.height,
        )
        for name, variant in asset.variants.items()
    }
