"""Malware scanning on AWS (scanning=guardduty): GuardDuty's plan on media/, its results
to scan_result, and the bucket policy that serves media/ only what the scan cleared and
lets nobody but GuardDuty write its verdict. Off by default: none of it exists then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from infra.config import DeploymentSettings
from infra.functions import MediaportFunction
from infra.routes import EVENT_FUNCTIONS, api_functions
from tests.infra.conftest import Synth, cdk_json_context, synthesize
from tests.infra.test_cfn_lint import run_cfn_lint
from tests.infra.test_functions import mediaport_functions
from tests.infra.test_nag import describe
from tests.infra.test_permissions import as_list, grants, list_bucket_conditions
from tests.infra.test_processing import media_notifications

FUNCTIONS = (*api_functions(), *EVENT_FUNCTIONS)
SCAN_TAG = "s3:ExistingObjectTag/GuardDutyMalwareScanStatus"
ERROR_RESULTS = ["UNSUPPORTED", "ACCESS_DENIED", "FAILED"]
# The roles that read bytes no scan has cleared: verification, the worker, a release.
UNSCANNED_READERS = {
    "guardduty",
    "media",
    "multipart",
    "direct_upload",
    "uppy",
    "process_upload",
    "transform_media",
    "admin",
}
# The roles that tag uploads: presign (its URL's tag) and the settle path (pending tag).
MEDIA_TAGGERS = {
    "guardduty",
    "presign",
    "media",
    "multipart",
    "direct_upload",
    "uppy",
    "process_upload",
}


@pytest.fixture(scope="module")
def serve_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out-scan-serve"),
        scanning="guardduty",
        scanErrorPolicy="serve",
    )


def media_bucket_id(synth: Synth) -> str:
    return synth.logical_id(synth.storage.bucket)


def bucket_statements(synth: Synth) -> dict[str, dict]:
    """The media bucket policy's statements, by Sid ("" for CDK's SSL-only one)."""
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources_of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": media_bucket_id(synth)}
    ]
    return {s.get("Sid", ""): s for s in policy}


def role_names(synth: Synth) -> dict[str, str]:
    """{role logical id: function name}, and GuardDuty's plan role."""
    names = {}
    for name in FUNCTIONS:
        function = synth.stack.node.find_child(name)
        assert isinstance(function, MediaportFunction)
        names[synth.logical_id(function.role)] = name
    if synth.scanning is not None:
        names[synth.logical_id(synth.scanning.role)] = "guardduty"
    return names


def exempt(synth: Synth, statement: dict) -> set[str]:
    """Whom a deny statement spares (its ArnNotEquals aws:PrincipalArn), by name."""
    arns = as_list(statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])
    named = role_names(synth)
    return {named[arn["Fn::GetAtt"][0]] for arn in arns}


def object_resource(synth: Synth, statement: dict) -> str:
    """'media/*' or '*': which objects of the media bucket a statement is about."""
    head, tail = statement["Resource"]["Fn::Join"][1]
    assert head == {"Fn::GetAtt": [media_bucket_id(synth), "Arn"]}
    return str(tail).removeprefix("/")


