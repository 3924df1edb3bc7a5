"""Malware scanning on AWS (context ``scanning=guardduty``): GuardDuty Malware Protection
for S3 scans every new object under ``media/`` and tags it with its result; the result
event reaches ``scan_result`` through EventBridge; the bucket policy serves ``media/``
only what the scan cleared, and lets nobody but GuardDuty write its verdict.

What the bucket policy protects, statement by statement (``scan_tag_policy``), and what
it cannot:

- ``DenyReadingUnscannedMedia``: no GetObject of a ``media/`` object whose
  ``GuardDutyMalwareScanStatus`` tag is not clean (absent: not scanned yet;
  ``THREATS_FOUND``; an error result unless ``scanErrorPolicy=serve``), by any principal
  but the roles that must read unscanned bytes (``UNSCANNED_READERS``: the functions
  that verify an upload, transform_media, admin, whose release copies a quarantined
  original) and GuardDuty's own role. Those roles can still read such bytes with their
  own credentials; that is how verification and a release work.
- ``DenyCdnReadingUnscannedMedia``: the same reads by CloudFront (its service principal,
  which origin access control signs as), whatever distribution: a CDN never serves a
  ``media/`` object its scan did not clear, even one tagged servable. Written apart
  because the statement above names ``{"AWS": "*"}`` and spares roles by
  ``aws:PrincipalArn``, and whether those match a service principal is not something to
  rest on; this one names CloudFront itself.
- ``DenyUrlsToUnscannedMedia``: ...but never through a presigned URL (``s3:authType``
  ``REST-QUERY-STRING``), whoever signed it. So a URL the media function hands out for
  an unscanned or infected original fails at S3 even if the domain signed it by mistake;
  an exempt role's own (header-signed) calls are not guarded by the bucket, only by the
  code.
- ``DenyTaggingMediaButByMediaport``: only GuardDuty and the functions that tag uploads
  (``MEDIA_TAGGERS``: presign signs the tagged PUT, the settle path clears and restores
  the pending tag) may change tags under ``media/``.
- ``DenyUploadsTaggedWithAScanResult``: nothing arrives (PutObject, a multipart
  upload, a copy that sets tags) already carrying a scan tag, anywhere in the bucket, but
  from GuardDuty: an upload cannot be pre-tagged clean.
- ``DenyMarkingObjectsReadable``: no tag write sets a readable scan value on an object
  that is not readable already, but GuardDuty's. Writing back the value an object
  already has stays allowed: that is how the settle path keeps GuardDuty's tag when it
  removes the pending one (S3 replaces the whole tag set).
- ``DenyDroppingTheScanResult``, ``DenyDeletingTheScanResult``: no tag write or delete
  removes a scan tag that is there, but GuardDuty's. An object that lost it would stay
  unreadable even once its asset is CLEAN; refused, the settle path fails and is retried
  instead (S3 has no conditional tagging: a scan that lands between its read and its
  write of the tags is caught here, as an AccessDenied).

Not covered: objects outside ``media/``. ``derived/`` holds re-encoded pixels, made by
process_upload and transform_media; the domain signs them only once the asset is CLEAN,
and deletes them when it is INFECTED. ``released/`` holds what an admin released after
review. Nor is a principal that may rewrite the bucket policy.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_guardduty as guardduty
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdn import CLOUDFRONT_PRINCIPAL
from infra.constants import (
    SCAN_ERROR_SERVE,
    SCAN_EVENT_MAX_AGE,
    SCAN_EVENT_RETRY_ATTEMPTS,
    SCAN_HANDLER_MAX_EVENT_AGE,
    SCAN_HANDLER_RETRY_ATTEMPTS,
)
from infra.nag import acknowledge, arn_reference
from infra.processing import dead_letter_queue
from mediaport import names

# The service that assumes a Malware Protection plan's role.
GUARDDUTY_PLAN_PRINCIPAL = "malware-protection-plan.guardduty.amazonaws.com"
# The EventBridge rule GuardDuty creates (and manages) to hear the bucket's new objects.
GUARDDUTY_MANAGED_RULE = "DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"
# What GuardDuty writes to the bucket's root when the plan is created, to check ownership.
GUARDDUTY_VALIDATION_OBJECT = "malware-protection-resource-validation-object"
# GuardDuty's scan result events, on the account's default bus.
SCAN_RESULT_SOURCE = "aws.guardduty"
SCAN_RESULT_DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"

# Functions that read a media/ object before (or whatever) its scan said: every path that
# verifies an upload (confirm in media, multipart and Uppy completion, direct upload,
# the S3 event), transform_media, and admin (a release copies the quarantined original).
UNSCANNED_READERS = (
    "media",
    "multipart",
    "direct_upload",
    "uppy",
    "process_upload",
    "transform_media",
    "admin",
)
# Functions that tag media/ objects: presign (a presigned PUT carries its signer's
# PutObjectTagging) and the verifying paths (clear, or restore, the pending tag).
MEDIA_TAGGERS = ("presign", "media", "multipart", "direct_upload", "uppy", "process_upload")

_READS = ["s3:GetObject", "s3:GetObjectVersion"]
_TAG_WRITES = ["s3:PutObjectTagging", "s3:PutObjectVersionTagging"]
_TAG_DELETES = ["s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"]
_EXISTING_SCAN_TAG = f"s3:ExistingObjectTag/{names.SCAN_TAG_KEY}"
_REQUESTED_SCAN_TAG = f"s3:RequestObjectTag/{names.SCAN_TAG_KEY}"


def readable_scan_results(error_policy: str) -> list[str]:
    """The scan tag values a media/ object may be read with."""
    errors = list(names.SCAN_ERROR_TAG_VALUES) if error_policy == SCAN_ERROR_SERVE else []
    return [names.SCAN_CLEAN_TAG_VALUE, *errors]


class MalwareScanning(Construct):
    """GuardDuty's plan on ``media/``, its results to ``handler``, and the bucket policy
    that makes its tag the gate."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.Bucket,
        handler: lambda_.Function,
        unscanned_readers: Sequence[iam.IRole],
        media_taggers: Sequence[iam.IRole],
        error_policy: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = _plan_role(self, bucket)
        self.plan = guardduty.CfnMalwareProtectionPlan(
            self,
            "Plan",
            role=self.role.role_arn,
            protected_resource=guardduty.CfnMalwareProtectionPlan.CFNProtectedResourceProperty(
                s3_bucket=guardduty.CfnMalwareProtectionPlan.S3BucketProperty(
                    bucket_name=bucket.bucket_name, object_prefixes=[names.UPLOAD_PREFIX]
                )
            ),
            # The tag is what the bucket policy reads; the event is what the asset reads.
            actions=guardduty.CfnMalwareProtectionPlan.CFNActionsProperty(
                tagging=guardduty.CfnMalwareProtectionPlan.CFNTaggingProperty(status="ENABLED")
            ),
        )

        # Results that could not be delivered, or whose handler failed every retry.
        self.dead_letter_queue = dead_letter_queue(self, "FailedResults")
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter destination of the scan-result rule and "
            "of scan_result's asynchronous invocations; a DLQ of a DLQ would only move the "
            "same events once more.",
        )
        self.rule = events.Rule(
            self,
            "ScanResults",
            description="GuardDuty's malware scan results for the media bucket",
            event_pattern=events.EventPattern(
                source=[SCAN_RESULT_SOURCE],
                detail_type=[SCAN_RESULT_DETAIL_TYPE],
                detail={"s3ObjectDetails": {"bucketName": [bucket.bucket_name]}},
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                handler,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=SCAN_EVENT_RETRY_ATTEMPTS,
                max_event_age=SCAN_EVENT_MAX_AGE,
            )
        )
        # EventBridge invokes Lambda asynchronously: its retry policy covers delivery only,
        # and a handler that fails is retried by Lambda, then parked in the same queue.
        handler.configure_async_invoke(
            retry_attempts=SCAN_HANDLER_RETRY_ATTEMPTS,
            max_event_age=SCAN_HANDLER_MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )

        for statement in scan_tag_policy(
            bucket,
            guardduty_role=self.role,
            unscanned_readers=unscanned_readers,
            media_taggers=media_taggers,
            readable=readable_scan_results(error_policy),
        ):
            bucket.add_to_resource_policy(statement)


