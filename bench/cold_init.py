"""Cold init benchmark: how long a fresh interpreter takes to import each API function,
against a fresh interpreter that only makes a bare boto3 client.

    PYTHONPATH=.:layers/core/python .venv/bin/python bench/cold_init.py [--runs 11]

The API functions are the ones the route table (``infra/routes.py``) sends requests to.
Each one is timed as Lambda starts it: a new ``python -c "import functions.<name>.handler"``
process, wall time from spawn to exit, nothing subtracted. The baseline is a new process
running ``import boto3; boto3.client("s3", region_name=...)``.

The environment is the one the function gets on AWS: the variables the CDK stack sets on
it (synthesized here from ``cdk.json``'s context; resource names, which CloudFormation
fills in, become placeholders), the ones the Lambda runtime adds (region, function name,
``LAMBDA_TASK_ROOT``, credentials, which every process here gets as fake values so
nothing looks further for them), and, because the stack turns active tracing on, the X-Ray
daemon's address. Tracing decides whether the X-Ray SDK is used at all
(``mediaport.observability``), so every function is measured twice:

  tracing on   as deployed (``Tracing: Active``): the target line
  tracing off  ``POWERTOOLS_TRACE_DISABLED=true`` (and the local stack, and the tests)

Runs are interleaved: each round runs every (function, tracing) once and the baseline
several times, in a shuffled order, so load on the machine hits all of them alike. A
warm-up round (not counted) fills the page cache and the ``__pycache__`` directories.
The ratio is the median process time of a function over the median of the baseline.

``--first-request`` adds what the cold start leaves for the first request (the imports
and clients are deferred, not gone): in the same kind of process, the import and then
what a first request loads before it sends anything: the table adapters, the S3 client,
and with tracing on the X-Ray SDK (patched in as the handler's first subsegment does).
``health`` is invoked for real with an HTTP API event (it calls no AWS service). No AWS
call is made, so no network time is in any figure.

``--before DIR`` also times each function's import (tracing on) from another checkout,
e.g. the code before a change (``git archive HEAD | tar -x -C DIR``), in the same rounds,
with the same environment less what this stack adds to it (and, with
``--first-request``, its import plus the same first-use work).

Lines ``cold_init_<name>=<ratio> target=<=1.20 met=yes|no`` (tracing as deployed) close
the report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "layers" / "core" / "python"
TARGET = 1.20
BASELINE = "baseline"

# What the Lambda runtime sets (documented "reserved" variables), as the values it would
# have. The credentials are fake: they only keep botocore from searching further.
RUNTIME_ENVIRONMENT = {
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "TZ": ":UTC",
    "LANG": "en_US.UTF-8",
    "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE00",
    "AWS_SECRET_ACCESS_KEY": "example/example/example/example/example0",
    "AWS_SESSION_TOKEN": "example-session-token",
}
# What Lambda adds when the function's tracing mode is Active. The address is the
# loopback here: ``--first-request`` sends the first request's subsegments over UDP.
XRAY_ENVIRONMENT = {
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "_AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1",
    "_AWS_XRAY_DAEMON_PORT": "2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "_X_AMZN_TRACE_ID": (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    ),
}
TRACING_OFF = {"POWERTOOLS_TRACE_DISABLED": "true"}
# What this version of the stack sets that the code before it did not get (--before).
ADDED_BY_THIS_STACK = ("PYDANTIC_DISABLE_PLUGINS",)

HEALTH_EVENT = {
    "version": "2.0",
    "routeKey": "GET /health",
    "rawPath": "/health",
    "rawQueryString": "",
    "headers": {"host": "api.example.com", "user-agent": "bench"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.com",
        "http": {
            "method": "GET",
            "path": "/health",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "bench",
        },
        "requestId": "bench",
        "routeKey": "GET /health",
        "stage": "$default",
        "time": "01/Jan/2026:00:00:00 +0000",
        "timeEpoch": 1767225600000,
    },
    "isBase64Encoded": False,
}

# What the first request of a function loads before it sends anything (see the docstring).
FIRST_USE = """
from mediaport.observability import tracer
from mediaport.services import current_services
from mediaport.adapters import storage
if not tracer.disabled:
    getattr(tracer.provider, "recorder", None)  # deferred X-Ray (older code: loaded at init)
