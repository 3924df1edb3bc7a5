"""What the bucket and the tables are, as plain data, written once.

``infra/storage.py`` and ``infra/processing.py`` turn these into CDK constructs;
``infra/local/provision.py`` turns them into boto3 calls against the emulator. Neither
side writes a key, an index, a lifecycle rule or a notification filter of its own, so
the local stack cannot drift from the deployed one. No ``aws_cdk`` import here: the
local stack reads this module without starting the CDK's runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediaport import names

# --- SQS ----------------------------------------------------------------------------

# Deliveries of one upload event before it goes to the dead-letter queue; process_upload
# is told it (names.ENV_MAX_RECEIVE_COUNT) to know a delivery is the last.
MAX_RECEIVE_COUNT = 5
# Deliveries of one transform job (a requested variant, a released asset's thumbnails)
# before it goes to the jobs queue's dead-letter queue; transform_media is told it
# (names.ENV_JOBS_MAX_RECEIVE_COUNT) as process_upload is told its own. Fewer than
# uploads: a job that fails three times (each up to a minute of a vCPU) fails for its
# input, not by chance.
JOBS_MAX_RECEIVE_COUNT = 3
# Attempts of one webhook delivery (a POST to one URL) before it goes to the webhook
# queue's dead-letter queue; deliver_webhooks is told it (names.ENV_WEBHOOK_MAX_RECEIVE_COUNT)
# to know an attempt is the last. Between attempts it backs off (ChangeMessageVisibility,
# at most SQS's 12 hours a time), so the attempts span about a day, as Standard Webhooks
# senders' schedules do: a receiver that is down for an afternoon still gets its events.
WEBHOOK_MAX_RECEIVE_COUNT = 8

# --- S3 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CorsRule:
    """The bucket's browser access; the origins are chosen per deployment."""

    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...]
    exposed_headers: tuple[str, ...]
    max_age_seconds: int


@dataclass(frozen=True)
class LifecycleRule:
    """One S3 lifecycle rule: an expiry, an abort of stale multipart uploads, or both."""

    rule_id: str
    prefix: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    expire_after_days: int | None = None
    abort_incomplete_multipart_after_days: int | None = None


@dataclass(frozen=True)
class NotificationFilter:
    """Which new objects are queued for processing."""

    events: tuple[str, ...]
    prefix: str


# Browsers PUT (presigned URL) or POST (presigned policy) uploads and GET variants; S3
# must expose ETag for multipart uploads, whose completion lists each part's ETag.
MEDIA_CORS = CorsRule(
    allowed_methods=("PUT", "POST", "GET", "HEAD"),
    allowed_headers=("*",),
    exposed_headers=("ETag",),
    max_age_seconds=3000,
)

MEDIA_LIFECYCLE: tuple[LifecycleRule, ...] = (
    LifecycleRule(
        rule_id="abort-incomplete-multipart-uploads",
        abort_incomplete_multipart_after_days=names.ABORT_INCOMPLETE_MULTIPART_DAYS,
    ),
    # Presign tags every upload pending; the tag goes when the asset is READY, so an
    # object still tagged a day later belongs to an asset that never became READY.
    LifecycleRule(
        rule_id="expire-abandoned-uploads",
        prefix=names.UPLOAD_PREFIX,
        tags=((names.PENDING_TAG_KEY, names.PENDING_TAG_VALUE),),
        expire_after_days=1,
    ),
)

# derived/ is deliberately not notified: writing a variant must not trigger processing.
UPLOAD_NOTIFICATION = NotificationFilter(events=("s3:ObjectCreated:*",), prefix=names.UPLOAD_PREFIX)

# --- DynamoDB -----------------------------------------------------------------------


@dataclass(frozen=True)
class SecondaryIndex:
    """A global secondary index on string keys, projecting every attribute."""

    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableDefinition:
    """An on-demand table keyed by one string attribute."""

    partition_key: str
    # None for a table whose items never expire.
    ttl_attribute: str | None
    sort_key: str | None = None
    indexes: tuple[SecondaryIndex, ...] = ()
    # DynamoDB's StreamViewType, or None for no stream.
    stream_view_type: str | None = None
    point_in_time_recovery: bool = False

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """Every attribute some key schema names (all strings), each once."""
        keys = [self.partition_key, *([self.sort_key] if self.sort_key else [])]
        for index in self.indexes:
            keys += [index.partition_key, index.sort_key]
        return tuple(dict.fromkeys(keys))