def _plan_role(scope: Construct, bucket: s3.IBucket) -> iam.Role:
    """The role GuardDuty scans and tags with: AWS's documented permissions for a
    Malware Protection for S3 plan, its object statements narrowed to ``media/``.

    No KMS statement: the bucket is encrypted with S3-managed keys (SSE-S3).
    """
    stack = Stack.of(scope)
    managed_rule = stack.format_arn(
        service="events", resource="rule", resource_name=GUARDDUTY_MANAGED_RULE
    )
    media_objects = bucket.arn_for_objects(f"{names.UPLOAD_PREFIX}*")
    role = iam.Role(
        scope,
        "PlanRole",
        assumed_by=iam.ServicePrincipal(GUARDDUTY_PLAN_PRINCIPAL),
        description="GuardDuty Malware Protection for S3: scans and tags media/",
        inline_policies={
            "MalwareProtection": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        sid="AllowManagedRuleToSendS3EventsToGuardDuty",
                        actions=[
                            "events:PutRule",
                            "events:DeleteRule",
                            "events:PutTargets",
                            "events:RemoveTargets",
                        ],
                        resources=[managed_rule],
                        conditions={"StringLike": {"events:ManagedBy": GUARDDUTY_PLAN_PRINCIPAL}},
                    ),
                    iam.PolicyStatement(
                        sid="AllowGuardDutyToMonitorEventBridgeManagedRule",
                        actions=["events:DescribeRule", "events:ListTargetsByRule"],
                        resources=[managed_rule],
                    ),
                    iam.PolicyStatement(
                        sid="AllowPostScanTag",
                        actions=[
                            "s3:PutObjectTagging",
                            "s3:GetObjectTagging",
                            "s3:PutObjectVersionTagging",
                            "s3:GetObjectVersionTagging",
                        ],
                        resources=[media_objects],
                    ),
                    iam.PolicyStatement(
                        sid="AllowEnableS3EventBridgeEvents",
                        actions=["s3:PutBucketNotification", "s3:GetBucketNotification"],
                        resources=[bucket.bucket_arn],
                    ),
                    iam.PolicyStatement(
                        sid="AllowPutValidationObject",
                        actions=["s3:PutObject"],
                        resources=[bucket.arn_for_objects(GUARDDUTY_VALIDATION_OBJECT)],
                        conditions={"StringEquals": {"aws:ResourceAccount": stack.account}},
                    ),
                    # GuardDuty checks the bucket is the account's by listing it; AWS
                    # documents this without a prefix condition.
                    iam.PolicyStatement(
                        sid="AllowCheckBucketOwnership",
                        actions=["s3:ListBucket"],
                        resources=[bucket.bucket_arn],
                    ),
                    iam.PolicyStatement(
                        sid="AllowMalwareScan",
                        actions=["s3:GetObject", "s3:GetObjectVersion"],
                        resources=[media_objects],
                    ),
                ]
            )
        },
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:"
        f"<AWS::AccountId>:rule/{GUARDDUTY_MANAGED_RULE}]",
        "GuardDuty names the EventBridge rule it creates and manages for the plan itself; "
        "AWS documents this prefix, and events:ManagedBy limits the writes to its rules.",
    )
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::{arn_reference(bucket)}/{names.UPLOAD_PREFIX}*]",
        "GuardDuty scans and tags every new object under the protected prefix; the grant "
        "names that one prefix of this one bucket (AWS documents the whole bucket).",
    )
    return role


