"""cdk-nag's AWS Solutions pack: the stack is clean, and a new finding fails the synth."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_sqs as sqs

from infra.nag import apply_aws_solutions_checks
from tests.infra.conftest import Synth


def describe(synth: Synth) -> list[str]:
    return [
        f"{violation.rule_name} at {resource.construct_path}"
        for violation in synth.nag_report.violations
        for resource in violation.violating_resources
    ]


def test_the_stack_has_no_unacknowledged_nag_findings(synth: Synth) -> None:
    assert describe(synth) == []
    assert synth.nag_report.success


def test_the_external_idp_and_destroy_variant_is_clean_too(external_idp_synth: Synth) -> None:
    assert describe(external_idp_synth) == []


@pytest.mark.parametrize("variant", ["synth", "scanning_synth"])
def test_every_acknowledgment_says_why(variant: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(variant)
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    acknowledgments = [
        entry.data
        for construct in synth.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == key
    ]
    assert acknowledgments
    for data in acknowledgments:
        for rule_id, reason in data.items():
            assert "AwsSolutions-" in rule_id, rule_id
            assert len(reason) > 40, rule_id


def test_a_new_unacknowledged_finding_fails_the_synth(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Throwaway")
    sqs.Queue(stack, "PlainQueue")  # no DLQ, no TLS enforcement: AwsSolutions-SQS3/SQS4
    apply_aws_solutions_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
