"""Storage: the media bucket (plus its access-log bucket) and the asset table."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constants import (
    ABANDONED_UPLOAD_EXPIRY,
    ACCESS_LOG_EXPIRY,
    CORS_MAX_AGE,
    INCOMPLETE_MULTIPART_EXPIRY,
    OWNER_INDEX_NAME,
    OWNER_INDEX_PARTITION_KEY,
    OWNER_INDEX_SORT_KEY,
    PENDING_TAG_KEY,
    PENDING_TAG_VALUE,
    TABLE_PARTITION_KEY,
    TTL_ATTRIBUTE,
    UPLOAD_PREFIX,
)
from infra.nag import acknowledge

_PRIVATE_BUCKET = {
    "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    "enforce_ssl": True,
    "encryption": s3.BucketEncryption.S3_MANAGED,
    "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
}


class Storage(Construct):
    """The media bucket and the asset table, removed or retained together."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        allowed_origins: tuple[str, ...],
        removal_policy: RemovalPolicy,
    ) -> None:
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
                    allowed_methods=[
                        s3.HttpMethods.PUT,
                        s3.HttpMethods.POST,
                        s3.HttpMethods.GET,
                        s3.HttpMethods.HEAD,
                    ],
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=int(CORS_MAX_AGE.to_seconds()),
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=INCOMPLETE_MULTIPART_EXPIRY,
                ),
                # Presign tags every upload pending; the tag goes when the asset is READY.
                s3.LifecycleRule(
                    id="expire-abandoned-uploads",
                    prefix=UPLOAD_PREFIX,
                    tag_filters={PENDING_TAG_KEY: PENDING_TAG_VALUE},
                    expiration=ABANDONED_UPLOAD_EXPIRY,
                ),
            ],
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
            **_PRIVATE_BUCKET,  # type: ignore[arg-type]
        )

        self.table = dynamodb.Table(
            self,
            "Assets",
            partition_key=dynamodb.Attribute(
                name=TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,
            # No SSESpecification: DynamoDB encrypts at rest with an AWS-owned key, which
            # costs nothing (the aws/dynamodb KMS key would bill KMS requests).
            removal_policy=removal_policy,
        )
        self.table.add_global_secondary_index(
            index_name=OWNER_INDEX_NAME,
            partition_key=dynamodb.Attribute(
                name=OWNER_INDEX_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(
                name=OWNER_INDEX_SORT_KEY, type=dynamodb.AttributeType.STRING
            ),
            projection_type=dynamodb.ProjectionType.ALL,
        )
