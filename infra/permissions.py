"""Least privilege, per function: each gets exactly the S3 and DynamoDB actions it calls.

Grants use ``iam.Grant`` with exact actions rather than CDK's convenience grants:
``table.grant_read_write_data`` adds batch, scan, describe and every index (``index/*``),
and ``bucket.grant_put``/``grant_read`` add ``s3:Abort*``, ``s3:GetObject*``, legal-hold
and retention actions we never call. A presigned URL acts with its signer's permissions,
so presign's PutObject on ``media/*`` is all an uploader gets.

Where an asset's original lives: ``media/`` (what was uploaded) or, once an admin has
released it from quarantine, ``released/`` (docs/scanning.md). Whatever reads, signs or
deletes originals reaches both. With scanning on, the bucket policy further limits who
reads and tags ``media/`` (``infra/scanning.py``).

With the CDN on, the functions that stop a public original from serving (delete,
quarantine, purge) may invalidate the distribution's cached copies, and nothing else of
it (``infra/cdn.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from infra.functions import MediaportFunction
from infra.nag import acknowledge, arn_reference
from infra.storage import Storage
from mediaport import names


@dataclass(frozen=True)
class GrantTargets:
    """What the grants point at: the bucket and tables, the jobs queue, the event bus, the
    webhook queue and secret, and (with the CDN on) the distribution and its log bucket."""

    storage: Storage
    jobs_queue: sqs.IQueue
    event_bus: events.IEventBus
    webhook_queue: sqs.IQueue
    webhook_secret: secretsmanager.ISecret
    distribution: cloudfront.IDistribution | None = None
    cdn_logs: s3.IBucket | None = None


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
        f"Object keys are per asset (or log file), so the grant names the '{prefix}' prefix "
        "of this one bucket; no other prefix or bucket is reachable.",
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


def grant_usage_reads(fn: MediaportFunction, storage: Storage) -> None:
    """Read the caller's usage rows (one Query)."""
    grant_table_items(fn, storage.usage_table, "Query")


def grant_variant_writes(fn: MediaportFunction, storage: Storage) -> None:
    """Write and replace variants under ``derived/``. A public asset's variants are written
    with the CDN tag, and PutObject with tags needs PutObjectTagging too."""
    grant_object_actions(
        fn,
        storage.bucket,
        names.DERIVED_PREFIX,
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:DeleteObject",
    )


def grant_enqueue_jobs(fn: MediaportFunction, queue: sqs.IQueue) -> None:
    """Send work to transform_media (SendMessage on the jobs queue only)."""
    iam.Grant.add_to_principal(
        grantee=fn.function, actions=["sqs:SendMessage"], resource_arns=[queue.queue_arn]
    )


def grant_invalidation(fn: MediaportFunction, targets: GrantTargets) -> None:
    """With the CDN on: invalidate the distribution's cached copies of an original that
    stopped being served (CreateInvalidation on this distribution only)."""
    if targets.distribution is not None:
        iam.Grant.add_to_principal(
            grantee=fn.function,
            actions=["cloudfront:CreateInvalidation"],
            resource_arns=[targets.distribution.distribution_arn],
        )


def grant_health(fn: MediaportFunction, targets: GrantTargets) -> None:
    """The health check touches no data."""


