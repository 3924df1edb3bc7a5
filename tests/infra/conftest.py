"""One synth of the Mediaport stack per test session, with the same context as ``cdk.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnElement, PolicyValidationPluginReport
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from infra.cdn import MediaCdn
from infra.constants import STACK_NAME
from infra.events import HostEvents
from infra.processing import UploadProcessing
from infra.scanning import MalwareScanning
from infra.stack import MediaportStack
from infra.storage import Storage
from infra.transforms import TransformJobs

ROOT = Path(__file__).resolve().parents[2]


def cdk_json_context(**overrides: Any) -> dict[str, Any]:
    """The context the CDK CLI would pass (cdk.json), plus ``-c`` style overrides."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {**context, **overrides}


@dataclass(frozen=True)
class Synth:
    app: App
    stack: MediaportStack
    template: Template
    nag_report: PolicyValidationPluginReport

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.to_json()["Resources"]

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    @property
    def storage(self) -> Storage:
        storage = self.stack.node.find_child("Storage")
        assert isinstance(storage, Storage)
        return storage

    @property
    def processing(self) -> UploadProcessing:
        processing = self.stack.node.find_child("Processing")
        assert isinstance(processing, UploadProcessing)
        return processing

    @property
    def jobs(self) -> TransformJobs:
        jobs = self.stack.node.find_child("Transforms")
        assert isinstance(jobs, TransformJobs)
        return jobs

    @property
    def events(self) -> HostEvents:
        events = self.stack.node.find_child("Events")
        assert isinstance(events, HostEvents)
        return events

    @property
    def cdn(self) -> MediaCdn | None:
        """The CloudFront wiring, unless the stack was synthesized with cdn=false."""
        cdn = self.stack.node.try_find_child("Cdn")
        assert cdn is None or isinstance(cdn, MediaCdn)
        return cdn

    @property
    def scanning(self) -> MalwareScanning | None:
        """The GuardDuty wiring, when the stack was synthesized with scanning on."""
        scanning = self.stack.node.try_find_child("Scanning")
        assert scanning is None or isinstance(scanning, MalwareScanning)
        return scanning

    def logical_id(self, construct: IConstruct) -> str:
        """The template key of a construct's CloudFormation resource."""
        cfn = construct.node.default_child
        assert isinstance(cfn, CfnElement)
        return self.stack.get_logical_id(cfn)

    def resource_of(self, construct: IConstruct) -> dict[str, Any]:
        return self.resources[self.logical_id(construct)]


def synthesize(tmp_dir: Path, **context: Any) -> Synth:
    """Build the app exactly as ``app.py`` does, into ``tmp_dir``, and run cdk-nag on it."""
    app = App(context=cdk_json_context(**context), outdir=str(tmp_dir))
    stack = MediaportStack(app, STACK_NAME)
    # Template.from_stack synthesizes, and a registered nag plugin would raise there on
    # any finding; take the template first, then run the same pack for a full report.
    template = Template.from_stack(stack)
    report = AwsSolutionsChecks(app).validate_scope(app)
    return Synth(app=app, stack=stack, template=template, nag_report=report)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def scanning_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """scanning=guardduty, with the default scan-error policy (block)."""
    return synthesize(tmp_path_factory.mktemp("cdk.out-scanning"), scanning="guardduty")


@pytest.fixture(scope="session")
def no_cdn_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """cdn=false: no CloudFront, public media gets presigned URLs."""
    return synthesize(tmp_path_factory.mktemp("cdk.out-no-cdn"), cdn="false")


@pytest.fixture(scope="session")
def external_idp_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out-external-idp"),
        jwtIssuer="https://issuer.example.com/",
        jwtAudience="mediaport-web,mediaport-mobile",
        removalPolicy="destroy",
    )
