"""Settings, read from the environment once per cold start (never at import time)."""

from __future__ import annotations

import functools

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediaport.policy import ScopePolicy


class Settings(BaseSettings):
    """Every knob, with defaults that make the local stack work without a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="MEDIAPORT_", extra="ignore", frozen=True)

    table_name: str = "mediaport-assets"
    bucket_name: str = "mediaport-media"
    region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("MEDIAPORT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    # How long a presigned upload URL or POST policy stays valid.
    presign_expires_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    # How long a presigned download URL (variants, originals) stays valid.
    download_expires_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # A PENDING asset whose upload never arrives is removed by DynamoDB TTL after this.
    pending_ttl_seconds: int = Field(default=24 * 3600, ge=300)
    # Scope policies that replace or add to the defaults, e.g.
    # {"BANNER": {"types": ["image/png"], "maxBytes": 1048576}}.
    scopes: dict[str, ScopePolicy] = Field(default_factory=dict)
    # Images with more pixels than this are rejected before they are decoded.
    max_image_pixels: int = Field(default=100_000_000, ge=1)
    # Where ready media is served from when a CDN fronts the bucket (no trailing slash).
    public_base_url: str | None = None


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, validated on first use and reused while warm."""
    return Settings()
