"""Cognito pre-token-generation trigger (V2_0): the user's storage tier in access tokens.

Cognito puts custom attributes in ID tokens only; API Gateway's JWT authorizer is given
access tokens, so this copies the ``custom:tier`` attribute into the access token as a
``custom:tier`` claim (``MEDIAPORT_TIER_CLAIM``'s default). A user without the attribute
gets no claim, and the functions apply the default tier. Pure standard library: it runs
on every sign-in and token refresh, so it imports nothing it does not need.
"""

from __future__ import annotations

from typing import Any

TIER_ATTRIBUTE = "custom:tier"
TIER_CLAIM = "custom:tier"


def tier_claims(user_attributes: dict[str, str]) -> dict[str, str]:
    """The claims to add to the access token: the tier when the user has one."""
    tier = (user_attributes.get(TIER_ATTRIBUTE) or "").strip()
    return {TIER_CLAIM: tier} if tier else {}


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Add the tier claim to the access token; Cognito expects the event back."""
    claims = tier_claims(event.get("request", {}).get("userAttributes") or {})
    if claims:
        response = event.setdefault("response", None) or {}
        overrides = response.get("claimsAndScopeOverrideDetails") or {}
        access = overrides.get("accessTokenGeneration") or {}
        access["claimsToAddOrOverride"] = {**(access.get("claimsToAddOrOverride") or {}), **claims}
        overrides["accessTokenGeneration"] = access
        response["claimsAndScopeOverrideDetails"] = overrides
        event["response"] = response
    return event
