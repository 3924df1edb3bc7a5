"""Storage: the media bucket (plus its access-log bucket) and the six tables: assets,
usage, folders, attachments, upload sessions and idempotency records."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constants import ACCESS_LOG_EXPIRY
from infra.definitions import (
    ASSET_TABLE,
    ATTACHMENT_TABLE,
    FOLDER_TABLE,
    IDEMPOTENCY_TABLE,
    MEDIA_CORS,
    MEDIA_LIFECYCLE,
    SESSION_TABLE,
    USAGE_TABLE,
    LifecycleRule,
    TableDefinition,
)
from infra.nag import acknowledge

_PRIVATE_BUCKET = {
    "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    "enforce_ssl": True,
    "encryption": s3.BucketEncryption.S3_MANAGED,
    "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
}


class Storage(Construct):
    """The media bucket and the asset, usage, folder, attachment and upload-session tables,
    removed or retained together (and the idempotency table, which is always removed)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        allowed_origins: tuple[str, ...],
        removal_policy: RemovalPolicy,
        event_bridge: bool = False,
    ) -> None:
        """``event_bridge``: the bucket sends its events to EventBridge too (GuardDuty
        Malware Protection for S3 listens there)."""
        super().__init__(scope, construct_id)
        destroy = removal_policy == RemovalPolicy.DESTROY

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=ACCESS_LOG_EXPIRY)
            ],
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
            **_PRIVATE_BUCKET,  # type: ignore[arg-type]
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging it into itself would loop.",
        )

        self.bucket = s3.Bucket(
            self,
            "Media",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="media-bucket/",
            cors=[
                s3.CorsRule(
                    allowed_origins=list(allowed_origins),
                    allowed_methods=[s3.HttpMethods[m] for m in MEDIA_CORS.allowed_methods],
                    allowed_headers=list(MEDIA_CORS.allowed_headers),
                    exposed_headers=list(MEDIA_CORS.exposed_headers),
                    max_age=MEDIA_CORS.max_age_seconds,
                )
            ],
            lifecycle_rules=[_lifecycle_rule(rule) for rule in MEDIA_LIFECYCLE],
            # GuardDuty turns this on itself when its plan is created, but CDK's handler
            # that writes the bucket's notifications (S3 → SQS) replaces the whole
            # configuration; declaring it here keeps a later deploy from switching it off.
            event_bridge_enabled=event_bridge or None,
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
            **_PRIVATE_BUCKET,  # type: ignore[arg-type]
        )

        self.table = _table(self, "Assets", ASSET_TABLE, removal_policy)
        # Idempotency records are short-lived (Powertools expires them after an hour by
        # default) and hold no user data: nothing to keep when the stack goes, and nothing
        # a point-in-time restore could usefully bring back.
        self.idempotency_table = _table(
            self, "Idempotency", IDEMPOTENCY_TABLE, RemovalPolicy.DESTROY
        )
        acknowledge(
            self.idempotency_table,
            "AwsSolutions-DDB3",
            "Powertools idempotency records are short-lived (an hour by default) and hold no "
            "user data; restoring them to a point in time would only replay stale request keys.",
        )
        # Storage usage per user: kept or removed with the assets it counts.
        self.usage_table = _table(self, "Usage", USAGE_TABLE, removal_policy)
        # Library folders and their counts: kept or removed with the assets they count.
        self.folder_table = _table(self, "Folders", FOLDER_TABLE, removal_policy)
        # What is attached to which host-app thing: kept or removed with the assets.
        self.attachment_table = _table(self, "Attachments", ATTACHMENT_TABLE, removal_policy)
        # Uppy upload sessions live an hour at most; kept or removed with the asset table.
        self.session_table = _table(self, "UploadSessions", SESSION_TABLE, removal_policy)
        acknowledge(
            self.session_table,
            "AwsSolutions-DDB3",
            "Upload sessions expire within an hour and only name who may upload where; a "
            "point-in-time restore would only bring back capabilities that have ended.",
        )


def _lifecycle_rule(rule: LifecycleRule) -> s3.LifecycleRule:
    """One CDK lifecycle rule from its plain definition."""
    return s3.LifecycleRule(
        id=rule.rule_id,
        prefix=rule.prefix,
        tag_filters=dict(rule.tags) or None,
        expiration=(
            Duration.days(rule.expire_after_days) if rule.expire_after_days is not None else None
        ),
        abort_incomplete_multipart_upload_after=(
            Duration.days(rule.abort_incomplete_multipart_after_days)
            if rule.abort_incomplete_multipart_after_days is not None
            else None
        ),
    )


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _table(
    scope: Construct,
    construct_id: str,
    definition: TableDefinition,
    removal_policy: RemovalPolicy,
) -> dynamodb.Table:
    """An on-demand table from its plain definition: keys, TTL, stream, indexes."""
    table = dynamodb.Table(
        scope,
        construct_id,
        partition_key=_string(definition.partition_key),
        sort_key=_string(definition.sort_key) if definition.sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=definition.point_in_time_recovery
        ),
        time_to_live_attribute=definition.ttl_attribute,
        stream=(
            dynamodb.StreamViewType[definition.stream_view_type]
            if definition.stream_view_type
            else None
        ),
        # No SSESpecification: DynamoDB encrypts at rest with an AWS-owned key, which
        # costs nothing (the aws/dynamodb KMS key would bill KMS requests).
        removal_policy=removal_policy,
    )
    for index in definition.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_string(index.partition_key),
            sort_key=_string(index.sort_key),
            projection_type=dynamodb.ProjectionType.ALL,
        )
    return table
