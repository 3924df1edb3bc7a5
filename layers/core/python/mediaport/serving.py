"""Serving through the CDN: which assets it serves, at which URLs, cached for how long,
and which paths a CloudFront invalidation must name when one stops being served.

The rule (docs/serving.md): the CDN serves an asset's original and its READY variants
only while the asset is served (READY, and with scanning on, not waiting for its scan)
and its scope is public. Everything else gets short-lived presigned URLs from the API, or
nothing. Pure, but ``stop_serving``, which asks CloudFront to drop what it cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from mediaport import names
from mediaport.adapters import cdn, storage
from mediaport.adapters.storage import VARIANT_CACHE_CONTROL
from mediaport.model import Asset, Variant, VariantStatus
from mediaport.policy import scope_table

if TYPE_CHECKING:
    from mediaport.config import Settings

# An original's key is stable (``media/{userId}/{assetId}/{filename}``) while what it
# serves may stop (a delete, a quarantine) or, rarely, change (an overwrite verified
# again): browsers keep it five minutes, then revalidate (a 304 costs a few hundred
# bytes). The CDN may keep it longer, because a delete, quarantine or purge invalidates it
# there; a browser cache cannot be invalidated. A variant's key names the bytes it was
# made from, so its content never changes: cached for a year (``VARIANT_CACHE_CONTROL``,
# written on the object itself).
ORIGINAL_CACHE_CONTROL = names.ORIGINAL_CACHE_CONTROL

ObjectKind = Literal["original", "variant"]


@dataclass(frozen=True)
class PublicUrls:
    """The CDN URLs of a public, served asset: its original, and each READY variant."""

    original: str
    variants: dict[str, str]


@dataclass(frozen=True)
class ServedObject:
    """An object the CDN may serve: which of the asset's it is, and how it is cached."""

    key: str
    kind: ObjectKind

    @property
    def cache_control(self) -> str:
        return VARIANT_CACHE_CONTROL if self.kind == "variant" else ORIGINAL_CACHE_CONTROL


def is_public(asset: Asset, settings: Settings) -> bool:
    """Whether the asset's scope is public (a scope no longer configured is private)."""
    policy = scope_table(settings.scopes).get(asset.scope)
    return policy is not None and policy.public


def on_cdn(asset: Asset, settings: Settings) -> bool:
    """Whether the CDN serves the asset now: served, and public."""
    return asset.served and is_public(asset, settings)


def ready_variants(asset: Asset) -> dict[str, Variant]:
    """The variants that exist: the thumbnails and the READY requested variants."""
    made = {
        name: variant
        for name, variant in asset.requested_variants.items()
        if variant.status is VariantStatus.READY
    }
    return {**made, **asset.variants}


def cdn_url(base_url: str, key: str) -> str:
    """The URL the CDN serves ``key`` at."""
    return f"{base_url.rstrip('/')}/{quote(key, safe='/')}"


def public_urls(asset: Asset, settings: Settings) -> PublicUrls | None:
    """The CDN URLs of the asset; None when the CDN does not serve it (not served, not
    public) or there is no CDN (``MEDIAPORT_PUBLIC_BASE_URL`` unset)."""
    base = settings.public_base_url
    if not base or not on_cdn(asset, settings):
        return None
    return PublicUrls(
        original=cdn_url(base, asset.key),
        variants={
            name: cdn_url(base, variant.key) for name, variant in ready_variants(asset).items()
        },
    )


def servable(asset: Asset | None, key: str, settings: Settings) -> ServedObject | None:
    """What the CDN serves at ``key`` of this asset: its original, or one of its READY
    variants, while it is on the CDN; None for anything else (it answers 403)."""
    if asset is None or not on_cdn(asset, settings):
        return None
    if key == asset.key:
        return ServedObject(key, "original")
    if any(variant.key == key for variant in ready_variants(asset).values()):
        return ServedObject(key, "variant")
    return None


def cdn_paths(asset: Asset) -> list[str]:
    """The paths a CloudFront invalidation names to stop serving the asset: its original
    and every variant it has (each by its own key: a wildcard path costs no more, but
    CloudFront runs only 15 of them at once)."""
    keys = [asset.key, *(variant.key for variant in ready_variants(asset).values())]
    return [f"/{quote(key, safe='/')}" for key in dict.fromkeys(keys)]


def stop_serving(asset: Asset, settings: Settings, *, reason: str, was_on_cdn: bool) -> None:
    """After a change that stops the CDN serving ``asset`` (as it was before the change):
    invalidate its original and variants at the edges, if it was there (``was_on_cdn``)."""
    if not was_on_cdn:
        return
    cdn.invalidate(
        settings.cdn_distribution_id,
        cdn_paths(asset),
        reference=f"{asset.asset_id}-{reason}-{asset.version or 0}",
    )


def cdn_tags(asset: Asset, settings: Settings) -> dict[str, str]:
    """The tags that let CloudFront read the asset's files (``names.CDN_TAG_KEY``): for a
    public asset's original and variants; none for a private one. Written with the files
    (at settle, on each variant, on a release's copy), removed at a delete, set again at
    a restore; the bucket policy's only allow for the distribution asks for it."""
    return {names.CDN_TAG_KEY: names.CDN_TAG_VALUE} if is_public(asset, settings) else {}


def set_cdn_tags(asset: Asset, settings: Settings, *, serve: bool) -> None:
    """Put the CDN tag on a public asset's original and variants (``serve``: a restore),
    or take it off (a delete to the trash), keeping their other tags: without it the
    bucket policy refuses CloudFront, so an edge that lost its copy cannot fetch it again.
    Nothing for a private asset (its files never carry the tag)."""
    if not is_public(asset, settings):
        return
    value = names.CDN_TAG_VALUE if serve else None
    for key in dict.fromkeys([asset.key, *(v.key for v in ready_variants(asset).values())]):
        storage.set_tag(asset.bucket, key, names.CDN_TAG_KEY, value)