def plan_role_policy(synth: Synth) -> dict[str, dict]:
    assert synth.scanning is not None
    role = synth.resource_of(synth.scanning.role)["Properties"]
    (policy,) = role["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


# --- off by default -------------------------------------------------------------------


def test_by_default_nothing_is_scanned_and_the_bucket_policy_is_ssl_only(synth: Synth) -> None:
    assert synth.scanning is None
    assert not synth.resources_of_type("AWS::GuardDuty::MalwareProtectionPlan")
    for rule in synth.resources_of_type("AWS::Events::Rule").values():
        assert "EventPattern" not in rule["Properties"]  # only the reconcile schedule
    assert not synth.resources_of_type("AWS::Lambda::EventInvokeConfig")
    statements = bucket_statements(synth)
    # SSL only, and the CDN's read of what is tagged servable (tests/infra/test_cdn.py).
    assert list(statements) == ["", "AllowCdnReadingServedMedia"]
    assert statements[""]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "EventBridgeConfiguration" not in media_notifications(synth)


def test_every_data_function_knows_scanning_is_off_and_the_error_policy(synth: Synth) -> None:
    for name, fn in mediaport_functions(synth).items():
        env = fn["Environment"]["Variables"]
        if name == "health":
            assert "MEDIAPORT_SCAN" not in env
            continue
        assert env["MEDIAPORT_SCAN"] == "off", name
        assert env["MEDIAPORT_SCAN_ERROR_POLICY"] == "block", name


# --- the plan --------------------------------------------------------------------------


def test_every_data_function_knows_guardduty_scans(scanning_synth: Synth) -> None:
    for name in ("media", "multipart", "direct_upload", "uppy", "process_upload", "scan_result"):
        env = mediaport_functions(scanning_synth)[name]["Environment"]["Variables"]
        assert env["MEDIAPORT_SCAN"] == "guardduty", name
        assert env["MEDIAPORT_SCAN_ERROR_POLICY"] == "block", name


def test_the_plan_scans_and_tags_new_objects_under_media(scanning_synth: Synth) -> None:
    assert scanning_synth.scanning is not None
    (plan,) = scanning_synth.resources_of_type("AWS::GuardDuty::MalwareProtectionPlan").values()
    assert plan["Properties"] == {
        "ProtectedResource": {
            "S3Bucket": {
                "BucketName": {"Ref": media_bucket_id(scanning_synth)},
                "ObjectPrefixes": ["media/"],
            }
        },
        "Actions": {"Tagging": {"Status": "ENABLED"}},
        "Role": {"Fn::GetAtt": [scanning_synth.logical_id(scanning_synth.scanning.role), "Arn"]},
    }


def test_the_plan_role_is_guarddutys_only(scanning_synth: Synth) -> None:
    assert scanning_synth.scanning is not None
    role = scanning_synth.resource_of(scanning_synth.scanning.role)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "malware-protection-plan.guardduty.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role


def test_the_plan_role_has_awss_documented_permissions_narrowed_to_media(
    scanning_synth: Synth,
) -> None:
    statements = plan_role_policy(scanning_synth)
    bucket = media_bucket_id(scanning_synth)

    def objects(tail: str) -> dict:
        return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, tail]]}

    managed_rule = statements["AllowManagedRuleToSendS3EventsToGuardDuty"]
    assert set(managed_rule["Action"]) == {
        "events:PutRule",
        "events:DeleteRule",
        "events:PutTargets",
        "events:RemoveTargets",
    }
    rule_arn = managed_rule["Resource"]["Fn::Join"][1]
    assert rule_arn[-1].endswith(":rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*")
    assert managed_rule["Condition"] == {
        "StringLike": {"events:ManagedBy": "malware-protection-plan.guardduty.amazonaws.com"}
    }
    monitor = statements["AllowGuardDutyToMonitorEventBridgeManagedRule"]
    assert set(monitor["Action"]) == {"events:DescribeRule", "events:ListTargetsByRule"}
    assert monitor["Resource"] == managed_rule["Resource"]

    tag = statements["AllowPostScanTag"]
    assert set(tag["Action"]) == {
        "s3:PutObjectTagging",
        "s3:GetObjectTagging",
        "s3:PutObjectVersionTagging",
        "s3:GetObjectVersionTagging",
    }
    assert tag["Resource"] == objects("/media/*")
    scan = statements["AllowMalwareScan"]
    assert set(scan["Action"]) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert scan["Resource"] == objects("/media/*")

    notifications = statements["AllowEnableS3EventBridgeEvents"]
    assert set(notifications["Action"]) == {"s3:PutBucketNotification", "s3:GetBucketNotification"}
    assert notifications["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}
    ownership = statements["AllowCheckBucketOwnership"]
    assert ownership["Action"] == "s3:ListBucket"
    assert ownership["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}
    validation = statements["AllowPutValidationObject"]
    assert validation["Action"] == "s3:PutObject"
    assert validation["Resource"] == objects("/malware-protection-resource-validation-object")
    assert validation["Condition"] == {
        "StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}
    }
    # The bucket is SSE-S3: no KMS statement, and nothing else.
    assert len(statements) == 7


def test_the_bucket_keeps_sending_events_to_eventbridge(scanning_synth: Synth) -> None:
    # CDK's notification handler rewrites the whole configuration; GuardDuty's listener
    # needs EventBridge on, so the stack declares it rather than leave it to GuardDuty.
    configuration = media_notifications(scanning_synth)
    assert configuration["EventBridgeConfiguration"] == {}
    assert configuration["QueueConfigurations"]


# --- the results -----------------------------------------------------------------------


def test_guarddutys_results_for_this_bucket_reach_scan_result(scanning_synth: Synth) -> None:
    (rule,) = [
        r["Properties"]
        for r in scanning_synth.resources_of_type("AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]
    ]
    assert rule["EventPattern"] == {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Malware Protection Object Scan Result"],
        "detail": {"s3ObjectDetails": {"bucketName": [{"Ref": media_bucket_id(scanning_synth)}]}},
    }
    assert "EventBusName" not in rule  # the default bus, where GuardDuty publishes
    (target,) = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("scanresultFunction")
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 21600}
    assert scanning_synth.scanning is not None
    dlq = scanning_synth.logical_id(scanning_synth.scanning.dead_letter_queue)
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}


def test_a_failing_handler_is_retried_by_lambda_then_parked(scanning_synth: Synth) -> None:
    assert scanning_synth.scanning is not None
    dlq = scanning_synth.logical_id(scanning_synth.scanning.dead_letter_queue)
    (config,) = scanning_synth.resources_of_type("AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["FunctionName"]["Ref"].startswith("scanresultFunction")
    assert props["MaximumRetryAttempts"] == 2
    assert props["MaximumEventAgeInSeconds"] == 21600
    assert props["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [dlq, "Arn"]}}
    }


def test_only_the_scan_rule_may_send_to_the_results_dlq(scanning_synth: Synth) -> None:
    assert scanning_synth.scanning is not None
    dlq = scanning_synth.logical_id(scanning_synth.scanning.dead_letter_queue)
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in scanning_synth.resources_of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": dlq}]
    ]
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert "aws:SourceArn" in allow["Condition"]["ArnEquals"]


def test_an_alarm_watches_the_results_dlq(scanning_synth: Synth) -> None:
    assert scanning_synth.scanning is not None
    dlq = scanning_synth.logical_id(scanning_synth.scanning.dead_letter_queue)
    scanning_synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
        },
    )


