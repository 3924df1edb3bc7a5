"""Settings, read from the environment once per cold start (never at import time).

Handlers read them (``get_settings()``) and pass what a use case needs; nothing deeper in
the domain looks them up. The table and bucket have no defaults: on AWS the stack sets
them, locally the local stack does, and a missing one fails the first invocation with a
message naming the variable, instead of silently naming some other deployment's
resources.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediaport.model.attachments import EntityType, check_entity_types, entity_type_table
from mediaport.model.usage import DEFAULT_TIER, DEFAULT_TIERS, TierLimits
from mediaport.policy import ScopePolicy, scope_table

# A URL presigned with a Lambda role's temporary credentials stops working when those
# credentials expire, whatever its own expiry says, and Lambda promises no remaining
# lifetime for them. One hour is what can be honoured (docs/deploy.md).
MAX_URL_EXPIRY_SECONDS = 3600


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has an invalid setting."""


class Settings(BaseSettings):
    """Every knob. Only the resource names are required; every other default is safe."""

    model_config = SettingsConfigDict(env_prefix="MEDIAPORT_", extra="ignore", frozen=True)

    table_name: str = Field(min_length=3)
    bucket_name: str = Field(min_length=3)
    # Storage usage: changed in the same transaction as every state change it counts.
    usage_table_name: str = Field(min_length=3)
    # Library folders: their counts change in the same transactions as the assets.
    folder_table_name: str = Field(min_length=3)
    idempotency_table_name: str | None = None
    # uppy only: where upload sessions (Uppy's capability URLs) are kept.
    session_table_name: str | None = None
    # media and attachments only: which asset is attached to which host-app thing.
    attachment_table_name: str | None = None
    region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("MEDIAPORT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    # How long a presigned upload URL or POST policy stays valid.
    presign_expires_seconds: int = Field(default=900, ge=60, le=MAX_URL_EXPIRY_SECONDS)
    # How long a presigned download URL (variants, originals) stays valid.
    download_expires_seconds: int = Field(default=3600, ge=60, le=MAX_URL_EXPIRY_SECONDS)
    # A PENDING asset whose upload never arrives is removed by DynamoDB TTL after this.
    pending_ttl_seconds: int = Field(default=24 * 3600, ge=300)
    # A REJECTED asset's record (its reason, for the client to read) is kept this long.
    rejected_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    # A deleted asset stays in the trash (restorable) this many days; then its files are
    # purged, and a record of the purge is kept as long again (restore answers 409).
    trash_days: int = Field(default=30, ge=1, le=3650)
    # Scope policies that replace or add to the defaults, e.g.
    # {"BANNER": {"types": ["image/png"], "maxBytes": 1048576}}.
    scopes: dict[str, ScopePolicy] = Field(default_factory=dict)
    # The part size a multipart upload is planned with (larger when 10,000 parts would
    # not hold the file); S3 takes 5 MiB to 5 GiB.
    multipart_part_bytes: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024, le=5 * 1024**3)
    # Storage tiers (JSON), e.g. {"free": {"storageBytes": 1073741824, "maxFiles": 10000}}:
    # they replace the defaults (free and pro).
    tiers: dict[str, TierLimits] = Field(default_factory=lambda: dict(DEFAULT_TIERS))
    # The JWT claim naming the caller's tier, and the tier of a caller without a known one.
    tier_claim: str = Field(default="custom:tier", min_length=1)
    default_tier: str = Field(default=DEFAULT_TIER, min_length=1)
    # Images with more pixels than this are rejected before they are decoded.
    max_image_pixels: int = Field(default=100_000_000, ge=1)
    # How long an Uppy upload session (its companionEndpoint) lasts: at most an hour, so a
    # leaked capability URL is worth no more than a leaked presigned one.
    upload_session_seconds: int = Field(default=3600, ge=60, le=MAX_URL_EXPIRY_SECONDS)
    # Where public media is served from: the CDN in front of the bucket (CloudFront's
    # domain on AWS, the local gateway's /cdn locally), no trailing slash. Unset: no cdnUrl.
    public_base_url: str | None = None
    # The CloudFront distribution a delete, quarantine or purge invalidates (docs/serving.md);
    # unset (locally, or without a CDN): nothing to invalidate.
    cdn_distribution_id: str | None = None
    # Entity types that replace or add to the defaults (post, avatar, vehicle), e.g.
    # {"listing": {"scopes": ["GENERIC"], "maxAttachments": 20}} (docs/attachments.md).
    entity_types: dict[str, EntityType] = Field(default_factory=dict)
    # transforms and admin: the jobs queue that feeds transform_media.
    jobs_queue_url: str | None = None
    # Requested variants (resize, crop, optimize) one asset may have.
    max_variants: int = Field(default=20, ge=1, le=100)
    # Malware scanning: off, guardduty (AWS) or local (the local stack's EICAR stand-in).
    # On, a READY asset is served only once its scan is clean (docs/scanning.md).
    scan: Literal["off", "guardduty", "local"] = "off"
    # A scan that could not be done (UNSUPPORTED, ACCESS_DENIED, FAILED): block keeps the
    # asset QUARANTINED until an admin releases it; serve serves it as if clean.
    scan_error_policy: Literal["block", "serve"] = "block"
    # --- Events and webhooks (docs/events.md) ---
    # publish_events: the EventBridge bus every asset state change is put on (its name).
    event_bus_name: str | None = None
    # publish_events (sends) and deliver_webhooks (backs off): the webhook queue.
    webhook_queue_url: str | None = None
    # Where webhooks go: one URL, or several separated by commas; empty, none are sent.
    webhook_url: str = ""
    # deliver_webhooks: the Standard Webhooks signing secret ("whsec_" + base64): its value
    # (locally, a dev key the local stack sets), or on AWS the ARN of the Secrets Manager
    # secret holding it (read once per cold start).
    webhook_secret: str | None = Field(default=None, repr=False)
    webhook_secret_arn: str | None = None
    # deliver_webhooks: the webhook queue's maxReceiveCount (after its last delivery a
    # failed webhook goes to the DLQ), and the delay before the first retry; each next
    # one doubles, up to SQS's 12 hours.
    webhook_max_receive_count: int | None = Field(default=None, ge=1)
    webhook_backoff_seconds: int = Field(default=30, ge=1, le=43200)

    @model_validator(mode="after")
    def _default_tier_exists(self) -> Settings:
        if self.default_tier not in self.tiers:
            raise ValueError(
                f"default_tier {self.default_tier!r} is not one of the tiers "
                f"({', '.join(sorted(self.tiers))})"
            )
        return self

    @model_validator(mode="after")
    def _entity_types_are_sound(self) -> Settings:
        check_entity_types(self.entity_type_table, set(scope_table(self.scopes)))
        return self

    @property
    def entity_type_table(self) -> dict[str, EntityType]:
        """Every entity type of this deployment: the defaults and the configured ones."""
        return entity_type_table(self.entity_types)

    @property
    def scanning(self) -> bool:
        return self.scan != "off"

    def tier_of(self, claimed: str | None) -> str:
        """The caller's tier: the claimed one when it exists, else the default."""
        return claimed if claimed in self.tiers else self.default_tier


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, validated on first use and reused while warm."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"MEDIAPORT_{'_'.join(str(part) for part in item['loc']).upper()}: {item['msg']}"
            for item in error.errors()
        )
        raise ConfigurationError(f"invalid function configuration: {problems}") from None
