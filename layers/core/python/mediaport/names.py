"""Names the CDK stack and the domain must agree on, written once.

``infra`` reads this module at synth time and ``mediaport`` at run time; it imports
nothing, so synth pulls in no runtime dependency.
"""

from __future__ import annotations

# --- S3 -------------------------------------------------------------------------------
# Only UPLOAD_PREFIX notifies; variants go under DERIVED_PREFIX so that writing one never
# triggers processing again.
UPLOAD_PREFIX = "media/"
DERIVED_PREFIX = "derived/"

# Presign signs every upload with this object tag; it is cleared just before the asset
# becomes READY, so a lifecycle rule expires uploads whose asset never did.
PENDING_TAG_KEY = "mediaport-upload"
PENDING_TAG_VALUE = "pending"

# Where an admin's release copies a quarantined original: outside UPLOAD_PREFIX, so the
# bucket policy that denies reading unscanned or infected bytes there does not apply, no
# event is sent and GuardDuty does not scan it again (docs/scanning.md).
RELEASED_PREFIX = "released/"

# GuardDuty Malware Protection for S3 tags each scanned object with this key; the bucket
# policy serves media/ only when it says NO_THREATS_FOUND (and, with the scan-error policy
# "serve", when the scan could not be done).
SCAN_TAG_KEY = "GuardDutyMalwareScanStatus"
SCAN_CLEAN_TAG_VALUE = "NO_THREATS_FOUND"
SCAN_INFECTED_TAG_VALUE = "THREATS_FOUND"
SCAN_ERROR_TAG_VALUES = ("UNSUPPORTED", "ACCESS_DENIED", "FAILED")

# A lifecycle rule aborts multipart uploads not completed within this many days of their
# start; the multipart routes tell clients so (their upload's expiresAt).
ABORT_INCOMPLETE_MULTIPART_DAYS = 1

# --- DynamoDB: the asset table ----------------------------------------------------------
TABLE_PARTITION_KEY = "assetId"
TTL_ATTRIBUTE = "expiresAt"
# A user's assets by creation time.
OWNER_INDEX_NAME = "byOwner"
OWNER_INDEX_PARTITION_KEY = "userId"
OWNER_INDEX_SORT_KEY = "createdAt"
# A user's assets in one status, by creation time: the sort key is "{status}#{createdAt}".
STATUS_INDEX_NAME = "byOwnerStatus"
STATUS_INDEX_PARTITION_KEY = "userId"
STATUS_INDEX_SORT_KEY = "statusCreatedAt"

# The library's indexes. A listed asset is on a "shelf": its owner's library ("{userId}")
# or trash ("{userId}|trash"); a purged record is on none, so no listing finds it.
SHELF_ATTRIBUTE = "shelf"
# The shelf, newest first (the default listing, and the trash).
SHELF_INDEX_NAME = "byShelf"
SHELF_INDEX_SORT_KEY = "createdAt"
# The shelf by size: "{size, 15 digits}|{createdAt}".
SIZE_INDEX_NAME = "byShelfSize"
SIZE_INDEX_SORT_KEY = "sizeKey"
# The shelf by filename: "{filename, case-folded}|{createdAt}".
NAME_INDEX_NAME = "byShelfName"
NAME_INDEX_SORT_KEY = "nameKey"
# One folder of a shelf ("{shelf}|{folder}", "{shelf}|/" for no folder), newest first.
FOLDER_INDEX_NAME = "byFolder"
FOLDER_INDEX_PARTITION_KEY = "folderShelf"
# One type category of a shelf ("{shelf}|{category}"), newest first.
TYPE_INDEX_NAME = "byType"
TYPE_INDEX_PARTITION_KEY = "typeShelf"
# Every quarantined asset, of every user, newest first (the admin's list): sparse, the
# attribute is set ("QUARANTINED") only while the asset is.
QUARANTINE_INDEX_NAME = "byQuarantine"
QUARANTINE_INDEX_PARTITION_KEY = "quarantine"
QUARANTINE_INDEX_SORT_KEY = "createdAt"
QUARANTINED = "QUARANTINED"

# --- DynamoDB: the usage table (one row per user and dimension) --------------------------
USAGE_PARTITION_KEY = "userId"
USAGE_SORT_KEY = "dimension"

# --- DynamoDB: the folder table (one record per user and folder path) ---------------------
FOLDER_TABLE_PARTITION_KEY = "userId"
FOLDER_TABLE_SORT_KEY = "path"

# --- DynamoDB: the attachment table (which asset is attached to which host-app thing) ----
# Partition: one entity, "{entityType}#{entityId}" ("post#123"). In it, one record per
# attached asset (sort key: its assetId) and the entity's own record (sort key "#entity":
# its owner and attachmentCount).
ATTACHMENT_TABLE_PARTITION_KEY = "entity"
ATTACHMENT_TABLE_SORT_KEY = "member"
# An asset's attachments (attachment records only: an entity record has no assetId).
ATTACHMENT_ASSET_INDEX_NAME = "byAsset"
ATTACHMENT_ASSET_INDEX_PARTITION_KEY = "assetId"
ATTACHMENT_ASSET_INDEX_SORT_KEY = "entity"

# --- DynamoDB: the idempotency table (Powertools' default key and TTL attribute names) ---
IDEMPOTENCY_PARTITION_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"

# --- DynamoDB: the upload-session table (Uppy's capability URLs) ------------------------
# Keyed by the SHA-256 of a session's token (never the token); TTL ends it for good.
SESSION_TABLE_PARTITION_KEY = "sessionId"
SESSION_TTL_ATTRIBUTE = "expiresAt"

