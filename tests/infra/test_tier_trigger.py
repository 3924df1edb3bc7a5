"""tierTrigger=true: users get a custom:tier attribute that a pre-token-generation
trigger (V2_0) copies into their access tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match

from infra.config import DeploymentSettings
from tests.infra.conftest import Synth, cdk_json_context, synthesize
from tests.infra.test_nag import describe


@pytest.fixture(scope="module")
def tier_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk.out-tier-trigger"), tierTrigger="true")


def _trigger_id(synth: Synth) -> str:
    (function_id,) = [
        key
        for key, resource in synth.resources_of_type("AWS::Lambda::Function").items()
        if resource["Properties"].get("Description") == "Mediaport pre_token"
    ]
    return function_id


def test_the_pool_calls_the_tier_trigger_with_the_v2_event(tier_synth: Synth) -> None:
    tier_synth.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "LambdaConfig": {
                "PreTokenGenerationConfig": {
                    "LambdaArn": {"Fn::GetAtt": [_trigger_id(tier_synth), "Arn"]},
                    "LambdaVersion": "V2_0",
                }
            },
            # Access-token customization is an Essentials (or Plus) feature.
            "UserPoolTier": "ESSENTIALS",
        },
    )


def test_cognito_may_invoke_the_trigger(tier_synth: Synth) -> None:
    tier_synth.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [_trigger_id(tier_synth), "Arn"]},
            "Principal": "cognito-idp.amazonaws.com",
        },
    )


def test_the_tier_is_a_mutable_attribute_the_users_client_cannot_write(
    tier_synth: Synth,
) -> None:
    tier_synth.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "Schema": Match.array_with(
                [
                    Match.object_like(
                        {"Name": "tier", "AttributeDataType": "String", "Mutable": True}
                    )
                ]
            )
        },
    )
    (client,) = tier_synth.resources_of_type("AWS::Cognito::UserPoolClient").values()
    written = client["Properties"]["WriteAttributes"]
    assert written
    assert "custom:tier" not in written


def test_the_trigger_is_a_plain_python_function_with_no_layer(tier_synth: Synth) -> None:
    trigger = tier_synth.resources[_trigger_id(tier_synth)]["Properties"]
    assert trigger["Runtime"] == "python3.13"
    assert trigger["Architectures"] == ["arm64"]
    assert "Layers" not in trigger


def test_the_tier_trigger_variant_has_no_unacknowledged_nag_findings(tier_synth: Synth) -> None:
    assert describe(tier_synth) == []


def test_by_default_there_is_no_trigger_and_no_tier_attribute(synth: Synth) -> None:
    (pool,) = synth.resources_of_type("AWS::Cognito::UserPool").values()
    assert "LambdaConfig" not in pool["Properties"]
    assert "Schema" not in pool["Properties"]


def test_the_trigger_needs_the_stacks_own_user_pool() -> None:
    app = App(
        context=cdk_json_context(
            tierTrigger=True, jwtIssuer="https://issuer.example.com/", jwtAudience="web"
        )
    )
    with pytest.raises(ValueError, match="tierTrigger"):
        DeploymentSettings.from_context(app.node)


@pytest.mark.parametrize(("value", "expected"), [("true", True), (False, False), (None, False)])
def test_tier_trigger_is_read_from_cdk_json_or_the_command_line(
    value: object, expected: bool, tmp_path: Path
) -> None:
    app = App(context=cdk_json_context(tierTrigger=value))
    assert DeploymentSettings.from_context(app.node).tier_trigger is expected


def test_a_tier_trigger_that_is_not_a_boolean_is_refused() -> None:
    app = App(context=cdk_json_context(tierTrigger="yes"))
    with pytest.raises(ValueError, match="tierTrigger must be true or false"):
        DeploymentSettings.from_context(app.node)
