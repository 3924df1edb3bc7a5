"""Least privilege: each function gets exactly the actions it calls, on exactly what it
calls them on: one key prefix at a time, named indexes, no wildcards."""

from __future__ import annotations

from typing import Any

from infra.routes import EVENT_FUNCTIONS, api_functions
from tests.infra.conftest import Synth

# Every Mediaport function of the default stack (pre_token exists only with tierTrigger).
FUNCTIONS = (*api_functions(), *EVENT_FUNCTIONS)

# The only actions AWS allows solely on Resource "*" that our roles use.
RESOURCE_STAR_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def allow_statements(synth: Synth) -> list[dict]:
    """Allow statements of every identity and resource policy in the template."""
    statements = []
    for resource_type in (
        "AWS::IAM::Policy",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
    ):
        for policy in synth.resources_of_type(resource_type).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    statements.append(statement)
    for role in synth.resources_of_type("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements.extend(policy["PolicyDocument"]["Statement"])
    return statements


def policy_of(synth: Synth, function: str) -> list[dict]:
    """The statements of ``function``'s role policy."""
    (policy,) = (
        p["Properties"]["PolicyDocument"]["Statement"]
        for key, p in synth.resources_of_type("AWS::IAM::Policy").items()
        if key.startswith(f"{function.replace('_', '')}Role")
    )
    return policy


def resource_names(synth: Synth) -> dict[str, str]:
    """{logical id: a readable name} for the resources grants point at."""
    storage = synth.storage
    events = synth.events
    named = {
        synth.logical_id(storage.table): "assets",
        synth.logical_id(storage.idempotency_table): "idempotency",
        synth.logical_id(storage.session_table): "sessions",
        synth.logical_id(storage.usage_table): "usage",
        synth.logical_id(storage.folder_table): "folders",
        synth.logical_id(storage.attachment_table): "attachments",
        synth.logical_id(storage.bucket): "bucket",
        synth.logical_id(synth.jobs.queue): "jobs",
        synth.logical_id(events.bus): "bus",
        synth.logical_id(events.webhook_queue): "webhooks",
        synth.logical_id(events.failed_records): "failed-records",
        synth.logical_id(events.webhook_secret): "webhook-secret",
    }
    if synth.cdn is not None:
        named[synth.logical_id(synth.cdn.log_bucket)] = "cdn-logs"
        named[synth.logical_id(synth.cdn.log_queue)] = "log-files"
    return named


def describe_resource(synth: Synth, resource: Any) -> str:
    """'assets', 'assets/index/byOwner', 'bucket/media/*', 'bucket', '*', or the raw value."""
    named = resource_names(synth)
    if isinstance(resource, str):
        return resource
    if "Ref" in resource:
        return named.get(resource["Ref"], str(resource))
    if "Fn::GetAtt" in resource:
        return named.get(resource["Fn::GetAtt"][0], str(resource))
    if "Fn::Join" in resource:
        head, *rest = resource["Fn::Join"][1]
        if (
            isinstance(head, dict)
            and "Fn::GetAtt" in head
            and all(isinstance(part, str) for part in rest)
        ):
            return named.get(head["Fn::GetAtt"][0], str(head)) + "".join(rest)
    return str(resource)


def grants(synth: Synth, function: str, service: str) -> dict[str, set[str]]:
    """{resource name: actions} that ``function``'s role allows for one service."""
    found: dict[str, set[str]] = {}
    for statement in policy_of(synth, function):
        actions = {a for a in as_list(statement["Action"]) if a.startswith(f"{service}:")}
        for resource in as_list(statement["Resource"]) if actions else []:
            found.setdefault(describe_resource(synth, resource), set()).update(actions)
    return found


def list_bucket_conditions(synth: Synth, function: str) -> list[Any]:
    return [
        statement.get("Condition")
        for statement in policy_of(synth, function)
        if "s3:ListBucket" in as_list(statement["Action"])
    ]


def test_no_statement_allows_a_wildcard_action(synth: Synth) -> None:
    for statement in allow_statements(synth):
        for action in as_list(statement["Action"]):
            assert action != "*"
            assert not action.endswith(":*"), action
            assert "*" not in action, action


def test_resource_star_is_granted_only_for_actions_that_take_no_resource(synth: Synth) -> None:
    # ListStreams (the stream event source's) names no table, so it cannot be narrowed.
    allowed = RESOURCE_STAR_ACTIONS | {"dynamodb:ListStreams"}
    for statement in allow_statements(synth):
        if "*" in as_list(statement.get("Resource", [])):
            assert set(as_list(statement["Action"])) <= allowed, statement
    stream_readers = {
        function
        for function in FUNCTIONS
        if "dynamodb:ListStreams" in grants(synth, function, "dynamodb").get("*", set())
    }
    assert stream_readers == {"expire_assets", "publish_events"}


def test_health_can_only_write_logs_and_traces(synth: Synth) -> None:
    actions = {a for s in policy_of(synth, "health") for a in as_list(s["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"} | RESOURCE_STAR_ACTIONS


def test_presign_can_only_put_pending_uploads_under_media(synth: Synth) -> None:
    assert grants(synth, "presign", "s3") == {
        "bucket/media/*": {"s3:PutObject", "s3:PutObjectTagging"}
    }


def test_presign_creates_assets_and_keeps_idempotency_records(synth: Synth) -> None:
    assert grants(synth, "presign", "dynamodb") == {
        "assets": {"dynamodb:PutItem"},
        # The early quota check reads the caller's usage; presign changes no state.
        "usage": {"dynamodb:Query"},
        # An upload into a missing folder creates it with the asset.
        "folders": {"dynamodb:UpdateItem"},
        # What Powertools' DynamoDBPersistenceLayer calls.
        "idempotency": {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
    }


def test_media_reads_originals_and_variants_and_deletes_only_originals(synth: Synth) -> None:
    assert grants(synth, "media", "s3") == {
        # PutObjectTagging: the pending tag goes back if the READY write fails;
        # GetObjectTagging: with scanning on, the scan's tag is kept when it goes.
        "bucket/media/*": {
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:GetObjectTagging",
            "s3:DeleteObjectTagging",
            "s3:PutObjectTagging",
        },
        # An original an admin released: signed, and deleted with its asset.
        # A delete takes the CDN tag off, a restore puts it back (docs/serving.md).
        "bucket/released/*": {
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:GetObjectTagging",
            "s3:PutObjectTagging",
            "s3:DeleteObjectTagging",
        },
        "bucket/derived/*": {
            "s3:GetObject",
            "s3:GetObjectTagging",
            "s3:PutObjectTagging",
            "s3:DeleteObjectTagging",
        },
        "bucket": {"s3:ListBucket"},
    }


def test_media_reads_and_updates_assets_and_queries_only_the_listing_indexes(
    synth: Synth,
) -> None:
    assert grants(synth, "media", "dynamodb") == {
        "assets": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        **{
            f"assets/index/{index}": {"dynamodb:Query"}
            for index in (
                "byOwnerStatus",
                "byShelf",
                "byShelfSize",
                "byShelfName",
                "byFolder",
                "byType",
            )
        },
        # Usage and folder counts change in the same transaction as the state they count.
        "usage": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "folders": {"dynamodb:UpdateItem"},
        # A delete names an asset's attachments, or removes them in its own transaction.
        "attachments/index/byAsset": {"dynamodb:Query"},
        "attachments": {"dynamodb:DeleteItem", "dynamodb:UpdateItem"},
    }


def test_attachments_attaches_in_one_transaction_and_only_reads_what_it_shows(
    synth: Synth,
) -> None:
    assert grants(synth, "attachments", "dynamodb") == {
        # The asset's usageCount changes with the attachment; a feed reads its assets in
        # one BatchGetItem.
        "assets": {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"},
        "attachments": {
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
    }
    # Short-lived GET URLs of originals (uploaded or released) and variants: it writes
    # no object.
    assert grants(synth, "attachments", "s3") == {
        "bucket/media/*": {"s3:GetObject"},
        "bucket/released/*": {"s3:GetObject"},
        "bucket/derived/*": {"s3:GetObject"},
    }


def test_only_media_and_attachments_reach_the_attachment_table(synth: Synth) -> None:
    for function in ("presign", "multipart", "uppy", "direct_upload", "process_upload"):
        reached = grants(synth, function, "dynamodb")
        assert not any(name.startswith("attachments") for name in reached), function


def test_folders_keeps_folder_records_and_moves_assets_as_an_edit_does(synth: Synth) -> None:
    assert grants(synth, "folders", "dynamodb") == {
        "folders": {
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
        "assets": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "assets/index/byFolder": {"dynamodb:Query"},
        "usage": {"dynamodb:UpdateItem"},
    }
    assert grants(synth, "folders", "s3") == {}


def test_process_upload_reads_uploads_and_writes_only_variants(synth: Synth) -> None:
    assert grants(synth, "process_upload", "s3") == {
        "bucket/media/*": {
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:GetObjectTagging",
            "s3:DeleteObjectTagging",
            "s3:PutObjectTagging",
        },
        # A public asset's variants are written with the CDN tag.
        "bucket/derived/*": {"s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"},
        "bucket": {"s3:ListBucket"},
    }


def test_process_upload_reads_and_updates_assets_only(synth: Synth) -> None:
    assert grants(synth, "process_upload", "dynamodb") == {
        "assets": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        # Usage and folder counts change in the same transaction as the state they count.
        "usage": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "folders": {"dynamodb:UpdateItem"},
    }


def test_expire_assets_only_deletes_the_files_of_expired_records(synth: Synth) -> None:
    assert grants(synth, "expire_assets", "s3") == {
        # An expiring PENDING record's multipart upload is aborted with it.
        "bucket/media/*": {"s3:DeleteObject", "s3:AbortMultipartUpload"},
        # A purged asset's original may be one an admin released.
        "bucket/released/*": {"s3:DeleteObject"},
        "bucket/derived/*": {"s3:DeleteObject"},
        "bucket": {"s3:ListBucket"},
    }
    # The stream record carries the old image: it reads the stream, never the items; it
    # writes a purged asset's tombstone (only if absent).
    assert grants(synth, "expire_assets", "dynamodb") == {
        "assets": {
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:PutItem",
        },
        "*": {"dynamodb:ListStreams"},
    }
    (stream_statement,) = [
        s for s in policy_of(synth, "expire_assets") if "dynamodb:GetRecords" in s["Action"]
    ]
    assert stream_statement["Resource"]["Fn::GetAtt"][1] == "StreamArn"


def test_multipart_works_on_uploads_under_media_only(synth: Synth) -> None:
    assert grants(synth, "multipart", "s3") == {
        # PutObject: start the upload and sign its parts (a URL acts with its signer's
        # permissions); the rest: list, abort, verify, reject.
        "bucket/media/*": {
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:GetObjectTagging",
            "s3:DeleteObjectTagging",
        },
        "bucket": {"s3:ListBucket"},
    }
    assert grants(synth, "multipart", "dynamodb") == {
        "assets": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
        # Usage and folder counts change in the same transaction as the state they count.
        "usage": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "folders": {"dynamodb:UpdateItem"},
        # Initiate takes an Idempotency-Key, as presign does.
        "idempotency": {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
    }
    assert list_bucket_conditions(synth, "multipart") == [
        {"StringLike": {"s3:prefix": ["media/*"]}}
    ]


def test_direct_upload_writes_and_verifies_uploads_under_media_only(synth: Synth) -> None:
    assert grants(synth, "direct_upload", "s3") == {
        # PutObject (tagged pending: PutObjectTagging) the bytes the request carried; then
        # verify as confirm does: read, untag (keeping the scan's tag, which it reads),
        # delete when rejected, retag if READY fails.
        "bucket/media/*": {
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:GetObjectTagging",
            "s3:DeleteObjectTagging",
        },
        "bucket": {"s3:ListBucket"},
    }
    assert grants(synth, "direct_upload", "dynamodb") == {
        "assets": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
        # Usage and folder counts change in the same transaction as the state they count.
        "usage": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "folders": {"dynamodb:UpdateItem"},
    }
    assert list_bucket_conditions(synth, "direct_upload") == [
        {"StringLike": {"s3:prefix": ["media/*"]}}
    ]


def test_uppy_keeps_sessions_and_works_on_uploads_under_media_only(synth: Synth) -> None:
    assert grants(synth, "uppy", "s3") == {
        # PutObject: sign the POST policy and the parts (a URL acts with its signer's
        # permissions), start the upload; the rest: list, abort, verify, reject.
        "bucket/media/*": {
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:GetObjectTagging",
            "s3:DeleteObjectTagging",
        },
        "bucket": {"s3:ListBucket"},
    }
    assert grants(synth, "uppy", "dynamodb") == {
        "sessions": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
        "assets": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
        # Usage and folder counts change in the same transaction as the state they count.
        "usage": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "folders": {"dynamodb:UpdateItem"},
    }
    assert list_bucket_conditions(synth, "uppy") == [{"StringLike": {"s3:prefix": ["media/*"]}}]


def test_only_uppy_reaches_the_session_table(synth: Synth) -> None:
    for function in ("health", "presign", "media", "multipart", "process_upload", "expire_assets"):
        assert "sessions" not in grants(synth, function, "dynamodb"), function


def test_usage_only_reads_the_usage_table(synth: Synth) -> None:
    # Its rows (one Query) and this month's bandwidth row (GetItem).
    assert grants(synth, "usage", "dynamodb") == {"usage": {"dynamodb:Query", "dynamodb:GetItem"}}
    assert grants(synth, "usage", "s3") == {}


def test_health_touches_no_data(synth: Synth) -> None:
    assert grants(synth, "health", "s3") == {}
    assert grants(synth, "health", "dynamodb") == {}


def test_list_bucket_is_conditioned_on_the_prefixes_each_function_reads(synth: Synth) -> None:
    assert list_bucket_conditions(synth, "media") == [
        {"StringLike": {"s3:prefix": ["media/*", "derived/*"]}}
    ]
    # process_upload lists derived/ to delete every variant of an asset it rejects.
    assert list_bucket_conditions(synth, "process_upload") == [
        {"StringLike": {"s3:prefix": ["media/*", "derived/*"]}}
    ]
    assert list_bucket_conditions(synth, "expire_assets") == [
        {"StringLike": {"s3:prefix": ["derived/*"]}}
    ]
    for function in ("health", "presign"):
        assert list_bucket_conditions(synth, function) == [], function


def test_no_role_reaches_every_index_of_a_table(synth: Synth) -> None:
    for function in (
        "health",
        "presign",
        "media",
        "attachments",
        "process_upload",
        "expire_assets",
        "transforms",
        "transform_media",
        "scan_result",
        "admin",
    ):
        for resource in grants(synth, function, "dynamodb"):
            assert not resource.endswith("/index/*"), (function, resource)


def test_only_the_queue_workers_consume_a_queue(synth: Synth) -> None:
    workers = ("process_upload", "transform_media", "deliver_webhooks", "count_bandwidth")
    for function in FUNCTIONS:
        sqs = {a for s in policy_of(synth, function) for a in as_list(s["Action"]) if "sqs:" in a}
        assert ("sqs:ReceiveMessage" in sqs) == (function in workers), function


def test_only_transforms_admin_and_scan_result_send_jobs(synth: Synth) -> None:
    senders = {
        function
        for function in FUNCTIONS
        if "sqs:SendMessage" in grants(synth, function, "sqs").get("jobs", set())
    }
    assert senders == {"transforms", "admin", "scan_result"}
    for function in senders:
        assert grants(synth, function, "sqs") == {"jobs": {"sqs:SendMessage"}}, function


def test_reconcile_usage_reads_assets_and_corrects_only_usage_rows(synth: Synth) -> None:
    usage = synth.logical_id(synth.storage.usage_table)
    found = {
        ("usage" if usage in resource else resource): actions
        for resource, actions in grants(synth, "reconcile_usage", "dynamodb").items()
    }
    assert found == {
        # One scan for the owners of counted assets; a user's assets by status.
        "assets": {"dynamodb:Scan"},
        "assets/index/byOwnerStatus": {"dynamodb:Query"},
        # A user's rows, the users with a total row, the conditional correction.
        "usage": {"dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"},
    }
    assert grants(synth, "reconcile_usage", "s3") == {}