def grant_usage(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Read the caller's usage rows (one Query) and this month's bandwidth row (GetItem)."""
    grant_usage_reads(fn, targets.storage)
    grant_table_items(fn, targets.storage.usage_table, "GetItem")


def grant_presign(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Create the PENDING asset (once per idempotency key; its folder with it, in one
    transaction, when missing) and sign a tagged PUT under ``media/``; read the caller's
    usage for the early quota check."""
    storage = targets.storage
    grant_usage_reads(fn, storage)
    grant_table_items(fn, storage.table, "PutItem")
    grant_table_items(fn, storage.folder_table, "UpdateItem")
    grant_idempotency(fn, storage)
    grant_object_actions(
        fn, storage.bucket, names.UPLOAD_PREFIX, "s3:PutObject", "s3:PutObjectTagging"
    )


def grant_media(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Confirm (verify, mark READY or REJECTED), read and list (sign GET URLs), edit,
    move, delete to the trash and restore (each counted with the asset, one transaction).

    Confirm reads the upload's tags (with scanning on, the scan's result is kept when the
    pending tag goes); originals may be under ``released/`` too.
    """
    storage = targets.storage
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_index_query(fn, storage.table, LISTING_INDEXES)
    grant_object_actions(
        fn,
        storage.bucket,
        names.UPLOAD_PREFIX,
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:GetObjectTagging",
        "s3:DeleteObjectTagging",
        # The pending tag goes back when the READY write fails after untagging.
        "s3:PutObjectTagging",
    )
    # A delete to the trash takes the CDN tag off the original and its variants (keeping
    # the scan's), a restore puts it back: read, written, removed wherever files live.
    cdn_tagging = ("s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging")
    grant_object_actions(
        fn, storage.bucket, names.RELEASED_PREFIX, "s3:GetObject", "s3:DeleteObject", *cdn_tagging
    )
    grant_object_actions(fn, storage.bucket, names.DERIVED_PREFIX, "s3:GetObject", *cdn_tagging)
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX, names.DERIVED_PREFIX))
    # A delete names the asset's attachments (the byAsset index), or with ?detach=true
    # removes them in its own transaction: DeleteItem of each, UpdateItem of its entity.
    grant_index_query(fn, storage.attachment_table, (names.ATTACHMENT_ASSET_INDEX_NAME,))
    grant_table_items(fn, storage.attachment_table, "DeleteItem", "UpdateItem")
    # A deleted public original stops serving from the CDN's caches too.
    grant_invalidation(fn, targets)


def grant_attachments(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Attach and detach: the asset's usageCount (UpdateItem), the attachment record
    (PutItem, DeleteItem, UpdateItem for its role) and the entity's count (UpdateItem) in
    one transaction; read an entity's attachments (Query) and their assets
    (BatchGetItem), and sign GET URLs of the originals (uploaded or released) and
    variants. No usage or folder row changes: an attachment counts in neither."""
    storage = targets.storage
    grant_table_items(fn, storage.table, "GetItem", "BatchGetItem", "UpdateItem")
    grant_table_items(
        fn, storage.attachment_table, "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"
    )
    grant_object_actions(fn, storage.bucket, names.UPLOAD_PREFIX, "s3:GetObject")
    grant_object_actions(fn, storage.bucket, names.RELEASED_PREFIX, "s3:GetObject")
    grant_object_actions(fn, storage.bucket, names.DERIVED_PREFIX, "s3:GetObject")


def grant_multipart(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Start, sign, list, complete and abort multipart uploads under ``media/``; verify a
    completed one (as confirm does) and delete it when rejected or aborted.

    A part URL acts with the signer's ``s3:PutObject``; listing parts is
    ``s3:ListMultipartUploadParts``, aborting ``s3:AbortMultipartUpload``. Initiate keeps
    idempotency records, as presign does.
    """
    storage = targets.storage
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
        "s3:GetObjectTagging",
        "s3:DeleteObjectTagging",
    )
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX,))


def grant_direct_upload(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Record the PENDING asset, write the bytes the request carried under ``media/``
    (tagged pending), then verify them as confirm does: untag when READY, delete when
    rejected, and put the pending tag back if the READY write fails."""
    storage = targets.storage
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
        "s3:GetObjectTagging",
        "s3:DeleteObjectTagging",
    )
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX,))


def grant_uppy(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Open, check and revoke upload sessions; within one, what presign (a POST policy) and
    multipart do: start, sign, list, complete (verify) and abort uploads under ``media/``."""
    storage = targets.storage
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
        "s3:GetObjectTagging",
        "s3:DeleteObjectTagging",
    )
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX,))


def grant_process_upload(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Verify an upload, write its variants, delete it when rejected.

    DeleteObject on ``derived/`` too: when a READY object is overwritten with bytes that
    fail verification, its stale variants are deleted along with it.
    """
    storage = targets.storage
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_object_actions(
        fn,
        storage.bucket,
        names.UPLOAD_PREFIX,
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:GetObjectTagging",
        "s3:DeleteObjectTagging",
        # The pending tag goes back when the READY write fails after untagging.
        "s3:PutObjectTagging",
    )
    grant_variant_writes(fn, storage)
    # derived/ is listed to delete every variant of a rejected asset (the record no
    # longer names them).
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX, names.DERIVED_PREFIX))


