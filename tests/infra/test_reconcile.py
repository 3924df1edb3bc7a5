"""The daily usage reconcile: a schedule invokes the function, which is told whether to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local.lambdas import load_module
from infra.reconcile import ENV_RECONCILE_FIX
from tests.infra.conftest import Synth, synthesize


def reconcile_environment(synth: Synth) -> dict[str, str]:
    (function,) = (
        resource
        for key, resource in synth.resources_of_type("AWS::Lambda::Function").items()
        if key.startswith("reconcileusage")
    )
    variables: dict[str, str] = function["Properties"]["Environment"]["Variables"]
    return variables


def test_a_daily_schedule_invokes_the_reconcile_function(synth: Synth) -> None:
    (rule,) = synth.resources_of_type("AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "cron(17 3 * * ? *)"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("reconcileusage")
    permissions = synth.resources_of_type("AWS::Lambda::Permission").values()
    assert any(p["Properties"]["Principal"] == "events.amazonaws.com" for p in permissions)


def test_reconcile_reports_only_unless_the_stack_says_fix(synth: Synth, tmp_path: Path) -> None:
    assert reconcile_environment(synth)[ENV_RECONCILE_FIX] == "false"
    fixing = synthesize(tmp_path, reconcileFix="true")
    assert reconcile_environment(fixing)[ENV_RECONCILE_FIX] == "true"


def test_the_fix_variable_is_the_one_the_function_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_class = load_module("reconcile_usage").ReconcileSettings
    monkeypatch.setenv(ENV_RECONCILE_FIX, "true")
    assert settings_class().reconcile_fix is True
