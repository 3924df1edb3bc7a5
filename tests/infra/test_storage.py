"""The media bucket and the asset table are private, durable and tidy themselves."""

from __future__ import annotations

from aws_cdk.assertions import Match

from infra.constants import DEFAULT_ALLOWED_ORIGINS
from tests.infra.conftest import Synth


def media_bucket(synth: Synth) -> tuple[str, dict]:
    (bucket_id,) = (
        key
        for key, bucket in synth.resources_of_type("AWS::S3::Bucket").items()
        if "CorsConfiguration" in bucket["Properties"]
    )
    return bucket_id, synth.resources[bucket_id]


def test_every_bucket_blocks_public_access_and_is_encrypted(synth: Synth) -> None:
    buckets = synth.resources_of_type("AWS::S3::Bucket")
    assert len(buckets) == 3  # media, its access logs, the CDN's standard logs
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_every_bucket_refuses_requests_without_tls(synth: Synth) -> None:
    for bucket_id in synth.resources_of_type("AWS::S3::Bucket"):
        synth.template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": bucket_id},
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


def test_browsers_on_the_configured_origins_can_upload_directly(synth: Synth) -> None:
    _, bucket = media_bucket(synth)
    (rule,) = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == list(DEFAULT_ALLOWED_ORIGINS)
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST", "PUT"]
    assert rule["AllowedHeaders"] == ["*"]
    assert rule["ExposedHeaders"] == ["ETag"]


def test_allowed_origins_come_from_context(tmp_path) -> None:
    from tests.infra.conftest import synthesize

    custom = synthesize(tmp_path, allowedOrigins="https://app.example.com")
    _, bucket = media_bucket(custom)
    assert bucket["Properties"]["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"] == [
        "https://app.example.com"
    ]
    custom.template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"CorsConfiguration": Match.object_like({"AllowOrigins": ["https://app.example.com"]})},
    )


def test_incomplete_multipart_uploads_are_aborted_after_a_day(synth: Synth) -> None:
    _, bucket = media_bucket(synth)
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {"DaysAfterInitiation": 1} in [r.get("AbortIncompleteMultipartUpload") for r in rules]


def test_uploads_still_tagged_pending_expire_after_a_day(synth: Synth) -> None:
    _, bucket = media_bucket(synth)
    (rule,) = (
        r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"] if "TagFilters" in r
    )
    assert rule["Prefix"] == "media/"
    assert rule["TagFilters"] == [{"Key": "mediaport-upload", "Value": "pending"}]
    assert rule["ExpirationInDays"] == 1
    assert rule["Status"] == "Enabled"


def test_media_bucket_writes_server_access_logs(synth: Synth) -> None:
    _, bucket = media_bucket(synth)
    assert "DestinationBucketName" in bucket["Properties"]["LoggingConfiguration"]


def _index(name: str, partition: str, sort: str) -> dict[str, object]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": partition, "KeyType": "HASH"},
            {"AttributeName": sort, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def test_the_asset_table_is_keyed_by_asset_and_listable_by_owner_status_library_quarantine(
    synth: Synth,
) -> None:
    table = synth.resource_of(synth.storage.table)["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "assetId", "KeyType": "HASH"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert sorted(table["GlobalSecondaryIndexes"], key=lambda i: i["IndexName"]) == [
        _index("byFolder", "folderShelf", "createdAt"),
        _index("byOwner", "userId", "createdAt"),
        _index("byOwnerStatus", "userId", "statusCreatedAt"),
        # The admin's quarantine list: sparse, every user's QUARANTINED assets.
        _index("byQuarantine", "quarantine", "createdAt"),
        # The library: a shelf is the owner's library ("{userId}") or trash.
        _index("byShelf", "shelf", "createdAt"),
        _index("byShelfName", "shelf", "nameKey"),
        _index("byShelfSize", "shelf", "sizeKey"),
        _index("byType", "typeShelf", "createdAt"),
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "assetId": "S",
        "userId": "S",
        "createdAt": "S",
        "statusCreatedAt": "S",
        "shelf": "S",
        "sizeKey": "S",
        "nameKey": "S",
        "folderShelf": "S",
        "typeShelf": "S",
        "quarantine": "S",
    }


def test_folders_are_records_keyed_by_owner_and_path(synth: Synth) -> None:
    table = synth.resource_of(synth.storage.folder_table)["Properties"]
    assert table["KeySchema"] == [
        {"AttributeName": "userId", "KeyType": "HASH"},
        {"AttributeName": "path", "KeyType": "RANGE"},
    ]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_attachments_are_kept_per_entity_and_found_per_asset(synth: Synth) -> None:
    table = synth.resource_of(synth.storage.attachment_table)["Properties"]
    assert table["KeySchema"] == [
        {"AttributeName": "entity", "KeyType": "HASH"},
        {"AttributeName": "member", "KeyType": "RANGE"},
    ]
    assert table["GlobalSecondaryIndexes"] == [_index("byAsset", "assetId", "entity")]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "TimeToLiveSpecification" not in table
    assert "StreamSpecification" not in table


def test_every_asset_change_is_streamed_with_old_and_new_images(synth: Synth) -> None:
    table = synth.resource_of(synth.storage.table)["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_pending_assets_expire_by_ttl_and_the_table_is_recoverable(synth: Synth) -> None:
    table = synth.resource_of(synth.storage.table)["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_idempotency_records_are_keyed_by_id_and_expire_by_ttl(synth: Synth) -> None:
    table = synth.resource_of(synth.storage.idempotency_table)
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert "GlobalSecondaryIndexes" not in props
    assert "StreamSpecification" not in props
    # Short-lived request keys, no user data: deleted with the stack whatever the policy.
    assert table["DeletionPolicy"] == "Delete"


def test_user_data_is_retained_on_stack_deletion_by_default(synth: Synth) -> None:
    idempotency = synth.logical_id(synth.storage.idempotency_table)
    for resource_type in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Cognito::UserPool"):
        for key, resource in synth.resources_of_type(resource_type).items():
            if key != idempotency:
                assert resource["DeletionPolicy"] == "Retain", resource_type


def test_removal_policy_destroy_deletes_data_with_the_stack(external_idp_synth: Synth) -> None:
    for resource_type in ("AWS::DynamoDB::Table", "AWS::S3::Bucket"):
        for resource in external_idp_synth.resources_of_type(resource_type).values():
            assert resource["DeletionPolicy"] == "Delete", resource_type
    # A bucket only deletes when empty: CDK's auto-delete custom resource empties it.
    assert external_idp_synth.resources_of_type("Custom::S3AutoDeleteObjects")
