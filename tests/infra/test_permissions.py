"""Least privilege: exact actions, one key prefix at a time, no wildcards."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synth

# The only actions AWS allows solely on Resource "*" that our roles use.
RESOURCE_STAR_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def allow_statements(synth: Synth) -> list[dict]:
    """Allow statements of every identity and resource policy in the template."""
    statements = []
    for resource_type in (
        "AWS::IAM::Policy",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
    ):
        for policy in synth.resources_of_type(resource_type).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    statements.append(statement)
    for role in synth.resources_of_type("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def policy_of(synth: Synth, function: str) -> list[dict]:
    """The statements of ``function``'s role policy."""
    (policy,) = (
        p["Properties"]["PolicyDocument"]["Statement"]
        for key, p in synth.resources_of_type("AWS::IAM::Policy").items()
        if key.startswith(f"{function.replace('_', '')}Role")
    )
    return policy


def s3_grants(synth: Synth, function: str) -> dict[str, set[str]]:
    """{resource suffix ('' for the bucket, '/media/*', ...): actions} for S3 statements."""
    grants: dict[str, set[str]] = {}
    for statement in policy_of(synth, function):
        actions = {a for a in as_list(statement["Action"]) if a.startswith("s3:")}
        if not actions:
            continue
        for resource in as_list(statement["Resource"]):
            suffix = resource["Fn::Join"][1][1] if "Fn::Join" in resource else ""
            grants.setdefault(suffix, set()).update(actions)
    return grants


def test_no_statement_allows_a_wildcard_action(synth: Synth) -> None:
    for statement in allow_statements(synth):
        for action in as_list(statement["Action"]):
            assert action != "*"
            assert not action.endswith(":*"), action
            assert "*" not in action, action


def test_resource_star_is_granted_only_for_xray_which_requires_it(synth: Synth) -> None:
    for statement in allow_statements(synth):
        if "*" in as_list(statement.get("Resource", [])):
            assert set(as_list(statement["Action"])) <= RESOURCE_STAR_ACTIONS, statement


def test_health_can_only_write_logs_and_traces(synth: Synth) -> None:
    actions = {a for s in policy_of(synth, "health") for a in as_list(s["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"} | RESOURCE_STAR_ACTIONS


def test_presign_can_only_put_pending_uploads_under_media(synth: Synth) -> None:
    assert s3_grants(synth, "presign") == {"/media/*": {"s3:PutObject", "s3:PutObjectTagging"}}
    dynamodb = {
        a for s in policy_of(synth, "presign") for a in as_list(s["Action"]) if "dynamodb" in a
    }
    assert dynamodb == {"dynamodb:PutItem"}


def test_media_reads_uploads_and_variants_and_deletes_only_uploads(synth: Synth) -> None:
    assert s3_grants(synth, "media") == {
        "/media/*": {"s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectTagging"},
        "/derived/*": {"s3:GetObject"},
        "": {"s3:ListBucket"},
    }


def test_process_upload_reads_uploads_and_writes_only_variants(synth: Synth) -> None:
    assert s3_grants(synth, "process_upload") == {
        "/media/*": {"s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectTagging"},
        "/derived/*": {"s3:PutObject", "s3:DeleteObject"},
        "": {"s3:ListBucket"},
    }


def test_only_process_upload_consumes_the_queue(synth: Synth) -> None:
    for function in ("health", "presign", "media", "process_upload"):
        sqs = {a for s in policy_of(synth, function) for a in as_list(s["Action"]) if "sqs:" in a}
        assert bool(sqs) == (function == "process_upload"), function
