"""Function settings: what a deployment must set, and what it may not ask for."""

import pytest

from mediaport.config import MAX_URL_EXPIRY_SECONDS, ConfigurationError, Settings, get_settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    for name in ("MEDIAPORT_TABLE_NAME", "MEDIAPORT_BUCKET_NAME"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_a_missing_table_or_bucket_fails_with_the_variable_named(environment) -> None:
    environment.setenv("MEDIAPORT_BUCKET_NAME", "media")

    with pytest.raises(ConfigurationError, match="MEDIAPORT_TABLE_NAME: Field required"):
        get_settings()


def test_no_default_names_a_resource(environment) -> None:
    with pytest.raises(ConfigurationError) as raised:
        get_settings()
    assert "MEDIAPORT_TABLE_NAME" in str(raised.value)
    assert "MEDIAPORT_BUCKET_NAME" in str(raised.value)


@pytest.mark.parametrize("name", ["presign_expires_seconds", "download_expires_seconds"])
def test_url_expiries_are_capped_at_what_role_credentials_can_honour(name: str) -> None:
    base = {
        "table_name": "assets",
        "bucket_name": "media",
        "usage_table_name": "usage",
        "folder_table_name": "folders",
    }
    assert getattr(Settings(**base, **{name: MAX_URL_EXPIRY_SECONDS}), name) == 3600
    with pytest.raises(ValueError, match="less than or equal to 3600"):
        Settings(**base, **{name: MAX_URL_EXPIRY_SECONDS + 1})


def test_rejected_records_expire_after_thirty_days_by_default() -> None:
    assert (
        Settings(
            table_name="assets",
            bucket_name="media",
            usage_table_name="usage",
            folder_table_name="folders",
        ).rejected_ttl_seconds
        == 30 * 86400
    )