# --- Function environment: the variables the stack sets and the settings read ----------
ENV_TABLE_NAME = "MEDIAPORT_TABLE_NAME"
ENV_BUCKET_NAME = "MEDIAPORT_BUCKET_NAME"
ENV_IDEMPOTENCY_TABLE_NAME = "MEDIAPORT_IDEMPOTENCY_TABLE_NAME"
ENV_USAGE_TABLE_NAME = "MEDIAPORT_USAGE_TABLE_NAME"
ENV_FOLDER_TABLE_NAME = "MEDIAPORT_FOLDER_TABLE_NAME"
# media (delete's detach) and attachments only: the attachment table.
ENV_ATTACHMENT_TABLE_NAME = "MEDIAPORT_ATTACHMENT_TABLE_NAME"
# reconcile_usage: whether it corrects the drift it finds (the stack's reconcileFix).
ENV_RECONCILE_FIX = "MEDIAPORT_RECONCILE_FIX"
# uppy only: the upload-session table.
ENV_SESSION_TABLE_NAME = "MEDIAPORT_SESSION_TABLE_NAME"
# transforms and admin: the jobs queue that feeds transform_media (requested variants, and
# the variants of a released asset).
ENV_JOBS_QUEUE_URL = "MEDIAPORT_JOBS_QUEUE_URL"
# Malware scanning: off, guardduty or local; and what a scan that could not be done means
# (block: quarantined until an admin releases it; serve: served as if clean).
ENV_SCAN = "MEDIAPORT_SCAN"
ENV_SCAN_ERROR_POLICY = "MEDIAPORT_SCAN_ERROR_POLICY"
# transform_media: the jobs queue's maxReceiveCount (a name of its own: locally every
# function shares one environment, and the two queues differ).
ENV_JOBS_MAX_RECEIVE_COUNT = "MEDIAPORT_JOBS_MAX_RECEIVE_COUNT"
# process_upload: the upload queue's maxReceiveCount, so it knows a delivery is the last.
ENV_MAX_RECEIVE_COUNT = "MEDIAPORT_MAX_RECEIVE_COUNT"

# --- Events for the host app (issue #13) -------------------------------------------------
# The custom EventBridge bus every asset state change is published on, and the source
# its events carry.
EVENT_BUS_NAME = "mediaport"
EVENT_SOURCE = "mediaport"
# publish_events: the bus (its name) and the webhook queue it hands each event to, once
# per configured URL.
ENV_EVENT_BUS_NAME = "MEDIAPORT_EVENT_BUS_NAME"
ENV_WEBHOOK_QUEUE_URL = "MEDIAPORT_WEBHOOK_QUEUE_URL"
# publish_events and deliver_webhooks: where webhooks go (one URL, or several separated by
# commas), and the Standard Webhooks secret ("whsec_" + base64): locally as the value, on
# AWS as the ARN of the Secrets Manager secret holding it.
ENV_WEBHOOK_URL = "MEDIAPORT_WEBHOOK_URL"
ENV_WEBHOOK_SECRET = "MEDIAPORT_WEBHOOK_SECRET"  # noqa: S105 (a variable name)
ENV_WEBHOOK_SECRET_ARN = "MEDIAPORT_WEBHOOK_SECRET_ARN"  # noqa: S105 (a variable name)
# deliver_webhooks: the webhook queue's maxReceiveCount (its last delivery is known).
ENV_WEBHOOK_MAX_RECEIVE_COUNT = "MEDIAPORT_WEBHOOK_MAX_RECEIVE_COUNT"

# --- Serving through a CDN (issue #13) -------------------------------------------------------
# Every function that renders an asset: the CDN's base URL (CloudFront's domain on AWS,
# the local gateway's /cdn locally) that public assets' cdnUrl starts with (the existing
# setting MEDIAPORT_PUBLIC_BASE_URL), and, where a delete, quarantine or purge must stop a
# public original from serving, the distribution to invalidate.
ENV_PUBLIC_BASE_URL = "MEDIAPORT_PUBLIC_BASE_URL"
ENV_CDN_DISTRIBUTION_ID = "MEDIAPORT_CDN_DISTRIBUTION_ID"
# The object tag that lets CloudFront read an object (the bucket policy's only allow for
# the distribution): set on a public asset's original and variants while it is served
# (at settle, on every variant written, on a release's copy, at restore), removed when it
# stops (a delete to the trash). Without it, CloudFront gets 403: a private asset's files,
# a trashed one's, anything not settled.
CDN_TAG_KEY = "mediaport-cdn"
CDN_TAG_VALUE = "public"
# How long what the CDN serves may be cached. A variant's key names the bytes it was made
# from, so its content never changes: a year, immutable (written on the object). An
# original's key is stable while what it serves may stop (a delete, a quarantine):
# browsers keep it five minutes, then revalidate; the edges longer, since a delete,
# quarantine or purge invalidates them (the distribution adds this header to originals,
# which carry none of their own; the local /cdn stand-in does the same).
VARIANT_CACHE_CONTROL = "public, max-age=31536000, immutable"
ORIGINAL_CACHE_CONTROL = "public, max-age=300"
# Where CloudFront writes its standard logs (count_bandwidth reads them).
CDN_LOG_PREFIX = "cdn-logs/"

# --- Identity ----------------------------------------------------------------------------
# The JWT claim that lists a user's groups (Cognito's), and the group admin routes need.
GROUPS_CLAIM = "cognito:groups"
ADMIN_GROUP = "admin"
