"""The one helper that makes a Mediaport Lambda function, so no two are configured apart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constants import (
    FUNCTION_SIZES,
    LOG_LEVEL,
    LOG_RETENTION,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
)
from infra.nag import acknowledge

FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = "handler.handler"
# The alias API Gateway calls when SnapStart is on: SnapStart applies to published
# versions only, never to $LATEST.
LIVE_ALIAS = "live"


def powertools_environment() -> dict[str, str]:
    """The environment every function gets, whatever it does."""
    return {
        "POWERTOOLS_SERVICE_NAME": POWERTOOLS_SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_METRICS_NAMESPACE,
        "LOG_LEVEL": LOG_LEVEL,
        # Mediaport uses no pydantic plugins; without this, pydantic reads the entry points
        # of every installed distribution at the first model it builds, on every cold start.
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }


class MediaportFunction(Construct):
    """A python3.13 arm64 function from ``functions/<name>/`` with its role and log group.

    The role starts empty except for writing to the function's own log group (no
    AWSLambdaBasicExecutionRole, whose CreateLogGroup on ``*`` we do not need); the
    caller grants the rest, per function.

    With ``snap_start``, Lambda snapshots each published version after its init and
    restores new execution environments from it; the version CDK publishes for the
    current code and configuration is behind the ``live`` alias, and ``invocable`` is what
    callers should invoke (the alias; otherwise the function itself, i.e. $LATEST).
    """

    def __init__(
        self,
        scope: Construct,
        name: str,
        *,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        snap_start: bool = False,
    ) -> None:
        super().__init__(scope, name)
        size = FUNCTION_SIZES[name]
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Mediaport {name} function",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(FUNCTIONS_DIR / name), exclude=["**/__pycache__", "**/*.pyc"]
            ),
            layers=list(layers),
            memory_size=size.memory_mb,
            timeout=size.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            role=self.role,
            environment={**powertools_environment(), **environment},
            description=f"Mediaport {name}",
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
        )
        self.alias: lambda_.Alias | None = None
        if snap_start:
            # current_version is a new AWS::Lambda::Version whenever the code or the
            # configuration changes, so the alias always points at a snapshot of what
            # was deployed.
            self.alias = lambda_.Alias(
                self, "Live", alias_name=LIVE_ALIAS, version=self.function.current_version
            )
        acknowledge(
            self.default_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no "
            "resource-level permissions, so AWS requires Resource '*' for them.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.13 on purpose: the dependency layer is built from cp313 wheels and the "
            "code is tested on 3.13; move runtime and layer together when upgrading.",
        )

    @property
    def invocable(self) -> lambda_.IFunction:
        """What a caller invokes: the ``live`` alias under SnapStart, else the function."""
        return self.alias if self.alias is not None else self.function

    @property
    def default_policy(self) -> Construct:
        """The role's inline policy that grants land in (tracing creates it up front)."""
        policy = self.role.node.find_child("DefaultPolicy")
        assert isinstance(policy, Construct)
        return policy