def grant_folders(fn: MediaportFunction, targets: GrantTargets) -> None:
    """List, create and delete the caller's folders; deleting with ``moveTo`` moves each
    asset in it (found through the folder index) as an edit does, counted."""
    storage = targets.storage
    grant_table_items(fn, storage.folder_table, "Query", "PutItem", "UpdateItem", "DeleteItem")
    # A move between top-level folders moves their usage rows (no totals are read).
    grant_table_items(fn, storage.usage_table, "UpdateItem")
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_index_query(fn, storage.table, (names.FOLDER_INDEX_NAME,))


def grant_expire_assets(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Delete the object (uploaded or released) and the variants of an asset record TTL
    removed, and abort its multipart upload if one was still going on (the stream record
    carries the old image); a purged asset's record comes back as a tombstone (PutItem, if
    absent), so a restore answers that it was purged."""
    storage = targets.storage
    grant_table_items(fn, storage.table, "PutItem")
    grant_object_actions(
        fn, storage.bucket, names.UPLOAD_PREFIX, "s3:DeleteObject", "s3:AbortMultipartUpload"
    )
    grant_object_actions(fn, storage.bucket, names.RELEASED_PREFIX, "s3:DeleteObject")
    grant_object_actions(fn, storage.bucket, names.DERIVED_PREFIX, "s3:DeleteObject")
    grant_list_bucket(fn, storage.bucket, (names.DERIVED_PREFIX,))
    # A purged public original stops serving from the CDN's caches too.
    grant_invalidation(fn, targets)


def grant_reconcile_usage(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Recompute usage: scan the asset table for the owners of counted assets, page a
    user's assets in one status through the status index, read and correct usage rows
    (a Query per user, a Scan for the users with a total row, a conditional UpdateItem)."""
    storage = targets.storage
    grant_table_items(fn, storage.table, "Scan")
    grant_index_query(fn, storage.table, (names.STATUS_INDEX_NAME,))
    grant_table_items(fn, storage.usage_table, "Query", "Scan", "UpdateItem")


def grant_transforms(fn: MediaportFunction, targets: GrantTargets) -> None:
    """List an image's variants (signing the URLs of the READY ones) and request one: a
    PENDING variant recorded on the asset (UpdateItem), one job sent. It opens no image
    and changes no usage: a variant counts in neither usage nor folders."""
    storage = targets.storage
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_enqueue_jobs(fn, targets.jobs_queue)
    grant_object_actions(fn, storage.bucket, names.DERIVED_PREFIX, "s3:GetObject")


