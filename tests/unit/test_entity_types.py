"""Entity types are data: the defaults, what configuration may change, and the asset's
attach and detach decisions. Pure: no I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mediaport.config import Settings
from mediaport.model import Asset, AssetStatus, IllegalTransition
from mediaport.model.attachments import (
    MAX_ATTACHMENTS_PER_ASSET,
    AttachmentLimitReached,
    is_entity_id,
)

NAMES = {
    "table_name": "assets",
    "bucket_name": "media",
    "usage_table_name": "usage",
    "folder_table_name": "folders",
}
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def settings(monkeypatch: pytest.MonkeyPatch, entity_types: dict[str, Any]) -> Settings:
    monkeypatch.setenv("MEDIAPORT_ENTITY_TYPES", json.dumps(entity_types))
    return Settings(**NAMES)


def asset(status: AssetStatus = AssetStatus.READY, usage_count: int = 0) -> Asset:
    return Asset(
        asset_id="a1",
        user_id="alice",
        scope="POST_ATTACHMENT",
        status=status,
        bucket="media",
        key="media/alice/a1/a.png",
        filename="a.png",
        original_filename="a.png",
        declared_type="image/png",
        usage_count=usage_count,
        version=7,
    )


def test_the_default_entity_types_follow_the_product_spec() -> None:
    types = Settings(**NAMES).entity_type_table

    assert (types["post"].scopes, types["post"].max_attachments) == ({"POST_ATTACHMENT"}, 1)
    assert types["avatar"].scopes == {"PROFILE_AVATAR"}
    assert (types["avatar"].max_attachments, types["avatar"].per_user) == (1, True)
    assert types["vehicle"].scopes == {"GENERIC", "POST_ATTACHMENT"}
    assert types["vehicle"].max_attachments == 50


def test_configuration_replaces_and_adds_entity_types(monkeypatch: pytest.MonkeyPatch) -> None:
    types = settings(
        monkeypatch,
        {
            "post": {"scopes": ["POST_ATTACHMENT", "GENERIC"], "maxAttachments": 4},
            "listing": {"scopes": ["GENERIC"], "maxAttachments": 20},
        },
    ).entity_type_table

    assert types["post"].max_attachments == 4
    assert types["listing"].scopes == {"GENERIC"}
    assert set(types) == {"post", "avatar", "vehicle", "listing"}


@pytest.mark.parametrize(
    ("entity_types", "complaint"),
    [
        ({"boat": {"scopes": ["BANNER"], "maxAttachments": 1}}, "unknown scopes: BANNER"),
        ({"Boat": {"scopes": ["GENERIC"], "maxAttachments": 1}}, "is not 1-32"),
        ({"boat": {"scopes": ["GENERIC"], "maxAttachments": 101}}, "less than or equal to 100"),
        ({"boat": {"scopes": [], "maxAttachments": 1}}, "at least 1 item"),
        ({"avatar": {"scopes": ["PROFILE_AVATAR"], "maxAttachments": 2}}, "one per user"),
    ],
)
def test_an_unsound_entity_type_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, entity_types: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        settings(monkeypatch, entity_types)


def test_a_configured_scope_may_be_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAPORT_SCOPES", '{"BANNER": {"types": ["image/png"], "maxBytes": 9}}')
    types = settings(monkeypatch, {"page": {"scopes": ["BANNER"], "maxAttachments": 1}})

    assert types.entity_type_table["page"].allows("BANNER")


def test_entity_ids_are_one_safe_path_segment() -> None:
    assert is_entity_id("123")
    assert is_entity_id("0b6e2a4c-5d1f-4e8a-9c3b-7f2d1a6e8b90")
    assert is_entity_id("user@example.com")
    for bad in ("", "a/b", "a#b", "a b", "x" * 129):
        assert not is_entity_id(bad), bad


def test_attaching_counts_one_more_use_on_the_version_read() -> None:
    transition = asset(usage_count=2).attach(NOW)

    assert transition.expect_status is AssetStatus.READY
    assert transition.expect_version == 7
    assert transition.changes == {"usage_count": 3, "last_used_at": NOW}


def test_only_a_ready_asset_is_attached() -> None:
    for status in (AssetStatus.PENDING, AssetStatus.QUARANTINED, AssetStatus.DELETED):
        with pytest.raises(IllegalTransition):
            asset(status).attach(NOW)


def test_an_asset_is_attached_to_a_bounded_number_of_things() -> None:
    asset(usage_count=MAX_ATTACHMENTS_PER_ASSET - 1).attach(NOW)
    with pytest.raises(AttachmentLimitReached):
        asset(usage_count=MAX_ATTACHMENTS_PER_ASSET).attach(NOW)


def test_detaching_counts_one_use_fewer_in_any_state_and_never_below_zero() -> None:
    quarantined = asset(AssetStatus.QUARANTINED, usage_count=1).detach()
    unused = asset(usage_count=0).detach()

    assert quarantined.expect_status is AssetStatus.QUARANTINED
    assert quarantined.changes == {"usage_count": 0}
    assert unused.changes == {"usage_count": 0}
