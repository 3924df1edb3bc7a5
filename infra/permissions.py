"""Least privilege, per function: each gets exactly the S3 and DynamoDB actions it uses.

S3 object grants use ``iam.Grant`` with the exact actions on one key prefix, narrower
than ``bucket.grant_put``/``grant_read`` (which add ``s3:Abort*``, ``s3:GetObject*``,
legal-hold and retention actions we never call). A presigned URL acts with its
signer's permissions, so presign's PutObject on ``media/*`` is all an uploader gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from infra.constants import DERIVED_PREFIX, UPLOAD_PREFIX
from infra.functions import MediaportFunction
from infra.nag import acknowledge, arn_reference
from infra.storage import Storage


def grant_object_actions(
    fn: MediaportFunction, bucket: s3.IBucket, prefix: str, *actions: str
) -> None:
    """Allow ``actions`` on the objects under one key prefix of ``bucket`` only."""
    pattern = f"{prefix}*"
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=list(actions),
        resource_arns=[bucket.arn_for_objects(pattern)],
    )
    acknowledge(
        fn.default_policy,
        f"AwsSolutions-IAM5[Resource::{arn_reference(bucket)}/{pattern}]",
        f"Object keys are per asset, so the grant names the '{prefix}' prefix of this one "
        "bucket; no other prefix or bucket is reachable.",
    )


def grant_list_bucket(fn: MediaportFunction, bucket: s3.IBucket) -> None:
    """ListBucket makes a HEAD of a missing key answer 404 instead of 403."""
    iam.Grant.add_to_principal(
        grantee=fn.function, actions=["s3:ListBucket"], resource_arns=[bucket.bucket_arn]
    )


def grant_table_read_write(fn: MediaportFunction, table: dynamodb.Table) -> None:
    """Item reads and conditional writes on the asset table and its owner index."""
    table.grant_read_write_data(fn.function)
    acknowledge(
        fn.default_policy,
        f"AwsSolutions-IAM5[Resource::{arn_reference(table)}/index/*]",
        "CDK's table grant covers this table's own indexes (the byOwner GSI, for listing "
        "by owner); it reaches no other table.",
    )


def grant_health(fn: MediaportFunction, storage: Storage) -> None:
    """The health check touches no data."""


def grant_presign(fn: MediaportFunction, storage: Storage) -> None:
    """Create the PENDING asset and sign a tagged PUT under ``media/``."""
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=["dynamodb:PutItem"],
        resource_arns=[storage.table.table_arn],
    )
    grant_object_actions(fn, storage.bucket, UPLOAD_PREFIX, "s3:PutObject", "s3:PutObjectTagging")


def grant_media(fn: MediaportFunction, storage: Storage) -> None:
    """Confirm (verify, mark READY or REJECTED) and get (sign GET URLs for variants)."""
    grant_table_read_write(fn, storage.table)
    grant_object_actions(
        fn,
        storage.bucket,
        UPLOAD_PREFIX,
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
    )
    grant_object_actions(fn, storage.bucket, DERIVED_PREFIX, "s3:GetObject")
    grant_list_bucket(fn, storage.bucket)


def grant_process_upload(fn: MediaportFunction, storage: Storage) -> None:
    """Verify an upload, write its variants, delete it when rejected.

    DeleteObject on ``derived/`` too: when a READY object is overwritten with bytes that
    fail verification, its stale variants are deleted along with it.
    """
    grant_table_read_write(fn, storage.table)
    grant_object_actions(
        fn,
        storage.bucket,
        UPLOAD_PREFIX,
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
    )
    grant_object_actions(fn, storage.bucket, DERIVED_PREFIX, "s3:PutObject", "s3:DeleteObject")
    grant_list_bucket(fn, storage.bucket)


GRANTS: Mapping[str, Callable[[MediaportFunction, Storage], None]] = {
    "health": grant_health,
    "presign": grant_presign,
    "media": grant_media,
    "process_upload": grant_process_upload,
}
