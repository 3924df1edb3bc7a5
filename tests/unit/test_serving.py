"""Who the CDN serves, at which URLs, cached how long: decided without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mediaport.config import Settings
from mediaport.model import Asset, AssetStatus, ScanStatus, Variant, VariantStatus
from mediaport.model.usage import (
    DEFAULT_TIERS,
    TierLimits,
    bandwidth_dimension,
    bandwidth_warning_level,
    month_of,
    month_reset_at,
    storage_dimension,
)
from mediaport.policy import DEFAULT_SCOPES, ScopePolicy
from mediaport.serving import (
    ORIGINAL_CACHE_CONTROL,
    cdn_paths,
    cdn_url,
    is_public,
    public_urls,
    servable,
)
from tests.unit.test_asset_states import asset

CDN = "https://d111111abcdef8.cloudfront.net"
KEY = "media/alice/a1/f.png"
THUMB = Variant(key="derived/alice/a1/abc/512.webp", width=512, height=256, bytes=900)
CROP = Variant(
    key="derived/alice/a1/abc/crop-1.png",
    width=10,
    height=10,
    bytes=50,
    format="png",
    params={"operation": "crop"},
)
PENDING_CROP = CROP.model_copy(
    update={"key": "derived/alice/a1/abc/crop-2.png", "status": VariantStatus.PENDING}
)


def settings(**values: object) -> Settings:
    named: dict[str, object] = {
        "table_name": "assets",
        "bucket_name": "media",
        "usage_table_name": "usage",
        "folder_table_name": "folders",
        "public_base_url": CDN,
    }
    return Settings(**{**named, **values})  # type: ignore[arg-type]


def served(scope: str = "POST_ATTACHMENT", **fields: object) -> Asset:
    """A READY asset of ``scope`` with a thumbnail, a READY and a PENDING crop."""
    ready = asset(
        AssetStatus.READY,
        checksum="abc",
        variants={"512": THUMB},
        requested_variants={"crop-1": CROP, "crop-2": PENDING_CROP},
    )
    return ready.model_copy(update={"scope": scope, **fields})


def test_avatars_and_post_attachments_are_public_and_generic_media_private() -> None:
    assert DEFAULT_SCOPES["PROFILE_AVATAR"].visibility == "public"
    assert DEFAULT_SCOPES["POST_ATTACHMENT"].visibility == "public"
    assert DEFAULT_SCOPES["GENERIC"].visibility == "private"


def test_visibility_is_configured_with_the_scope_and_private_unless_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "MEDIAPORT_SCOPES",
        '{"GENERIC": {"types": ["image/png"], "maxBytes": 10, "visibility": "public"},'
        ' "BANNER": {"types": ["image/png"], "maxBytes": 10}}',
    )
    configured = settings()

    assert is_public(served("GENERIC"), configured)
    assert not is_public(served("BANNER"), configured)
    assert configured.scopes["BANNER"] == ScopePolicy(types=frozenset({"image/png"}), max_bytes=10)


def test_a_visibility_that_is_neither_public_nor_private_is_refused() -> None:
    with pytest.raises(ValueError, match="visibility"):
        ScopePolicy.model_validate({"types": ["image/png"], "maxBytes": 1, "visibility": "open"})


def test_a_scope_no_longer_configured_is_private() -> None:
    assert not is_public(served("RETIRED"), settings())


def test_a_public_served_asset_has_cdn_urls_for_its_original_and_ready_variants() -> None:
    urls = public_urls(served(), settings())

    assert urls is not None
    assert urls.original == f"{CDN}/{KEY}"
    assert urls.variants == {"512": f"{CDN}/{THUMB.key}", "crop-1": f"{CDN}/{CROP.key}"}


@pytest.mark.parametrize(
    "case",
    [
        {"scope": "GENERIC"},
        {"status": AssetStatus.PENDING},
        {"status": AssetStatus.DELETED},
        {"status": AssetStatus.QUARANTINED, "scan_status": ScanStatus.INFECTED},
        {"status": AssetStatus.REJECTED},
        {"scan_status": ScanStatus.PENDING},
    ],
    ids=["private", "pending", "deleted", "quarantined", "rejected", "waiting-for-scan"],
)
def test_no_cdn_url_for_what_is_private_or_not_served(case: dict[str, object]) -> None:
    candidate = served(**case)

    assert public_urls(candidate, settings()) is None
    assert servable(candidate, KEY, settings()) is None


def test_without_a_cdn_there_is_no_cdn_url() -> None:
    assert public_urls(served(), settings(public_base_url=None)) is None


def test_a_scan_found_clean_or_an_error_served_by_policy_is_on_the_cdn() -> None:
    assert public_urls(served(scan_status=ScanStatus.CLEAN), settings()) is not None
    assert public_urls(served(scan_status=ScanStatus.ERROR), settings()) is not None


def test_the_cdn_serves_the_original_briefly_and_variants_for_a_year() -> None:
    candidate = served()

    original = servable(candidate, KEY, settings())
    variant = servable(candidate, THUMB.key, settings())

    assert original is not None
    assert original.cache_control == ORIGINAL_CACHE_CONTROL == "public, max-age=300"
    assert variant is not None
    assert variant.cache_control == "public, max-age=31536000, immutable"


def test_the_cdn_serves_no_other_key_of_the_asset() -> None:
    candidate = served()

    for key in (PENDING_CROP.key, "derived/alice/a1/old/512.webp", "media/alice/a1/other.png"):
        assert servable(candidate, key, settings()) is None
    assert servable(None, KEY, settings()) is None


def test_stopping_serving_invalidates_the_original_and_each_variant_by_its_key() -> None:
    paths = cdn_paths(served())

    assert paths == [f"/{KEY}", f"/{CROP.key}", f"/{THUMB.key}"]


def test_a_cdn_url_is_the_key_under_the_base() -> None:
    assert cdn_url("http://127.0.0.1:8000/cdn/", "media/a b/x.png") == (
        "http://127.0.0.1:8000/cdn/media/a%20b/x.png"
    )


# --- bandwidth: a row per month ----------------------------------------------------------


def test_bandwidth_is_counted_per_calendar_month_in_utc() -> None:
    late = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)

    assert month_of(late) == "2026-11"
    assert bandwidth_dimension("2026-11") == "bandwidth#2026-11"
    assert not storage_dimension("bandwidth#2026-11")
    assert storage_dimension("total")
    assert storage_dimension("folder#bandwidth")


def test_a_month_resets_at_the_first_instant_of_the_next() -> None:
    assert month_reset_at("2026-11") == datetime(2026, 12, 1, tzinfo=UTC)
    assert month_reset_at("2026-12") == datetime(2027, 1, 1, tzinfo=UTC)


def test_each_tier_has_a_monthly_bandwidth_and_configured_tiers_get_a_default() -> None:
    assert DEFAULT_TIERS["free"].bandwidth_bytes == 10 * 1024**3
    assert DEFAULT_TIERS["pro"].bandwidth_bytes == 1024**4
    assert TierLimits(storage_bytes=1, max_files=1).bandwidth_bytes == 10 * 1024**3


def test_bandwidth_warns_at_80_and_100_percent() -> None:
    limits = TierLimits(storage_bytes=1, max_files=1, bandwidth_bytes=1000)

    assert bandwidth_warning_level(799, limits) == 0
    assert bandwidth_warning_level(800, limits) == 80
    assert bandwidth_warning_level(1000, limits) == 100