current_services()
storage.s3_client()
"""
INVOKE_HEALTH = """
import json
from types import SimpleNamespace
event = json.loads({event!r})
context = SimpleNamespace(function_name="health", memory_limit_in_mb=256,
    invoked_function_arn="arn:aws:lambda:{region}:123456789012:function:health",
    aws_request_id="bench", function_version="$LATEST", log_stream_name="bench",
    log_group_name="bench", get_remaining_time_in_millis=lambda: 10000)
answer = functions.health.handler.handler(event, context)
assert answer["statusCode"] == 200, answer
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="rounds counted (default 11)")
    parser.add_argument(
        "--baselines", type=int, default=4, help="baseline processes per round (default 4)"
    )
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--only", nargs="*", default=None, help="measure only these functions (default: all)"
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="another checkout whose functions are timed alongside (tracing on)",
    )
    parser.add_argument(
        "--first-request",
        action="store_true",
        help="also time import + what the first request loads (see the docstring)",
    )
    args = parser.parse_args()

    sys.path[:0] = [str(ROOT), str(CORE)]
    from infra.routes import api_functions

    functions = [name for name in api_functions() if args.only is None or name in args.only]
    print(f"synthesizing the stack for the functions' environment ({len(functions)} functions)")
    deployed = deployed_environments(functions)

    cases: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    base_env = process_environment(args.region, "baseline", {}, tracing=False)
    cases[(BASELINE, "-")] = (
        f'import boto3; boto3.client("s3", region_name="{args.region}")',
        base_env,
    )
    for name in functions:
        variables, active = deployed[name]
        for tracing in ("on", "off"):
            on = tracing == "on"
            env = process_environment(args.region, name, variables, tracing=on)
            cases[(name, tracing)] = (f"import functions.{name}.handler", env)
            if args.first_request:
                script = f"import functions.{name}.handler\n" + (
                    INVOKE_HEALTH.format(event=json.dumps(HEALTH_EVENT), region=args.region)
                    if name == "health"
                    else FIRST_USE
                )
                cases[(name, f"{tracing}+first")] = (script, env)
        if args.before is not None:
            env = process_environment(args.region, name, variables, tracing=True)
            env["PYTHONPATH"] = os.pathsep.join(
                [str(args.before), str(args.before / "layers" / "core" / "python")]
            )
            env["LAMBDA_TASK_ROOT"] = str(args.before / "functions" / name)
            for added in ADDED_BY_THIS_STACK:
                env.pop(added, None)
            cases[(name, "before")] = (f"import functions.{name}.handler", env)
            if args.first_request:
                first = INVOKE_HEALTH.format(event=json.dumps(HEALTH_EVENT), region=args.region)
                script = f"import functions.{name}.handler\n" + (
                    first if name == "health" else FIRST_USE
                )
                cases[(name, "before+first")] = (script, env)
        if not active:
            print(f"note: {name} is not deployed with active tracing; 'on' is not its default")

    rng = random.Random(args.seed)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in cases}
    print(f"warm-up round, then {args.runs} rounds of {len(cases) - 1 + args.baselines} processes")
    for round_number in range(args.runs + 1):
        order = [key for key in cases if key[0] != BASELINE]
        order += [(BASELINE, "-")] * args.baselines
        rng.shuffle(order)
        for key in order:
            script, env = cases[key]
            elapsed = run_process(script, env)
            if round_number > 0:
                times[key].append(elapsed)

    report(times, functions, args)