# --- the bucket policy -------------------------------------------------------------------


def test_the_ssl_only_statement_stays(scanning_synth: Synth) -> None:
    statements = bucket_statements(scanning_synth)
    assert statements[""]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statements[""]["Effect"] == "Deny"


def test_media_is_unreadable_unless_clean_but_to_the_roles_that_verify(
    scanning_synth: Synth,
) -> None:
    statement = bucket_statements(scanning_synth)["DenyReadingUnscannedMedia"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"}
    assert set(statement["Action"]) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert object_resource(scanning_synth, statement) == "media/*"
    # An absent tag (not scanned yet) is not equal either: unreadable until scanned.
    assert statement["Condition"]["StringNotEquals"] == {SCAN_TAG: ["NO_THREATS_FOUND"]}
    assert exempt(scanning_synth, statement) == UNSCANNED_READERS


def test_no_presigned_url_reads_unscanned_media_whoever_signed_it(scanning_synth: Synth) -> None:
    statement = bucket_statements(scanning_synth)["DenyUrlsToUnscannedMedia"]
    assert statement["Effect"] == "Deny"
    assert set(statement["Action"]) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert object_resource(scanning_synth, statement) == "media/*"
    assert statement["Condition"]["StringNotEquals"] == {SCAN_TAG: ["NO_THREATS_FOUND"]}
    assert statement["Condition"]["StringEquals"] == {"s3:authType": "REST-QUERY-STRING"}
    assert exempt(scanning_synth, statement) == {"guardduty"}


def test_only_guardduty_and_the_upload_paths_tag_media(scanning_synth: Synth) -> None:
    statement = bucket_statements(scanning_synth)["DenyTaggingMediaButByMediaport"]
    assert set(statement["Action"]) == {
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
        "s3:DeleteObjectTagging",
        "s3:DeleteObjectVersionTagging",
    }
    assert object_resource(scanning_synth, statement) == "media/*"
    assert set(statement["Condition"]) == {"ArnNotEquals"}
    assert exempt(scanning_synth, statement) == MEDIA_TAGGERS


def test_nothing_arrives_already_tagged_with_a_scan_result(scanning_synth: Synth) -> None:
    statement = bucket_statements(scanning_synth)["DenyUploadsTaggedWithAScanResult"]
    assert statement["Action"] == "s3:PutObject"
    # Anywhere in the bucket, so nothing can be pre-tagged elsewhere and copied in.
    assert object_resource(scanning_synth, statement) == "*"
    assert statement["Condition"]["ForAnyValue:StringEquals"] == {
        "s3:RequestObjectTagKeys": ["GuardDutyMalwareScanStatus"]
    }
    assert exempt(scanning_synth, statement) == {"guardduty"}


def test_only_guardduty_makes_an_object_readable(scanning_synth: Synth) -> None:
    statement = bucket_statements(scanning_synth)["DenyMarkingObjectsReadable"]
    assert set(statement["Action"]) == {"s3:PutObjectTagging", "s3:PutObjectVersionTagging"}
    assert object_resource(scanning_synth, statement) == "*"
    # Writing a readable result onto an object that is not readable already: refused.
    # Writing back the result it has (the settle path keeping GuardDuty's tag): allowed.
    assert statement["Condition"]["StringEquals"] == {
        "s3:RequestObjectTag/GuardDutyMalwareScanStatus": ["NO_THREATS_FOUND"]
    }
    assert statement["Condition"]["StringNotEquals"] == {SCAN_TAG: ["NO_THREATS_FOUND"]}
    assert exempt(scanning_synth, statement) == {"guardduty"}


def test_only_guardduty_removes_a_scan_result(scanning_synth: Synth) -> None:
    statements = bucket_statements(scanning_synth)
    rewrite = statements["DenyDroppingTheScanResult"]
    assert set(rewrite["Action"]) == {"s3:PutObjectTagging", "s3:PutObjectVersionTagging"}
    assert rewrite["Condition"]["Null"] == {SCAN_TAG: "false"}
    assert rewrite["Condition"]["ForAllValues:StringNotEquals"] == {
        "s3:RequestObjectTagKeys": ["GuardDutyMalwareScanStatus"]
    }
    delete = statements["DenyDeletingTheScanResult"]
    assert set(delete["Action"]) == {"s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"}
    assert delete["Condition"]["Null"] == {SCAN_TAG: "false"}
    for statement in (rewrite, delete):
        assert object_resource(scanning_synth, statement) == "media/*"
        assert exempt(scanning_synth, statement) == {"guardduty"}


def test_the_policy_has_exactly_these_statements(scanning_synth: Synth) -> None:
    assert set(bucket_statements(scanning_synth)) == {
        "",
        "DenyReadingUnscannedMedia",
        "DenyCdnReadingUnscannedMedia",
        "DenyUrlsToUnscannedMedia",
        "DenyTaggingMediaButByMediaport",
        "DenyUploadsTaggedWithAScanResult",
        "DenyMarkingObjectsReadable",
        "DenyDroppingTheScanResult",
        "DenyDeletingTheScanResult",
        # The one allow: the CDN's read of what is tagged servable (tests/infra/test_cdn.py).
        "AllowCdnReadingServedMedia",
    }
    for sid, statement in bucket_statements(scanning_synth).items():
        assert statement["Effect"] == ("Allow" if sid.startswith("Allow") else "Deny"), sid


def test_no_cdn_reads_unscanned_media_whatever_its_other_tags(scanning_synth: Synth) -> None:
    # Named apart from DenyReadingUnscannedMedia, whose {"AWS": "*"} and aws:PrincipalArn
    # exemptions are not to be relied on for a service principal: CloudFront itself.
    statement = bucket_statements(scanning_synth)["DenyCdnReadingUnscannedMedia"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert set(statement["Action"]) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert object_resource(scanning_synth, statement) == "media/*"
    # Absent (not scanned yet), THREATS_FOUND or an error under the block policy: refused.
    # No SourceArn: no distribution of any account is spared.
    assert statement["Condition"] == {"StringNotEquals": {SCAN_TAG: ["NO_THREATS_FOUND"]}}


def test_the_cdn_reads_clean_media_through_its_own_statement_only(
    scanning_synth: Synth,
) -> None:
    statements = bucket_statements(scanning_synth)
    allow = statements["AllowCdnReadingServedMedia"]
    # What a clean, servable object needs: the CDN's allow, which names the scan tag not at
    # all; and no deny that matches it (each CDN-reachable deny is conditioned on the scan
    # tag not being readable, or on a presigned URL, which CloudFront never uses).
    assert "s3:ExistingObjectTag/GuardDutyMalwareScanStatus" not in str(allow["Condition"])
    for sid in ("DenyCdnReadingUnscannedMedia", "DenyReadingUnscannedMedia"):
        assert statements[sid]["Condition"]["StringNotEquals"] == {SCAN_TAG: ["NO_THREATS_FOUND"]}
    assert statements["DenyUrlsToUnscannedMedia"]["Condition"]["StringEquals"] == {
        "s3:authType": "REST-QUERY-STRING"
    }


def test_the_serve_policy_lets_the_cdn_read_what_could_not_be_scanned(serve_synth: Synth) -> None:
    statement = bucket_statements(serve_synth)["DenyCdnReadingUnscannedMedia"]
    assert statement["Condition"] == {
        "StringNotEquals": {SCAN_TAG: ["NO_THREATS_FOUND", *ERROR_RESULTS]}
    }


def test_the_serve_policy_also_serves_what_could_not_be_scanned(serve_synth: Synth) -> None:
    statements = bucket_statements(serve_synth)
    readable = ["NO_THREATS_FOUND", *ERROR_RESULTS]
    for sid in ("DenyReadingUnscannedMedia", "DenyUrlsToUnscannedMedia"):
        assert statements[sid]["Condition"]["StringNotEquals"] == {SCAN_TAG: readable}, sid
    marking = statements["DenyMarkingObjectsReadable"]["Condition"]
    assert marking["StringEquals"] == {"s3:RequestObjectTag/GuardDutyMalwareScanStatus": readable}
    assert marking["StringNotEquals"] == {SCAN_TAG: readable}
    # Never an infected one.
    assert "THREATS_FOUND" not in readable
    for name in ("media", "scan_result"):
        env = mediaport_functions(serve_synth)[name]["Environment"]["Variables"]
        assert env["MEDIAPORT_SCAN_ERROR_POLICY"] == "serve"


# --- scan_result and admin -------------------------------------------------------------


def test_scan_result_records_the_result_and_deletes_only_variants(synth: Synth) -> None:
    assert grants(synth, "scan_result", "dynamodb") == {
        "assets": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        # Quarantining takes the asset out of its usage and folder counts, one transaction.
        "usage": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "folders": {"dynamodb:UpdateItem"},
    }
    # An infected asset's variants go (listed: the record may not name them all); the
    # object itself is only named by the event, never read.
    assert grants(synth, "scan_result", "s3") == {
        "bucket/derived/*": {"s3:DeleteObject"},
        "bucket": {"s3:ListBucket"},
    }
    assert list_bucket_conditions(synth, "scan_result") == [
        {"StringLike": {"s3:prefix": ["derived/*"]}}
    ]
    # A cleared asset's thumbnails are a job.
    assert grants(synth, "scan_result", "sqs") == {"jobs": {"sqs:SendMessage"}}


def test_scan_result_may_park_a_failed_result_when_scanning(scanning_synth: Synth) -> None:
    assert scanning_synth.scanning is not None
    dlq = scanning_synth.logical_id(scanning_synth.scanning.dead_letter_queue)
    sent = grants(scanning_synth, "scan_result", "sqs")
    assert sent.pop("jobs") == {"sqs:SendMessage"}
    ((resource, actions),) = sent.items()
    assert dlq in resource
    assert "sqs:SendMessage" in actions
    assert not {a for a in actions if a.startswith("sqs:Receive") or a.startswith("sqs:Delete")}


def test_admin_lists_the_quarantine_and_releases_by_copy(synth: Synth) -> None:
    assert grants(synth, "admin", "dynamodb") == {
        "assets": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        # The quarantine list, and no other index.
        "assets/index/byQuarantine": {"dynamodb:Query"},
        # A release counts the asset again, in one transaction.
        "usage": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "folders": {"dynamodb:UpdateItem"},
    }
    assert grants(synth, "admin", "s3") == {
        # CopyObject reads the source (GetObject); the original then goes.
        "bucket/media/*": {"s3:GetObject", "s3:DeleteObject"},
        # ...and writes the target (PutObject, no tags); the copy goes if the release
        # lost a race.
        # The copy, with the CDN tag for a public asset.
        "bucket/released/*": {"s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"},
        "bucket": {"s3:ListBucket"},
    }
    assert list_bucket_conditions(synth, "admin") == [{"StringLike": {"s3:prefix": ["media/*"]}}]
    # Its thumbnails are a job.
    assert grants(synth, "admin", "sqs") == {"jobs": {"sqs:SendMessage"}}


def test_only_admin_reaches_the_quarantine_index(synth: Synth) -> None:
    for name in FUNCTIONS:
        reached = "assets/index/byQuarantine" in grants(synth, name, "dynamodb")
        assert reached == (name == "admin"), name


# --- clean and valid -------------------------------------------------------------------


def test_scanning_has_no_unacknowledged_nag_findings(
    scanning_synth: Synth, serve_synth: Synth
) -> None:
    assert describe(scanning_synth) == []
    assert describe(serve_synth) == []


def test_cfn_lint_passes_with_scanning_on(scanning_synth: Synth, tmp_path: Path) -> None:
    run_cfn_lint(scanning_synth, tmp_path)


# --- the settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({}, ("off", "block")),
        ({"scanning": "guardduty"}, ("guardduty", "block")),
        ({"scanning": "GuardDuty", "scanErrorPolicy": "Serve"}, ("guardduty", "serve")),
        ({"scanning": "off", "scanErrorPolicy": "serve"}, ("off", "serve")),
    ],
)
def test_scanning_is_read_from_context(context: dict[str, Any], expected: tuple) -> None:
    settings = DeploymentSettings.from_context(App(context=cdk_json_context(**context)).node)
    assert (settings.scanning, settings.scan_error_policy) == expected


def test_the_local_stand_in_is_refused_on_aws() -> None:
    app = App(context=cdk_json_context(scanning="local"))
    with pytest.raises(ValueError, match="local stack's stand-in"):
        DeploymentSettings.from_context(app.node)


@pytest.mark.parametrize(("key", "value"), [("scanning", "clamav"), ("scanErrorPolicy", "ignore")])
def test_an_unknown_scanning_setting_is_refused(key: str, value: str) -> None:
    app = App(context=cdk_json_context(**{key: value}))
    with pytest.raises(ValueError, match=f"{key} must be one of"):
        DeploymentSettings.from_context(app.node)
