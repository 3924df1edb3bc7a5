from mediaport.config import Settings
from mediaport.policy import (
    DEFAULT_SCOPES,
    MIB,
    describe_size,
    normalize_media_type,
    scope_table,
)


def test_default_scopes_follow_the_product_spec() -> None:
    assert DEFAULT_SCOPES["PROFILE_AVATAR"].max_bytes == 2 * MIB
    assert DEFAULT_SCOPES["PROFILE_AVATAR"].types == {"image/jpeg", "image/png", "image/webp"}
    assert DEFAULT_SCOPES["POST_ATTACHMENT"].max_bytes == 50 * MIB
    assert {"video/mp4", "audio/mpeg"} <= DEFAULT_SCOPES["POST_ATTACHMENT"].types
    assert DEFAULT_SCOPES["GENERIC"].max_bytes == 100 * MIB
    assert {"image/gif", "application/pdf"} <= DEFAULT_SCOPES["GENERIC"].types


def test_configuration_replaces_and_adds_scopes(monkeypatch) -> None:
    monkeypatch.setenv(
        "MEDIAPORT_SCOPES",
        '{"PROFILE_AVATAR": {"types": ["image/png"], "maxBytes": 1024},'
        ' "BANNER": {"types": ["image/webp"], "maxBytes": 4096}}',
    )
    table = scope_table(
        Settings(
            table_name="assets",
            bucket_name="media",
            usage_table_name="usage",
            folder_table_name="folders",
        ).scopes
    )
    assert table["PROFILE_AVATAR"].types == {"image/png"}
    assert table["PROFILE_AVATAR"].max_bytes == 1024
    assert table["BANNER"].max_bytes == 4096
    assert table["GENERIC"] == DEFAULT_SCOPES["GENERIC"]


def test_media_types_are_normalized() -> None:
    assert normalize_media_type(" Image/JPG; charset=binary") == "image/jpeg"
    assert normalize_media_type("audio/mp3") == "audio/mpeg"
    assert normalize_media_type("image/png") == "image/png"


def test_sizes_read_like_people_write_them() -> None:
    assert describe_size(2 * MIB) == "2 MiB"
    assert describe_size(1536) == "1.5 KiB"
    assert describe_size(17) == "17 bytes"