def grant_transform_media(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Make a variant from the original (uploaded or released): read it, write the
    variant under ``derived/`` (or delete one not worth keeping), and record it. The
    record changes through the one transaction writer, which may touch usage and folder
    rows, so it holds what every state change holds.

    ListBucket on the originals' prefixes too: an original deleted since the job was sent
    answers 404 (the job is dropped), not 403 (the job would be retried into the DLQ).
    """
    storage = targets.storage
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_object_actions(fn, storage.bucket, names.UPLOAD_PREFIX, "s3:GetObject")
    grant_object_actions(fn, storage.bucket, names.RELEASED_PREFIX, "s3:GetObject")
    grant_variant_writes(fn, storage)
    grant_list_bucket(
        fn, storage.bucket, (names.UPLOAD_PREFIX, names.RELEASED_PREFIX, names.DERIVED_PREFIX)
    )


def grant_scan_result(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Record a scan's result on the asset (a state change: CLEAN, or QUARANTINED with its
    counts, one transaction); an infected asset's variants are listed and deleted; an
    asset the scan cleared gets its thumbnails made (a job). The object itself is only
    named by the event: it is never read here."""
    storage = targets.storage
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_object_actions(fn, storage.bucket, names.DERIVED_PREFIX, "s3:DeleteObject")
    grant_list_bucket(fn, storage.bucket, (names.DERIVED_PREFIX,))
    grant_enqueue_jobs(fn, targets.jobs_queue)
    # A quarantined public original stops serving from the CDN's caches too.
    grant_invalidation(fn, targets)


def grant_admin(fn: MediaportFunction, targets: GrantTargets) -> None:
    """List every quarantined asset (the quarantine index) and release one after review:
    a server-side copy of the original from ``media/`` to ``released/`` (CopyObject reads
    the source, GetObject, and writes the target, PutObject, with the CDN tag for a
    public asset: PutObjectTagging), the release counted in one transaction, the original
    deleted (or the copy, when the release lost a race), and a job for its thumbnails.

    ListBucket on ``media/``: an original gone meanwhile answers 404 (a conflict), not 403.
    """
    storage = targets.storage
    grant_usage_counting(fn, storage)
    grant_table_items(fn, storage.table, "GetItem", "UpdateItem")
    grant_index_query(fn, storage.table, (names.QUARANTINE_INDEX_NAME,))
    grant_object_actions(fn, storage.bucket, names.UPLOAD_PREFIX, "s3:GetObject", "s3:DeleteObject")
    # The copy of a public asset carries the CDN tag (CopyObject with tags).
    grant_object_actions(
        fn,
        storage.bucket,
        names.RELEASED_PREFIX,
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:DeleteObject",
    )
    grant_list_bucket(fn, storage.bucket, (names.UPLOAD_PREFIX,))
    grant_enqueue_jobs(fn, targets.jobs_queue)


def grant_publish_events(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Put each state change on the bus (PutEvents on it only) and hand it to the webhook
    queue once per configured URL (SendMessage on it only). The records come with the
    stream mappings (their reads, and the failed-records queue, are granted with them);
    no table item or object is read."""
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=["events:PutEvents"],
        resource_arns=[targets.event_bus.event_bus_arn],
    )
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=["sqs:SendMessage"],
        resource_arns=[targets.webhook_queue.queue_arn],
    )


def grant_deliver_webhooks(fn: MediaportFunction, targets: GrantTargets) -> None:
    """Read the signing secret (GetSecretValue on it only). The jobs come with the queue's
    event source, whose consume grant includes ChangeMessageVisibility: a failed delivery
    is put back later (its backoff). No table, bucket or other queue is reached."""
    iam.Grant.add_to_principal(
        grantee=fn.function,
        actions=["secretsmanager:GetSecretValue"],
        resource_arns=[targets.webhook_secret.secret_arn],
    )


def grant_count_bandwidth(fn: MediaportFunction, targets: GrantTargets) -> None:
    """With the CDN on: read CloudFront's log files (GetObject under the log prefix of the
    log bucket; the files come with the log queue's event source), find the owner of each
    asset served (BatchGetItem on the asset table), and add their bytes to the month's usage
    row with a record that the file was counted (one transaction: UpdateItem on usage rows,
    PutItem, if absent, on the idempotency table); read a month's row back and record its
    warning (GetItem, UpdateItem). Off, nothing invokes it and it holds nothing."""
    if targets.cdn_logs is None:
        return
    storage = targets.storage
    grant_object_actions(fn, targets.cdn_logs, names.CDN_LOG_PREFIX, "s3:GetObject")
    grant_table_items(fn, storage.table, "BatchGetItem")
    grant_table_items(fn, storage.usage_table, "GetItem", "UpdateItem")
    grant_table_items(fn, storage.idempotency_table, "PutItem")


GRANTS: Mapping[str, Callable[[MediaportFunction, GrantTargets], None]] = {
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
    "transforms": grant_transforms,
    "transform_media": grant_transform_media,
    "scan_result": grant_scan_result,
    "admin": grant_admin,
    "publish_events": grant_publish_events,
    "deliver_webhooks": grant_deliver_webhooks,
    "count_bandwidth": grant_count_bandwidth,
}
