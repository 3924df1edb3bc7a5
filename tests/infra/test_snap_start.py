"""SnapStart (context ``snapStart=true``): the API functions publish a version, restored
from its snapshot, and API Gateway calls it through the ``live`` alias. Off by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from infra.config import DeploymentSettings
from infra.functions import LIVE_ALIAS
from infra.routes import EVENT_FUNCTIONS, ROUTES, api_functions
from tests.infra.conftest import Synth, synthesize
from tests.infra.test_api import routes_by_key
from tests.infra.test_cfn_lint import run_cfn_lint
from tests.infra.test_functions import mediaport_functions
from tests.infra.test_nag import describe


@pytest.fixture(scope="module")
def snap_start_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk.out-snap-start"), snapStart="true")


def logical_ids_by_name(synth: Synth) -> dict[str, str]:
    """Our functions' template keys by function name."""
    return {
        props["Properties"]["Description"].removeprefix("Mediaport "): key
        for key, props in synth.resources_of_type("AWS::Lambda::Function").items()
        if str(props["Properties"].get("Description", "")).startswith("Mediaport ")
    }


def integration_target(synth: Synth, route_key: str) -> Any:
    """What the integration of a route invokes (its IntegrationUri)."""
    integrations = synth.resources_of_type("AWS::ApiGatewayV2::Integration")
    target = routes_by_key(synth)[route_key]["Target"]["Fn::Join"][1][1]["Ref"]
    return integrations[target]["Properties"]["IntegrationUri"]


def test_by_default_no_function_has_snap_start_and_routes_call_latest(synth: Synth) -> None:
    for name, fn in mediaport_functions(synth).items():
        assert "SnapStart" not in fn, name
    assert synth.resources_of_type("AWS::Lambda::Alias") == {}
    functions = logical_ids_by_name(synth)
    for route in ROUTES:
        uri = integration_target(synth, route.route_key)
        assert uri == {"Fn::GetAtt": [functions[route.function], "Arn"]}, route.route_key


def test_snap_start_is_on_for_published_versions_of_every_api_function(
    snap_start_synth: Synth,
) -> None:
    functions = mediaport_functions(snap_start_synth)
    for name in api_functions():
        assert functions[name]["SnapStart"] == {"ApplyOn": "PublishedVersions"}, name
    # Queues, streams and schedules wait for no person: their functions start as before.
    for name in EVENT_FUNCTIONS:
        assert "SnapStart" not in functions[name], name


def test_each_api_function_has_a_live_alias_on_its_published_version(
    snap_start_synth: Synth,
) -> None:
    functions = logical_ids_by_name(snap_start_synth)
    versions = snap_start_synth.resources_of_type("AWS::Lambda::Version")
    aliases = snap_start_synth.resources_of_type("AWS::Lambda::Alias")
    by_function = {alias["Properties"]["FunctionName"]["Ref"]: alias for alias in aliases.values()}
    assert set(by_function) == {functions[name] for name in api_functions()}
    for name in api_functions():
        alias = by_function[functions[name]]["Properties"]
        assert alias["Name"] == LIVE_ALIAS
        version = versions[alias["FunctionVersion"]["Fn::GetAtt"][0]]["Properties"]
        assert version["FunctionName"] == {"Ref": functions[name]}


def test_every_route_calls_the_live_alias_of_its_function(snap_start_synth: Synth) -> None:
    functions = logical_ids_by_name(snap_start_synth)
    aliases = snap_start_synth.resources_of_type("AWS::Lambda::Alias")
    for route in ROUTES:
        alias_id = integration_target(snap_start_synth, route.route_key)["Ref"]
        alias = aliases[alias_id]["Properties"]
        assert alias["FunctionName"] == {"Ref": functions[route.function]}, route.route_key


def test_api_gateway_may_invoke_the_aliases(snap_start_synth: Synth) -> None:
    aliases = snap_start_synth.resources_of_type("AWS::Lambda::Alias")
    invoked = {
        permission["Properties"]["FunctionName"]["Ref"]
        for permission in snap_start_synth.resources_of_type("AWS::Lambda::Permission").values()
        if permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
        and isinstance(permission["Properties"]["FunctionName"], dict)
        and "Ref" in permission["Properties"]["FunctionName"]
    }
    assert set(aliases) <= invoked


def test_the_snap_start_variant_passes_cdk_nag(snap_start_synth: Synth) -> None:
    assert describe(snap_start_synth) == []


def test_the_snap_start_variant_passes_cfn_lint(snap_start_synth: Synth, tmp_path: Path) -> None:
    run_cfn_lint(snap_start_synth, tmp_path)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), ("true", True), (True, True), ("false", False)]
)
def test_snap_start_reads_a_flag_from_context(value: object, expected: bool) -> None:
    app = App(context={} if value is None else {"snapStart": value})
    assert DeploymentSettings.from_context(app.node).snap_start is expected


def test_a_snap_start_value_that_is_no_flag_is_refused() -> None:
    app = App(context={"snapStart": "sometimes"})
    with pytest.raises(ValueError, match="snapStart must be true or false"):
        DeploymentSettings.from_context(app.node)
