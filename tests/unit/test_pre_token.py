"""The Cognito pre-token-generation trigger puts the user's tier in the access token."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HANDLER = Path(__file__).resolve().parents[2] / "functions" / "pre_token" / "handler.py"


@pytest.fixture(scope="module")
def pre_token() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pre_token_handler", HANDLER)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _event(attributes: dict[str, str]) -> dict[str, Any]:
    """A V2_0 TokenGeneration_HostedAuth event as Cognito sends it (response empty)."""
    return {
        "version": "2",
        "triggerSource": "TokenGeneration_Authentication",
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_example",
        "userName": "alice",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown", "clientId": "client"},
        "request": {
            "userAttributes": {"sub": "0000-aaaa", "email": "alice@example.com", **attributes},
            "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": []},
            "scopes": ["aws.cognito.signin.user.admin"],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def test_the_tier_attribute_becomes_an_access_token_claim(pre_token: ModuleType) -> None:
    event = pre_token.handler(_event({"custom:tier": "pro"}), None)
    details = event["response"]["claimsAndScopeOverrideDetails"]
    assert details == {"accessTokenGeneration": {"claimsToAddOrOverride": {"custom:tier": "pro"}}}


@pytest.mark.parametrize("attributes", [{}, {"custom:tier": ""}, {"custom:tier": "  "}])
def test_a_user_without_a_tier_gets_no_claim_and_so_the_default_tier(
    pre_token: ModuleType, attributes: dict[str, str]
) -> None:
    event = pre_token.handler(_event(attributes), None)
    assert event["response"]["claimsAndScopeOverrideDetails"] is None


def test_claims_another_trigger_step_added_are_kept(pre_token: ModuleType) -> None:
    event = _event({"custom:tier": "free"})
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "accessTokenGeneration": {"claimsToAddOrOverride": {"team": "blue"}},
        "idTokenGeneration": {"claimsToSuppress": ["email"]},
    }
    details = pre_token.handler(event, None)["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"]["claimsToAddOrOverride"] == {
        "team": "blue",
        "custom:tier": "free",
    }
    assert details["idTokenGeneration"] == {"claimsToSuppress": ["email"]}
