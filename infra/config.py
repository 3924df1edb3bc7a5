"""Deployment settings read from CDK context (``cdk.json`` or ``cdk deploy -c key=value``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from aws_cdk import RemovalPolicy
from constructs import Node

from infra.constants import (
    DEFAULT_ALLOWED_ORIGINS,
    SCAN_ERROR_BLOCK,
    SCAN_ERROR_POLICIES,
    SCANNING_GUARDDUTY,
    SCANNING_MODES,
    SCANNING_OFF,
)
from mediaport import names

_REMOVAL_POLICIES = {"retain": RemovalPolicy.RETAIN, "destroy": RemovalPolicy.DESTROY}
# EventBridge's rule for an event bus name; "default" is the account's own bus, not ours.
_EVENT_BUS_NAME = re.compile(r"[A-Za-z0-9._\-]{1,256}")


def _as_list(value: object) -> tuple[str, ...]:
    """Context arrives as a JSON list from cdk.json or a comma list from ``-c``."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise ValueError(f"expected a list or a comma-separated string, got {value!r}")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _as_flag(name: str, value: object, *, default: bool = False) -> bool:
    """Context arrives as a JSON boolean from cdk.json or a string from ``-c``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "false"):
        return str(value).strip().lower() == "true"
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _as_choice(name: str, value: object, choices: tuple[str, ...], default: str) -> str:
    """One of ``choices`` (case-insensitive); unset is ``default``."""
    chosen = str(value).strip().lower() if value is not None else ""
    if not chosen:
        return default
    if chosen not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return chosen


@dataclass(frozen=True)
class DeploymentSettings:
    """What a deployer may choose; everything else is in ``infra.constants``."""

    allowed_origins: tuple[str, ...] = DEFAULT_ALLOWED_ORIGINS
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    # Whether the daily usage reconcile corrects the drift it finds (else only reports it).
    reconcile_fix: bool = False
    # Copy each user's custom:tier attribute into their access tokens (the stack's own
    # user pool only: an external issuer puts the claim in its tokens itself).
    tier_trigger: bool = False
    # Malware scanning: off, or guardduty (GuardDuty Malware Protection for S3 on media/).
    scanning: str = SCANNING_OFF
    # What a scan that could not be done means: block (quarantined) or serve.
    scan_error_policy: str = SCAN_ERROR_BLOCK
    # Serve public media through CloudFront (origin access control, standard logs counted
    # as bandwidth); off, public media gets presigned URLs like private media.
    cdn: bool = True
    # Where every event is also POSTed, signed (Standard Webhooks); none: no webhooks.
    webhook_urls: tuple[str, ...] = ()
    # The custom EventBridge bus the events go on (one per account and region by name).
    event_bus_name: str = names.EVENT_BUS_NAME
    # Lambda SnapStart on the API functions: each publishes a version, restored from its
    # snapshot instead of initialized, and API Gateway calls its ``live`` alias. Billed
    # per cached version and per restore (docs/deploy.md), so off unless asked for.
    snap_start: bool = False

    @property
    def guardduty_scanning(self) -> bool:
        return self.scanning == SCANNING_GUARDDUTY

    @classmethod
    def from_context(cls, node: Node) -> DeploymentSettings:
        """Read and validate allowedOrigins, removalPolicy, jwtIssuer, jwtAudience,
        tierTrigger, reconcileFix, scanning, scanErrorPolicy, cdn, webhookUrls,
        eventBusName and snapStart."""
        origins = _as_list(node.try_get_context("allowedOrigins")) or DEFAULT_ALLOWED_ORIGINS
        policy_name = str(node.try_get_context("removalPolicy") or "retain").lower()
        if policy_name not in _REMOVAL_POLICIES:
            raise ValueError(f"removalPolicy must be one of {sorted(_REMOVAL_POLICIES)}")
        issuer = node.try_get_context("jwtIssuer") or None
        audience = _as_list(node.try_get_context("jwtAudience"))
        if bool(issuer) != bool(audience):
            raise ValueError("jwtIssuer and jwtAudience must be given together")
        if issuer and not str(issuer).startswith("https://"):
            raise ValueError("jwtIssuer must be an https:// URL")
        tier_trigger = _as_flag("tierTrigger", node.try_get_context("tierTrigger"))
        if tier_trigger and issuer:
            raise ValueError("tierTrigger needs the stack's own user pool, not a jwtIssuer")
        return cls(
            allowed_origins=origins,
            removal_policy=_REMOVAL_POLICIES[policy_name],
            jwt_issuer=str(issuer) if issuer else None,
            jwt_audience=audience,
            tier_trigger=tier_trigger,
            reconcile_fix=_as_flag("reconcileFix", node.try_get_context("reconcileFix")),
            scanning=_scanning(node.try_get_context("scanning")),
            scan_error_policy=_as_choice(
                "scanErrorPolicy",
                node.try_get_context("scanErrorPolicy"),
                SCAN_ERROR_POLICIES,
                SCAN_ERROR_BLOCK,
            ),
            cdn=_as_flag("cdn", node.try_get_context("cdn"), default=True),
            webhook_urls=_webhook_urls(node.try_get_context("webhookUrls")),
            event_bus_name=_event_bus_name(node.try_get_context("eventBusName")),
            snap_start=_as_flag("snapStart", node.try_get_context("snapStart")),
        )


def _scanning(value: object) -> str:
    """The scanning mode; the local stack's stand-in is refused by name, not as a typo."""
    if str(value).strip().lower() == "local":
        raise ValueError(
            "scanning=local is the local stack's stand-in scanner (MEDIAPORT_SCAN=local); "
            f"on AWS, scanning must be one of {', '.join(SCANNING_MODES)}"
        )
    return _as_choice("scanning", value, SCANNING_MODES, SCANNING_OFF)


def _webhook_urls(value: object) -> tuple[str, ...]:
    """The webhook receivers: https:// URLs only (a function on AWS cannot reach a
    loopback receiver, and a signed event is still readable on the wire without TLS)."""
    urls = _as_list(value)
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in url):
            raise ValueError(f"webhookUrls must be https:// URLs, got {url!r}")
        # The functions get them as one comma-separated variable.
        if "," in url:
            raise ValueError(f"a webhook URL cannot hold a comma (they are joined by one): {url!r}")
        if parts.username or parts.password:
            raise ValueError(
                f"webhookUrls must not carry credentials (they would sit in the functions' "
                f"environment): {parts.hostname}"
            )
    return urls


def _event_bus_name(value: object) -> str:
    """The bus name: EventBridge's characters, and never the account's default bus."""
    name = str(value).strip() if value is not None else ""
    if not name:
        return names.EVENT_BUS_NAME
    if not _EVENT_BUS_NAME.fullmatch(name) or name == "default":
        raise ValueError(
            "eventBusName must be 1-256 letters, digits, '.', '-' or '_' and not 'default', "
            f"got {value!r}"
        )
    return name
