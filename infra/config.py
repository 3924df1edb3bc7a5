"""Deployment settings read from CDK context (``cdk.json`` or ``cdk deploy -c key=value``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from constructs import Node

from infra.constants import DEFAULT_ALLOWED_ORIGINS

_REMOVAL_POLICIES = {"retain": RemovalPolicy.RETAIN, "destroy": RemovalPolicy.DESTROY}


def _as_list(value: object) -> tuple[str, ...]:
    """Context arrives as a JSON list from cdk.json or a comma list from ``-c``."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise ValueError(f"expected a list or a comma-separated string, got {value!r}")
    return tuple(str(item).strip() for item in items if str(item).strip())


@dataclass(frozen=True)
class DeploymentSettings:
    """What a deployer may choose; everything else is in ``infra.constants``."""

    allowed_origins: tuple[str, ...] = DEFAULT_ALLOWED_ORIGINS
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()

    @classmethod
    def from_context(cls, node: Node) -> DeploymentSettings:
        """Read and validate allowedOrigins, removalPolicy, jwtIssuer and jwtAudience."""
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
        return cls(
            allowed_origins=origins,
            removal_policy=_REMOVAL_POLICIES[policy_name],
            jwt_issuer=str(issuer) if issuer else None,
            jwt_audience=audience,
        )