def deployed_environments(functions: list[str]) -> dict[str, tuple[dict[str, str], bool]]:
    """Each function's environment variables as the stack sets them (placeholders for what
    CloudFormation fills in), and whether its tracing is Active."""
    from aws_cdk import App, CfnElement, Stack

    from infra.constants import STACK_NAME
    from infra.stack import MediaportStack

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    with tempfile.TemporaryDirectory() as outdir:
        app = App(context=context, outdir=outdir)
        stack = MediaportStack(app, STACK_NAME)
        template = app.synth().get_stack_by_name(STACK_NAME).template
    resources: dict[str, Any] = template["Resources"]
    found = {}
    for name in functions:
        function = stack.node.find_child(name).node.find_child("Function")
        cfn = function.node.default_child
        assert isinstance(cfn, CfnElement)
        properties = resources[Stack.of(cfn).get_logical_id(cfn)]["Properties"]
        variables = properties.get("Environment", {}).get("Variables", {})
        active = properties.get("TracingConfig", {}).get("Mode") == "Active"
        found[name] = ({k: placeholder(v) for k, v in variables.items()}, active)
    return found


def placeholder(value: Any) -> str:
    """A plain value as it is; an intrinsic (a Ref, a GetAtt, a Join) as a plausible name."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        (function, argument), *_ = value.items()
        if function == "Ref":
            return f"mediaport-{str(argument).lower()}"
        if function == "Fn::GetAtt":
            return f"mediaport-{str(argument[0]).lower()}-{str(argument[1]).lower()}"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(placeholder(part) for part in parts)
    return json.dumps(value)


def process_environment(
    region: str, name: str, variables: dict[str, str], *, tracing: bool
) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(CORE)]),
        **RUNTIME_ENVIRONMENT,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": f"Mediaport-{name}",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/Mediaport-{name}",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / name),
        **variables,
    }
    env.update(XRAY_ENVIRONMENT if tracing else TRACING_OFF)
    return env


def run_process(script: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (our own interpreter, our own script)
        [sys.executable, "-c", script],
        env=env,
        cwd=env["PYTHONPATH"].split(os.pathsep)[0],
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed:\n{script}\n{done.stderr.decode()[-2000:]}")
    return elapsed


def report(
    times: dict[tuple[str, str], list[float]], functions: list[str], args: argparse.Namespace
) -> None:
    base = statistics.median(times[(BASELINE, "-")])
    spread = spread_of(times[(BASELINE, "-")])
    print()
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; {args.runs} rounds, "
        f"{args.runs * args.baselines} baseline processes"
    )
    print(f"baseline (import boto3; boto3.client('s3')): median {base * 1000:.0f} ms {spread}")
    print()
    header = f"{'function':<14} {'tracing on':>16} {'tracing off':>16}"
    kinds = ["on", "off"]
    if args.first_request:
        header += f" {'on + 1st req':>16} {'off + 1st req':>16}"
        kinds += ["on+first", "off+first"]
    if args.before is not None:
        header += f" {'before (on)':>16}"
        kinds += ["before"]
        if args.first_request:
            header += f" {'before + 1st':>16}"
            kinds += ["before+first"]
    print(header + "   (median ms, × baseline)")
    for name in functions:
        row = f"{name:<14}"
        for kind in kinds:
            median = statistics.median(times[(name, kind)])
            row += f" {median * 1000:>8.0f} {median / base:>5.2f}×"
        print(row)
    print()
    print(f"target: each function's cold init ≤ {TARGET:.2f}× the baseline, tracing as deployed")
    for name in functions:
        ratio = statistics.median(times[(name, "on")]) / base
        print(f"cold_init_{name}={ratio:.2f} target=<={TARGET:.2f} met={met(ratio)}")


def spread_of(samples: list[float]) -> str:
    quartiles = statistics.quantiles(samples, n=4) if len(samples) > 1 else [samples[0]] * 3
    return f"(quartiles {quartiles[0] * 1000:.0f}–{quartiles[2] * 1000:.0f} ms)"


def met(ratio: float) -> str:
    # Rounded as printed: 1.20 meets a target of <=1.20.
    return "yes" if round(ratio, 2) <= TARGET else "no"


if __name__ == "__main__":
    main()
