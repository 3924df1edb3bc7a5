"""Serving through a CDN (on by default): CloudFront with origin access control in front of
a bucket that stays private, serving only objects tagged servable under the media
prefixes, its standard logs counted as bandwidth; delete, quarantine and purge may
invalidate it. cdn=false removes all of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from infra.config import DeploymentSettings
from infra.routes import EVENT_FUNCTIONS, api_functions
from mediaport import names
from tests.infra.conftest import Synth, cdk_json_context
from tests.infra.test_cfn_lint import run_cfn_lint
from tests.infra.test_functions import mediaport_functions
from tests.infra.test_nag import describe
from tests.infra.test_permissions import as_list, grants, list_bucket_conditions, policy_of
from tests.infra.test_scanning import bucket_statements, object_resource

FUNCTIONS = (*api_functions(), *EVENT_FUNCTIONS)
SERVED = ["media/*", "released/*", "derived/*"]
RENDERERS = {
    "media",
    "attachments",
    "transforms",
    "multipart",
    "direct_upload",
    "uppy",
    "admin",
    "publish_events",
}
INVALIDATORS = {"media", "scan_result", "expire_assets"}
# CloudFront's managed response headers policy "CORS-and-SecurityHeadersPolicy".
# CloudFront's managed cache policy "CachingDisabled".
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def config_of(synth: Synth) -> dict[str, Any]:
    assert synth.cdn is not None
    config: dict[str, Any] = synth.resource_of(synth.cdn.distribution)["Properties"][
        "DistributionConfig"
    ]
    return config


def distribution_id(synth: Synth) -> str:
    assert synth.cdn is not None
    return synth.logical_id(synth.cdn.distribution)


def distribution_arn(synth: Synth) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cloudfront::",
                {"Ref": "AWS::AccountId"},
                ":distribution/",
                {"Ref": distribution_id(synth)},
            ],
        ]
    }


def environment(synth: Synth, name: str) -> dict[str, Any]:
    variables: dict[str, Any] = mediaport_functions(synth)[name]["Environment"]["Variables"]
    return variables


# --- the distribution ------------------------------------------------------------------


def test_cloudfront_reads_the_bucket_through_origin_access_control(synth: Synth) -> None:
    (origin,) = config_of(synth)["Origins"]
    assert origin["DomainName"] == {
        "Fn::GetAtt": [synth.logical_id(synth.storage.bucket), "RegionalDomainName"]
    }
    # No origin access identity: the OAC signs every request as CloudFront (SigV4).
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    (oac_id,) = synth.resources_of_type("AWS::CloudFront::OriginAccessControl")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    oac = synth.resources[oac_id]["Properties"]["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "s3"
    assert oac["SigningBehavior"] == "always"
    assert oac["SigningProtocol"] == "sigv4"


def test_the_media_prefixes_are_served_over_https_with_the_origins_cache_headers(
    synth: Synth,
) -> None:
    behaviours = {b["PathPattern"]: b for b in config_of(synth)["CacheBehaviors"]}
    assert sorted(behaviours) == sorted(SERVED)
    (policy_id,) = synth.resources_of_type("AWS::CloudFront::CachePolicy")
    (headers_id,) = synth.resources_of_type("AWS::CloudFront::ResponseHeadersPolicy")
    for pattern, behaviour in behaviours.items():
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https", pattern
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"], pattern
        assert behaviour["CachePolicyId"] == {"Ref": policy_id}, pattern
        # Already-compressed media: not compressed again, one cached copy per object.
        assert behaviour["Compress"] is False, pattern
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": headers_id}, pattern
        assert "FunctionAssociations" not in behaviour, pattern


def test_the_cache_honours_cache_control_and_keys_on_the_path_only(synth: Synth) -> None:
    (policy,) = synth.resources_of_type("AWS::CloudFront::CachePolicy").values()
    config = policy["Properties"]["CachePolicyConfig"]
    # A variant's "public, max-age=31536000, immutable" is kept a year; an original
    # without Cache-Control, a day (a delete invalidates it).
    assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (0, 86400, 31536000)
    assert config["ParametersInCacheKeyAndForwardedToOrigin"] == {
        "CookiesConfig": {"CookieBehavior": "none"},
        "HeadersConfig": {"HeaderBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
        "EnableAcceptEncodingGzip": False,
        "EnableAcceptEncodingBrotli": False,
    }


def test_every_other_path_is_answered_404_at_the_edge(synth: Synth) -> None:
    default = config_of(synth)["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["CachePolicyId"] == CACHING_DISABLED
    (association,) = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    (function_id,) = synth.resources_of_type("AWS::CloudFront::Function")
    assert association["FunctionARN"] == {"Fn::GetAtt": [function_id, "FunctionARN"]}
    function = synth.resources[function_id]["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert "statusCode: 404" in function["FunctionCode"]


def test_the_distribution_is_http2_and_3_on_the_cheapest_edges(synth: Synth) -> None:
    config = config_of(synth)
    assert config["Enabled"] is True
    assert config["HttpVersion"] == "http2and3"
    assert config["PriceClass"] == "PriceClass_100"
    # No custom domain: CloudFront's *.cloudfront.net certificate (AwsSolutions-CFR4).
    assert "ViewerCertificate" not in config
    assert "Aliases" not in config


def test_the_synth_warns_of_nothing(synth: Synth) -> None:
    # CDK warns that it could not add its own OAC statement to the bucket it was handed a
    # reference to: on purpose (AllowCdnReadingServedMedia replaces it), and acknowledged.
    artifact = synth.app.synth().get_stack_artifact(synth.stack.artifact_id)
    warnings = [m.entry.data for m in artifact.messages if m.level.name == "WARNING"]
    assert warnings == []


# --- the bucket policy -----------------------------------------------------------------


def test_the_bucket_stays_private(synth: Synth) -> None:
    bucket = synth.resource_of(synth.storage.bucket)["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    for sid, statement in bucket_statements(synth).items():
        if statement["Effect"] == "Allow":
            assert statement["Principal"] != "*", sid
            assert statement["Principal"] != {"AWS": "*"}, sid


def test_only_this_distribution_reads_and_only_what_is_tagged_servable(synth: Synth) -> None:
    statement = bucket_statements(synth)["AllowCdnReadingServedMedia"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    # Reads only: no ListBucket (a missing key answers 403, like an unserved one).
    assert statement["Action"] == "s3:GetObject"
    served = [object_resource(synth, {"Resource": r}) for r in as_list(statement["Resource"])]
    assert sorted(served) == sorted(SERVED)
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": distribution_arn(synth),
            # A private asset's files, a deleted one's, anything not settled: untagged.
            "s3:ExistingObjectTag/mediaport-cdn": "public",
        }
    }


def test_cloudfront_is_granted_nothing_else_anywhere(synth: Synth) -> None:
    for policy in synth.resources_of_type("AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Principal") == {"Service": "cloudfront.amazonaws.com"}:
                assert statement.get("Sid") == "AllowCdnReadingServedMedia", statement


# --- standard logs and bandwidth -------------------------------------------------------


def test_cloudfront_logs_to_its_own_bucket_under_the_shared_prefix(synth: Synth) -> None:
    assert synth.cdn is not None
    assert config_of(synth)["Logging"] == {
        "Bucket": {"Fn::GetAtt": [synth.logical_id(synth.cdn.log_bucket), "RegionalDomainName"]},
        "Prefix": "cdn-logs/",
        "IncludeCookies": False,
    }


def test_the_log_bucket_takes_cloudfronts_acl_and_is_private_and_tidy(synth: Synth) -> None:
    assert synth.cdn is not None
    bucket = synth.resource_of(synth.cdn.log_bucket)
    props = bucket["Properties"]
    # Standard logs arrive with an ACL grant to CloudFront's log delivery account.
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    assert all(props["PublicAccessBlockConfiguration"].values())
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["LifecycleConfiguration"]["Rules"] == [
        {"Id": "expire-cdn-logs", "ExpirationInDays": 90, "Status": "Enabled"}
    ]
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": synth.logical_id(synth.storage.access_logs)},
        "LogFilePrefix": "cdn-log-bucket/",
    }
    assert bucket["DeletionPolicy"] == "Retain"


def test_each_new_log_file_is_queued_for_the_bandwidth_counter(synth: Synth) -> None:
    assert synth.cdn is not None
    log_bucket = {"Ref": synth.logical_id(synth.cdn.log_bucket)}
    (config,) = [
        n["Properties"]["NotificationConfiguration"]
        for n in synth.resources_of_type("Custom::S3BucketNotifications").values()
        if n["Properties"]["BucketName"] == log_bucket
    ]
    (queued,) = config["QueueConfigurations"]
    assert queued["Events"] == ["s3:ObjectCreated:*"]
    assert sorted(queued["Filter"]["Key"]["FilterRules"], key=lambda r: r["Name"]) == [
        {"Name": "prefix", "Value": "cdn-logs/"},
        {"Name": "suffix", "Value": ".gz"},
    ]
    queue_id = synth.logical_id(synth.cdn.log_queue)
    assert queued["QueueArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    (mapping,) = [
        m["Properties"]
        for m in synth.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    assert mapping["FunctionName"]["Ref"].startswith("countbandwidthFunction")
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_a_log_file_that_keeps_failing_waits_in_an_alarmed_dlq(synth: Synth) -> None:
    assert synth.cdn is not None
    queue = synth.resource_of(synth.cdn.log_queue)["Properties"]
    dlq = synth.logical_id(synth.cdn.log_dead_letters)
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": 5,
    }
    assert (
        queue["VisibilityTimeout"] >= 6 * mediaport_functions(synth)["count_bandwidth"]["Timeout"]
    )
    assert queue["SqsManagedSseEnabled"] is True
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
        },
    )


def test_count_bandwidth_reads_log_files_and_counts_each_once(synth: Synth) -> None:
    assert grants(synth, "count_bandwidth", "s3") == {"cdn-logs/cdn-logs/*": {"s3:GetObject"}}
    assert list_bucket_conditions(synth, "count_bandwidth") == []
    assert grants(synth, "count_bandwidth", "dynamodb") == {
        # The owner of each asset served.
        "assets": {"dynamodb:BatchGetItem"},
        # The month's row: added to (in the transaction), read back, its warning noted.
        "usage": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        # The record that a log file was counted (a conditional put, same transaction).
        "idempotency": {"dynamodb:PutItem"},
    }
    consumed = grants(synth, "count_bandwidth", "sqs")
    assert set(consumed) == {"log-files"}
    assert "sqs:SendMessage" not in consumed["log-files"]


# --- the functions ---------------------------------------------------------------------


def test_every_function_that_renders_an_asset_knows_the_cdns_url(synth: Synth) -> None:
    base_url = {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id(synth), "DomainName"]}]]
    }
    for name in FUNCTIONS:
        env = environment(synth, name)
        if name in RENDERERS:
            assert env["MEDIAPORT_PUBLIC_BASE_URL"] == base_url, name
        else:
            assert "MEDIAPORT_PUBLIC_BASE_URL" not in env, name


def test_delete_quarantine_and_purge_may_invalidate_this_distribution_only(
    synth: Synth,
) -> None:
    for name in FUNCTIONS:
        statements = [
            s
            for s in policy_of(synth, name)
            if "cloudfront:CreateInvalidation" in as_list(s["Action"])
        ]
        env = environment(synth, name)
        if name in INVALIDATORS:
            (statement,) = statements
            assert statement["Action"] == "cloudfront:CreateInvalidation", name
            assert statement["Resource"] == distribution_arn(synth), name
            assert env["MEDIAPORT_CDN_DISTRIBUTION_ID"] == {"Ref": distribution_id(synth)}, name
        else:
            assert statements == [], name
            assert "MEDIAPORT_CDN_DISTRIBUTION_ID" not in env, name
        # No other CloudFront action, anywhere.
        for statement in policy_of(synth, name):
            for action in as_list(statement["Action"]):
                assert not action.startswith("cloudfront:") or action == (
                    "cloudfront:CreateInvalidation"
                ), (name, action)


def test_a_refused_invalidation_raises_an_alarm(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "Mediaport",
            "MetricName": "CdnInvalidationFailures",
            "Dimensions": [{"Name": "service", "Value": "mediaport"}],
            "Statistic": "Sum",
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )


def test_the_stack_outputs_the_cdn(synth: Synth) -> None:
    assert synth.cdn is not None
    outputs = synth.template.to_json()["Outputs"]
    assert outputs["CdnDomainName"]["Value"] == {
        "Fn::GetAtt": [distribution_id(synth), "DomainName"]
    }
    assert outputs["CdnDistributionId"]["Value"] == {"Ref": distribution_id(synth)}
    assert outputs["CdnLogBucketName"]["Value"] == {"Ref": synth.logical_id(synth.cdn.log_bucket)}


def test_the_distributions_findings_are_acknowledged_on_it_alone(synth: Synth) -> None:
    assert synth.cdn is not None
    assert describe(synth) == []
    acknowledged = str([entry.data for entry in synth.cdn.distribution.node.metadata])
    for rule in ("AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR4"):
        assert rule in acknowledged, rule


# --- scanning on -----------------------------------------------------------------------


def test_with_scanning_the_cdn_serves_clean_media_and_nothing_unscanned(
    scanning_synth: Synth,
) -> None:
    statements = bucket_statements(scanning_synth)
    assert "AllowCdnReadingServedMedia" in statements
    deny = statements["DenyCdnReadingUnscannedMedia"]
    assert deny["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert object_resource(scanning_synth, deny) == "media/*"
    # The CDN's own read of a servable object names no scan tag; the deny names no
    # distribution: together, a tagged NO_THREATS_FOUND object is served and no unscanned
    # or infected one is, by this distribution or any.
    assert "SourceArn" not in str(deny["Condition"])
    assert describe(scanning_synth) == []


# --- cdn=false -------------------------------------------------------------------------


def test_cdn_is_on_unless_context_turns_it_off() -> None:
    assert DeploymentSettings.from_context(App(context=cdk_json_context()).node).cdn is True
    for value in (False, "false", "False"):
        app = App(context=cdk_json_context(cdn=value))
        assert DeploymentSettings.from_context(app.node).cdn is False
    with pytest.raises(ValueError, match="cdn must be true or false"):
        DeploymentSettings.from_context(App(context=cdk_json_context(cdn="maybe")).node)


def test_without_the_cdn_there_is_no_distribution_log_bucket_or_grant(
    no_cdn_synth: Synth,
) -> None:
    assert no_cdn_synth.cdn is None
    for resource_type in (
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
        "AWS::CloudFront::CachePolicy",
        "AWS::CloudFront::Function",
    ):
        assert not no_cdn_synth.resources_of_type(resource_type), resource_type
    assert len(no_cdn_synth.resources_of_type("AWS::S3::Bucket")) == 2
    assert list(bucket_statements(no_cdn_synth)) == [""]
    for name in FUNCTIONS:
        env = environment(no_cdn_synth, name)
        assert "MEDIAPORT_PUBLIC_BASE_URL" not in env, name
        assert "MEDIAPORT_CDN_DISTRIBUTION_ID" not in env, name
        for statement in policy_of(no_cdn_synth, name):
            assert not any(a.startswith("cloudfront:") for a in as_list(statement["Action"]))
    # Nothing invokes count_bandwidth then, and it holds nothing.
    for service in ("s3", "dynamodb", "sqs"):
        assert grants(no_cdn_synth, "count_bandwidth", service) == {}, service
    outputs = no_cdn_synth.template.to_json()["Outputs"]
    assert not {"CdnDomainName", "CdnDistributionId", "CdnLogBucketName"} & set(outputs)
    metrics = {
        a["Properties"].get("MetricName")
        for a in no_cdn_synth.resources_of_type("AWS::CloudWatch::Alarm").values()
    }
    assert "CdnInvalidationFailures" not in metrics


def test_without_the_cdn_the_stack_is_clean_and_valid(no_cdn_synth: Synth, tmp_path: Path) -> None:
    assert describe(no_cdn_synth) == []
    run_cfn_lint(no_cdn_synth, tmp_path)


def test_responses_are_readable_by_any_page_typed_and_originals_cached_briefly(
    synth: Synth,
) -> None:
    (policy,) = synth.resources_of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    cors = config["CorsConfig"]
    assert cors["AccessControlAllowOrigins"]["Items"] == ["*"]
    assert cors["AccessControlAllowCredentials"] is False
    assert cors["AccessControlAllowMethods"]["Items"] == ["GET", "HEAD"]
    # nosniff: an object is served as the type it was verified to be.
    assert config["SecurityHeadersConfig"]["ContentTypeOptions"] == {"Override": True}
    # An original carries no Cache-Control of its own: five minutes in browsers (the edges
    # are invalidated when it stops serving). A variant's own, year-long one is kept.
    (header,) = config["CustomHeadersConfig"]["Items"]
    assert header == {
        "Header": "Cache-Control",
        "Value": names.ORIGINAL_CACHE_CONTROL,
        "Override": False,
    }