ASSET_TABLE = TableDefinition(
    partition_key=names.TABLE_PARTITION_KEY,
    ttl_attribute=names.TTL_ATTRIBUTE,
    indexes=(
        SecondaryIndex(
            names.OWNER_INDEX_NAME, names.OWNER_INDEX_PARTITION_KEY, names.OWNER_INDEX_SORT_KEY
        ),
        SecondaryIndex(
            names.STATUS_INDEX_NAME, names.STATUS_INDEX_PARTITION_KEY, names.STATUS_INDEX_SORT_KEY
        ),
        # The library's listings (docs/data-model.md): sparse, a purged record is in none.
        SecondaryIndex(names.SHELF_INDEX_NAME, names.SHELF_ATTRIBUTE, names.SHELF_INDEX_SORT_KEY),
        SecondaryIndex(names.SIZE_INDEX_NAME, names.SHELF_ATTRIBUTE, names.SIZE_INDEX_SORT_KEY),
        SecondaryIndex(names.NAME_INDEX_NAME, names.SHELF_ATTRIBUTE, names.NAME_INDEX_SORT_KEY),
        SecondaryIndex(
            names.FOLDER_INDEX_NAME, names.FOLDER_INDEX_PARTITION_KEY, names.SHELF_INDEX_SORT_KEY
        ),
        SecondaryIndex(
            names.TYPE_INDEX_NAME, names.TYPE_INDEX_PARTITION_KEY, names.SHELF_INDEX_SORT_KEY
        ),
        # The admin's list of quarantined assets, every user's: sparse, an asset is in it
        # only while it is QUARANTINED.
        SecondaryIndex(
            names.QUARANTINE_INDEX_NAME,
            names.QUARANTINE_INDEX_PARTITION_KEY,
            names.QUARANTINE_INDEX_SORT_KEY,
        ),
    ),
    # Every state change, before and after, for the consumers that publish and count.
    stream_view_type="NEW_AND_OLD_IMAGES",
    point_in_time_recovery=True,
)

# Powertools idempotency records: short-lived, so no backups and no stream.
IDEMPOTENCY_TABLE = TableDefinition(
    partition_key=names.IDEMPOTENCY_PARTITION_KEY,
    ttl_attribute=names.IDEMPOTENCY_TTL_ATTRIBUTE,
)

# Uppy upload sessions, keyed by their token's SHA-256: an hour at most, so no backups and
# no stream; TTL removes them once expired.
SESSION_TABLE = TableDefinition(
    partition_key=names.SESSION_TABLE_PARTITION_KEY,
    ttl_attribute=names.SESSION_TTL_ATTRIBUTE,
)

# Per-user storage usage: one row per dimension ("total", "type#image", "scope#GENERIC",
# "folder#trips"), changed only in the transactions that change the assets it counts.
# Backed up like the asset table: the counts can be recomputed from it (reconcile), but
# not the warning times. Streamed: a total row's warning level going up is the "Storage
# Warning" event (publish_events, docs/events.md).
USAGE_TABLE = TableDefinition(
    partition_key=names.USAGE_PARTITION_KEY,
    sort_key=names.USAGE_SORT_KEY,
    ttl_attribute=None,
    stream_view_type="NEW_AND_OLD_IMAGES",
    point_in_time_recovery=True,
)

# Library folders: one record per user and path ("trips", "trips/2026"), holding the
# READY assets directly in it (assetCount, bytes), changed only in the transactions that
# move assets in and out. Backed up like the assets it counts.
FOLDER_TABLE = TableDefinition(
    partition_key=names.FOLDER_TABLE_PARTITION_KEY,
    sort_key=names.FOLDER_TABLE_SORT_KEY,
    ttl_attribute=None,
    point_in_time_recovery=True,
)

# Attachments: one partition per host-app thing ("post#123") holding a record per attached
# asset and the entity's own (its owner, attachmentCount), changed only in the
# transactions that change the assets' usageCount. byAsset finds an asset's attachments
# (a delete names them, or removes them with ?detach=true). Backed up like the assets.
ATTACHMENT_TABLE = TableDefinition(
    partition_key=names.ATTACHMENT_TABLE_PARTITION_KEY,
    sort_key=names.ATTACHMENT_TABLE_SORT_KEY,
    ttl_attribute=None,
    indexes=(
        SecondaryIndex(
            names.ATTACHMENT_ASSET_INDEX_NAME,
            names.ATTACHMENT_ASSET_INDEX_PARTITION_KEY,
            names.ATTACHMENT_ASSET_INDEX_SORT_KEY,
        ),
    ),
    point_in_time_recovery=True,
)
