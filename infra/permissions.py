"""Least privilege, per function: each gets exactly the S3 and DynamoDB actions it calls.

Grants use ``iam.Grant`` with exact actions rather than CDK's convenience grants:
``table.grant_read_write_data`` adds batch, scan, describe and every index (``index/*``),
and ``bucket.grant_put``/``grant_read`` add ``s3:Abort*``, ``s3:GetObject*``, legal-hold
and retention actions we never call. A presigned URL acts with its signer's permissions,
so presign's PutObject on ``media/*`` is all an uploader gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from infra.functions import MediaportFunction
from infra.nag import acknowledge, arn_reference
from infra.storage import Storage
from mediaport import names

# What Powertools' DynamoDBPersistenceLayer calls on the idempotency table.
IDEMPOTENCY_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# The asset table's indexes the library queries (a user's assets, all or in one status).
LISTING_INDEXES = (
    names.STATUS_INDEX_NAME,
    names.SHELF_INDEX_NAME,
    names.SIZE_INDEX_NAME,
    names.NAME_INDEX_NAME,
    names.FOLDER_INDEX_NAME,
    names.TYPE_INDEX_NAME,
)


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


def grant_list_bucket(fn: MediaportFunction, bucket: s3.IBucket, prefixes: Sequence[str]) -> None:
    """ListBucket, only under ``prefixes``: so that a HEAD or GET of a missing key there
    answers 404 rather than 403.

    S3 decides 404-or-403 for a missing key by evaluating ``s3:ListBucket`` with the key
    itself as ``s3:prefix`` (see docs/deploy.md), so the condition keeps that answer for
    the prefixes the function reads while allowing no listing anywhere else.
    """
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=["s3:ListBucket"],
        resource_arns=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
    )


def grant_table_items(fn: MediaportFunction, table: dynamodb.ITable, *actions: str) -> None:
    """Allow item ``actions`` on ``table`` itself (no index)."""
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=[f"dynamodb:{action}" for action in actions],
        resource_arns=[table.table_arn],
    )


def grant_index_query(
    fn: MediaportFunction, table: dynamodb.ITable, indexes: Sequence[str]
) -> None:
    """Allow Query on the named indexes of ``table`` only (never ``index/*``)."""
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=["dynamodb:Query"],
        resource_arns=[f"{table.table_arn}/index/{index}" for index in indexes],
    )


def grant_idempotency(fn: MediaportFunction, storage: Storage) -> None:
    """What Powertools' idempotency store calls on its table."""
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=list(IDEMPOTENCY_ACTIONS),
        resource_arns=[storage.idempotency_table.table_arn],
    )


def grant_usage_counting(fn: MediaportFunction, storage: Storage) -> None:
    """A function that changes an asset's state changes its owner's usage and its
    folder's counts in the same transaction (TransactWriteItems is authorised per item:
    UpdateItem on each table), and reads the totals for the early quota check and the
    storage warning."""
    grant_table_items(fn, storage.usage_table, "Query", "UpdateItem")
    grant_table_items(fn, storage.folder_table, "UpdateItem")


def grant_usage(fn: MediaportFunction, storage: Storage) -> None:
    """Read the caller's usage rows (one Query)."""
    grant_table_items(fn, storage.usage_table, "Query")


def grant_health(fn: MediaportFunction, storage: Storage) -> None:
    """The health check touches no data."""


def grant_presign(fn: MediaportFunction, storage: Storage) -> None:
    """Create the PENDING asset (once per idempotency key; its folder with it, in one
    transaction, when missing) and sign a tagged PUT under ``media/``; read the caller's
    usage for the early quota check."""
    grant_usage(fn, storage)
    grant_table_items(fn, storage.table, "PutItem")
    grant_table_items(fn, storage.folder_table, "UpdateItem")
    grant_idempotency(fn, storage)
    grant_object_actions(
        fn, storage.bucket, names.UPLOAD_PREFIX, "s3:PutObject", "s3:PutObjectTagging"
    )


def grant_media(fn: MediaportFunction, storage: Storage) -> None:
    """Confirm (verify, mark READY or REJECTED), read and list (sign GET URLs), edit,
    move, delete to the trash and restore (each counted with the asset, one transaction)."""
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_index_query(fn, storage.table, LISTING_INDEXES)
    grant_object_actions(
        fn,
        storage.bucket,
        names.UPLOAD_PREFIX,
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
        # The pending tag goes back when the READY write fails after untagging.
        "s3:PutObjectTagging",
    )
    grant_object_actions(fn, storage.bucket, names.DERIVED_PREFIX, "s3:GetObject")
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX, names.DERIVED_PREFIX))
    # A delete names the asset's attachments (the byAsset index), or with ?detach=true
    # removes them in its own transaction: DeleteItem of each, UpdateItem of its entity.
    grant_index_query(fn, storage.attachment_table, (names.ATTACHMENT_ASSET_INDEX_NAME,))
    grant_table_items(fn, storage.attachment_table, "DeleteItem", "UpdateItem")


def grant_attachments(fn: MediaportFunction, storage: Storage) -> None:
    """Attach and detach: the asset's usageCount (UpdateItem), the attachment record
    (PutItem, DeleteItem, UpdateItem for its role) and the entity's count (UpdateItem) in
    one transaction; read an entity's attachments (Query) and their assets
    (BatchGetItem), and sign GET URLs of the originals and variants. No usage or folder
    row changes: an attachment counts in neither."""
    grant_table_items(fn, storage.table, "GetItem", "BatchGetItem", "UpdateItem")
    grant_table_items(
        fn, storage.attachment_table, "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"
    )
    grant_object_actions(fn, storage.bucket, names.UPLOAD_PREFIX, "s3:GetObject")
    grant_object_actions(fn, storage.bucket, names.DERIVED_PREFIX, "s3:GetObject")


def grant_multipart(fn: MediaportFunction, storage: Storage) -> None:
    """Start, sign, list, complete and abort multipart uploads under ``media/``; verify a
    completed one (as confirm does) and delete it when rejected or aborted.

    A part URL acts with the signer's ``s3:PutObject``; listing parts is
    ``s3:ListMultipartUploadParts``, aborting ``s3:AbortMultipartUpload``. Initiate keeps
    idempotency records, as presign does.
    """
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "PutItem", "GetItem", "UpdateItem")
    grant_idempotency(fn, storage)
    grant_object_actions(
        fn,
        storage.bucket,
        names.UPLOAD_PREFIX,
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
    )
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX,))


def grant_direct_upload(fn: MediaportFunction, storage: Storage) -> None:
    """Record the PENDING asset, write the bytes the request carried under ``media/``
    (tagged pending), then verify them as confirm does: untag when READY, delete when
    rejected, and put the pending tag back if the READY write fails."""
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "PutItem", "GetItem", "UpdateItem")
    grant_object_actions(
        fn,
        storage.bucket,
        names.UPLOAD_PREFIX,
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
    )
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX,))


def grant_uppy(fn: MediaportFunction, storage: Storage) -> None:
    """Open, check and revoke upload sessions; within one, what presign (a POST policy) and
    multipart do: start, sign, list, complete (verify) and abort uploads under ``media/``."""
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.session_table, "PutItem", "GetItem", "UpdateItem")
    grant_table_items(fn, storage.table, "PutItem", "GetItem", "UpdateItem")
    grant_object_actions(
        fn,
        storage.bucket,
        names.UPLOAD_PREFIX,
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
    )
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX,))


def grant_process_upload(fn: MediaportFunction, storage: Storage) -> None:
    """Verify an upload, write its variants, delete it when rejected.

    DeleteObject on ``derived/`` too: when a READY object is overwritten with bytes that
    fail verification, its stale variants are deleted along with it.
    """
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_object_actions(
        fn,
        storage.bucket,
        names.UPLOAD_PREFIX,
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
        # The pending tag goes back when the READY write fails after untagging.
        "s3:PutObjectTagging",
    )
    grant_object_actions(
        fn, storage.bucket, names.DERIVED_PREFIX, "s3:PutObject", "s3:DeleteObject"
    )
    # derived/ is listed to delete every variant of a rejected asset (the record no
    # longer names them).
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX, names.DERIVED_PREFIX))


def grant_folders(fn: MediaportFunction, storage: Storage) -> None:
    """List, create and delete the caller's folders; deleting with ``moveTo`` moves each
    asset in it (found through the folder index) as an edit does, counted."""
    grant_table_items(fn, storage.folder_table, "Query", "PutItem", "UpdateItem", "DeleteItem")
    # A move between top-level folders moves their usage rows (no totals are read).
    grant_table_items(fn, storage.usage_table, "UpdateItem")
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_index_query(fn, storage.table, (names.FOLDER_INDEX_NAME,))


def grant_expire_assets(fn: MediaportFunction, storage: Storage) -> None:
    """Delete the object and the variants of an asset record TTL removed, and abort its
    multipart upload if one was still going on (the stream record carries the old image);
    a purged asset's record comes back as a tombstone (PutItem, if absent), so a restore
    answers that it was purged."""
    grant_table_items(fn, storage.table, "PutItem")
    grant_object_actions(
        fn, storage.bucket, names.UPLOAD_PREFIX, "s3:DeleteObject", "s3:AbortMultipartUpload"
    )
    grant_object_actions(fn, storage.bucket, names.DERIVED_PREFIX, "s3:DeleteObject")
    grant_list_bucket(fn, storage.bucket, (names.DERIVED_PREFIX,))


def grant_reconcile_usage(fn: MediaportFunction, storage: Storage) -> None:
    """Recompute usage: scan the asset table for the owners of counted assets, page a
    user's assets in one status through the status index, read and correct usage rows
    (a Query per user, a Scan for the users with a total row, a conditional UpdateItem)."""
    grant_table_items(fn, storage.table, "Scan")
    grant_index_query(fn, storage.table, (names.STATUS_INDEX_NAME,))
    grant_table_items(fn, storage.usage_table, "Query", "Scan", "UpdateItem")


GRANTS: Mapping[str, Callable[[MediaportFunction, Storage], None]] = {
    "health": grant_health,
    "presign": grant_presign,
    "media": grant_media,
    "folders": grant_folders,
    "attachments": grant_attachments,
    "usage": grant_usage,
    "multipart": grant_multipart,
    "uppy": grant_uppy,
    "direct_upload": grant_direct_upload,
    "process_upload": grant_process_upload,
    "expire_assets": grant_expire_assets,
    "reconcile_usage": grant_reconcile_usage,
}
