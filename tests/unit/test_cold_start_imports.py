"""What an API function's cold start loads: only what every request needs.

Each case starts a fresh interpreter (as Lambda does) with the environment a deployed
function has, imports the handler, and names the modules that were loaded. The speed
itself is measured by ``bench/cold_init.py``; these say which libraries are deferred to
the request that needs them, and that tracing still works when it is on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.routes import api_functions

ROOT = Path(__file__).resolve().parents[2]

# Loaded by the first request that uses them, never by the import of a handler.
DEFERRED = (
    "aws_xray_sdk.core",
    "boto3",
    "botocore.client",
    "pynamodb",
    "PIL",
    "pydantic_settings",
    "aws_lambda_powertools.utilities.idempotency",
)
TABLES = {
    "MEDIAPORT_TABLE_NAME": "assets",
    "MEDIAPORT_BUCKET_NAME": "media",
    "MEDIAPORT_USAGE_TABLE_NAME": "usage",
    "MEDIAPORT_FOLDER_TABLE_NAME": "folders",
    "MEDIAPORT_IDEMPOTENCY_TABLE_NAME": "idempotency",
}


def lambda_environment(*, tracing: bool, **extra: str) -> dict[str, str]:
    """A deployed function's environment: the runtime's variables, and X-Ray's (on a
    loopback address) when tracing is on."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "core" / "python")]),
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": "Mediaport-test",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "POWERTOOLS_METRICS_DISABLED": "true",
        **TABLES,
        **extra,
    }
    if tracing:
        env["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:2000"
        env["_X_AMZN_TRACE_ID"] = (
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        )
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def run(script: str, env: dict[str, str]) -> dict[str, object]:
    """Run ``script`` in a fresh interpreter; it prints one JSON line as its answer."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def loaded_after_import(function: str, env: dict[str, str]) -> list[str]:
    script = (
        f"import json, sys\nimport functions.{function}.handler\n"
        f"print(json.dumps({{'loaded': [m for m in {DEFERRED!r} if m in sys.modules]}}))"
    )
    loaded = run(script, env)["loaded"]
    assert isinstance(loaded, list)
    return loaded


@pytest.mark.parametrize("tracing", [True, False], ids=["tracing-on", "tracing-off"])
def test_no_api_function_loads_aws_clients_tables_xray_or_pillow_at_import(tracing: bool) -> None:
    env = lambda_environment(tracing=tracing)
    for function in api_functions():
        assert loaded_after_import(function, env) == [], function


def test_under_snap_start_the_snapshot_holds_what_a_first_request_loads() -> None:
    env = lambda_environment(tracing=True, AWS_LAMBDA_INITIALIZATION_TYPE="snap-start")
    loaded = loaded_after_import("presign", env)
    # Pillow is for verifying an upload, which presign never does.
    assert set(loaded) == set(DEFERRED) - {"PIL"}


def test_a_traced_call_loads_the_xray_sdk_and_records_its_subsegment() -> None:
    script = """
import json, sys
from mediaport.observability import DeferredXRay, tracer
before = "aws_xray_sdk.core" in sys.modules
@tracer.capture_method
def work():
    from aws_xray_sdk.core import xray_recorder
    return xray_recorder.current_subsegment().name
name = work()
import botocore.client
print(json.dumps({"provider": type(tracer.provider).__name__, "before": before,
    "after": "aws_xray_sdk.core" in sys.modules, "subsegment": name,
    "botocore_patched": hasattr(botocore.client.BaseClient._make_api_call, "__wrapped__")}))
"""
    answer = run(script, lambda_environment(tracing=True))
    assert answer == {
        "provider": "DeferredXRay",
        "before": False,
        "after": True,
        "subsegment": "## __main__.work",
        "botocore_patched": True,
    }


def test_with_tracing_off_no_xray_sdk_is_loaded_even_by_traced_calls() -> None:
    script = """
import json, sys
from mediaport.observability import tracer
@tracer.capture_method
def work():
    return 42
print(json.dumps({"provider": type(tracer.provider).__name__, "result": work(),
    "disabled": tracer.disabled, "loaded": "aws_xray_sdk.core" in sys.modules}))
"""
    answer = run(script, lambda_environment(tracing=False))
    assert answer == {"provider": "NoTracing", "result": 42, "disabled": True, "loaded": False}