def scan_tag_policy(
    bucket: s3.IBucket,
    *,
    guardduty_role: iam.IRole,
    unscanned_readers: Sequence[iam.IRole],
    media_taggers: Sequence[iam.IRole],
    readable: Sequence[str],
) -> list[iam.PolicyStatement]:
    """The bucket policy's deny statements that make GuardDuty's tag the gate of
    ``media/`` (what each protects and cannot: the module's docstring)."""
    media_objects = bucket.arn_for_objects(f"{names.UPLOAD_PREFIX}*")
    all_objects = bucket.arn_for_objects("*")
    guardduty_arn = guardduty_role.role_arn
    not_readable = {"StringNotEquals": {_EXISTING_SCAN_TAG: list(readable)}}
    only_guardduty = {"ArnNotEquals": {"aws:PrincipalArn": guardduty_arn}}

    def deny(sid: str, actions: list[str], resource: str, conditions: dict) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid=sid,
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=actions,
            resources=[resource],
            conditions=conditions,
        )

    readers = [guardduty_arn, *(role.role_arn for role in unscanned_readers)]
    taggers = [guardduty_arn, *(role.role_arn for role in media_taggers)]
    return [
        deny(
            "DenyReadingUnscannedMedia",
            _READS,
            media_objects,
            {**not_readable, "ArnNotEquals": {"aws:PrincipalArn": readers}},
        ),
        iam.PolicyStatement(
            sid="DenyCdnReadingUnscannedMedia",
            effect=iam.Effect.DENY,
            principals=[iam.ServicePrincipal(CLOUDFRONT_PRINCIPAL)],
            actions=_READS,
            resources=[media_objects],
            conditions=not_readable,
        ),
        deny(
            "DenyUrlsToUnscannedMedia",
            _READS,
            media_objects,
            {
                **not_readable,
                "StringEquals": {"s3:authType": "REST-QUERY-STRING"},
                **only_guardduty,
            },
        ),
        deny(
            "DenyTaggingMediaButByMediaport",
            [*_TAG_WRITES, *_TAG_DELETES],
            media_objects,
            {"ArnNotEquals": {"aws:PrincipalArn": taggers}},
        ),
        deny(
            "DenyUploadsTaggedWithAScanResult",
            ["s3:PutObject"],
            all_objects,
            {
                "ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": [names.SCAN_TAG_KEY]},
                **only_guardduty,
            },
        ),
        deny(
            "DenyMarkingObjectsReadable",
            _TAG_WRITES,
            all_objects,
            {
                "StringEquals": {_REQUESTED_SCAN_TAG: list(readable)},
                **not_readable,
                **only_guardduty,
            },
        ),
        deny(
            "DenyDroppingTheScanResult",
            _TAG_WRITES,
            media_objects,
            {
                "Null": {_EXISTING_SCAN_TAG: "false"},
                "ForAllValues:StringNotEquals": {"s3:RequestObjectTagKeys": [names.SCAN_TAG_KEY]},
                **only_guardduty,
            },
        ),
        deny(
            "DenyDeletingTheScanResult",
            _TAG_DELETES,
            media_objects,
            {"Null": {_EXISTING_SCAN_TAG: "false"}, **only_guardduty},
        ),
    ]
