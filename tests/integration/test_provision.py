"""The local stack provisions what the CDK stack deploys: the same bucket rules, the same
tables. Each test reads the synthesized template and what ``provision()`` created in
moto, and compares the two."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.events import HostEvents
from infra.local.config import WEBHOOK_DEAD_LETTER_QUEUE_NAME, WEBHOOK_QUEUE_NAME, LocalConfig
from infra.local.provision import provision
from mediaport import names
from tests.infra.conftest import Synth, synthesize
from tests.infra.test_processing import media_notifications

CONFIG = LocalConfig()


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture
def local() -> Iterator[dict[str, Any]]:
    """Provisioned in-process moto: its S3 and DynamoDB clients."""
    with mock_aws():
        provision(CONFIG)
        yield {
            "s3": boto3.client("s3", region_name=CONFIG.region),
            "dynamodb": boto3.client("dynamodb", region_name=CONFIG.region),
        }


# --- S3 ------------------------------------------------------------------------------


def template_lifecycle(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule, in one comparable shape."""
    return {
        "id": rule["Id"],
        "enabled": rule["Status"] == "Enabled",
        "prefix": rule.get("Prefix", ""),
        "tags": sorted((t["Key"], t["Value"]) for t in rule.get("TagFilters", [])),
        "expire_days": rule.get("ExpirationInDays"),
        "abort_days": rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
    }


def s3_lifecycle(rule: dict[str, Any]) -> dict[str, Any]:
    """An S3 API lifecycle rule, in the same shape."""
    rule_filter = rule.get("Filter", {})
    conjunction = rule_filter.get("And", {})
    tags = conjunction.get("Tags", []) + ([rule_filter["Tag"]] if "Tag" in rule_filter else [])
    return {
        "id": rule["ID"],
        "enabled": rule["Status"] == "Enabled",
        "prefix": conjunction.get("Prefix", rule_filter.get("Prefix", rule.get("Prefix", ""))),
        "tags": sorted((t["Key"], t["Value"]) for t in tags),
        "expire_days": rule.get("Expiration", {}).get("Days"),
        "abort_days": rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
    }


def test_the_local_bucket_has_the_deployed_lifecycle_rules(
    synth: Synth, local: dict[str, Any]
) -> None:
    deployed = synth.resource_of(synth.storage.bucket)["Properties"]["LifecycleConfiguration"]
    provisioned = local["s3"].get_bucket_lifecycle_configuration(Bucket=CONFIG.bucket_name)
    expected = sorted((template_lifecycle(r) for r in deployed["Rules"]), key=lambda r: r["id"])
    assert sorted((s3_lifecycle(r) for r in provisioned["Rules"]), key=lambda r: r["id"]) == (
        expected
    )
    # The rules that matter, so that two empty configurations cannot pass.
    assert {"abort-incomplete-multipart-uploads", "expire-abandoned-uploads"} <= {
        r["id"] for r in expected
    }


def test_the_local_bucket_has_the_deployed_cors_rule_for_its_own_origins(
    synth: Synth, local: dict[str, Any]
) -> None:
    (deployed,) = synth.resource_of(synth.storage.bucket)["Properties"]["CorsConfiguration"][
        "CorsRules"
    ]
    (provisioned,) = local["s3"].get_bucket_cors(Bucket=CONFIG.bucket_name)["CORSRules"]
    assert sorted(provisioned["AllowedMethods"]) == sorted(deployed["AllowedMethods"])
    assert provisioned["AllowedHeaders"] == deployed["AllowedHeaders"]
    assert provisioned["ExposeHeaders"] == deployed["ExposedHeaders"]
    assert provisioned["MaxAgeSeconds"] == deployed["MaxAge"]
    # Origins are per deployment: CDK context there, the demo page's origins here.
    assert provisioned["AllowedOrigins"] == list(CONFIG.origins)


def test_the_local_bucket_queues_the_same_new_objects(synth: Synth, local: dict[str, Any]) -> None:
    (deployed,) = media_notifications(synth)["QueueConfigurations"]
    provisioned = local["s3"].get_bucket_notification_configuration(Bucket=CONFIG.bucket_name)
    (queue,) = provisioned["QueueConfigurations"]
    assert queue["Events"] == deployed["Events"]
    assert queue["Filter"]["Key"]["FilterRules"] == deployed["Filter"]["Key"]["FilterRules"]


# --- DynamoDB ------------------------------------------------------------------------


def template_table(resource: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation table, in one comparable shape."""
    props = resource["Properties"]
    return {
        "keys": props["KeySchema"],
        "attributes": sorted(
            (a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]
        ),
        "indexes": sorted(
            (i["IndexName"], str(i["KeySchema"]), i["Projection"]["ProjectionType"])
            for i in props.get("GlobalSecondaryIndexes", [])
        ),
        "stream": props.get("StreamSpecification", {}).get("StreamViewType"),
        "ttl": props.get("TimeToLiveSpecification", {}).get("AttributeName"),
        "on_demand": props["BillingMode"] == "PAY_PER_REQUEST",
        "recovery": props.get("PointInTimeRecoverySpecification", {}).get(
            "PointInTimeRecoveryEnabled", False
        ),
    }


def provisioned_table(dynamodb: Any, name: str) -> dict[str, Any]:
    """A table as DynamoDB describes it, in the same shape."""
    table = dynamodb.describe_table(TableName=name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    stream = table.get("StreamSpecification", {})
    return {
        "keys": table["KeySchema"],
        "attributes": sorted(
            (a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]
        ),
        "indexes": sorted(
            (i["IndexName"], str(i["KeySchema"]), i["Projection"]["ProjectionType"])
            for i in table.get("GlobalSecondaryIndexes", [])
        ),
        "stream": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        "ttl": ttl["AttributeName"] if ttl["TimeToLiveStatus"] == "ENABLED" else None,
        "on_demand": table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST",
        "recovery": backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        == "ENABLED",
    }


def test_the_local_asset_table_is_the_deployed_one(synth: Synth, local: dict[str, Any]) -> None:
    deployed = template_table(synth.resource_of(synth.storage.table))
    assert provisioned_table(local["dynamodb"], CONFIG.table_name) == deployed
    # What the domain relies on, so that the comparison cannot pass on two empty shapes.
    assert [name for name, *_ in deployed["indexes"]] == [
        "byFolder",
        "byOwner",
        "byOwnerStatus",
        "byQuarantine",
        "byShelf",
        "byShelfName",
        "byShelfSize",
        "byType",
    ]
    assert deployed["stream"] == "NEW_AND_OLD_IMAGES"
    assert deployed["ttl"] == "expiresAt"


def test_the_local_idempotency_table_is_the_deployed_one(
    synth: Synth, local: dict[str, Any]
) -> None:
    deployed = template_table(synth.resource_of(synth.storage.idempotency_table))
    assert provisioned_table(local["dynamodb"], CONFIG.idempotency_table_name) == deployed
    assert deployed["keys"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert deployed["ttl"] == "expiration"


def test_the_local_session_table_is_the_deployed_one(synth: Synth, local: dict[str, Any]) -> None:
    deployed = template_table(synth.resource_of(synth.storage.session_table))
    assert provisioned_table(local["dynamodb"], CONFIG.session_table_name) == deployed
    assert deployed["keys"] == [{"AttributeName": "sessionId", "KeyType": "HASH"}]
    assert deployed["ttl"] == "expiresAt"
    assert deployed["stream"] is None


def test_the_local_attachment_table_is_the_deployed_one(
    synth: Synth, local: dict[str, Any]
) -> None:
    deployed = template_table(synth.resource_of(synth.storage.attachment_table))
    assert provisioned_table(local["dynamodb"], CONFIG.attachment_table_name) == deployed
    assert deployed["keys"] == [
        {"AttributeName": "entity", "KeyType": "HASH"},
        {"AttributeName": "member", "KeyType": "RANGE"},
    ]
    assert [name for name, *_ in deployed["indexes"]] == ["byAsset"]
    assert deployed["recovery"] is True


# --- Functions -----------------------------------------------------------------------


def test_local_functions_see_every_mediaport_variable_the_stack_sets(synth: Synth) -> None:
    deployed = {
        name
        for fn in synth.resources_of_type("AWS::Lambda::Function").values()
        for name in fn["Properties"].get("Environment", {}).get("Variables", {})
        if name.startswith("MEDIAPORT_")
    }
    assert "MEDIAPORT_IDEMPOTENCY_TABLE_NAME" in deployed
    assert "MEDIAPORT_SESSION_TABLE_NAME" in deployed
    local = CONFIG.function_environment()
    # Locally there is no CloudFront distribution to invalidate (the /cdn stand-in caches
    # nothing): the one name only AWS has.
    assert deployed - set(local) == {names.ENV_CDN_DISTRIBUTION_ID}
    assert local["MEDIAPORT_IDEMPOTENCY_TABLE_NAME"] == "mediaport-idempotency"


def test_provisioning_twice_changes_nothing(local: dict[str, Any]) -> None:
    before = provisioned_table(local["dynamodb"], CONFIG.table_name)
    provision(CONFIG)
    assert provisioned_table(local["dynamodb"], CONFIG.table_name) == before
    rules = local["s3"].get_bucket_lifecycle_configuration(Bucket=CONFIG.bucket_name)["Rules"]
    assert len(rules) == 2


def test_the_local_usage_table_is_the_deployed_one(synth: Synth, local: dict[str, Any]) -> None:
    deployed = template_table(synth.resource_of(synth.storage.usage_table))
    assert provisioned_table(local["dynamodb"], CONFIG.usage_table_name) == deployed
    # Streamed: a total row's warning level going up is the "Storage Warning" event.
    assert deployed["stream"] == "NEW_AND_OLD_IMAGES"
    assert deployed["keys"] == [
        {"AttributeName": "userId", "KeyType": "HASH"},
        {"AttributeName": "dimension", "KeyType": "RANGE"},
    ]


# --- Events and webhooks ---------------------------------------------------------------


def test_the_local_event_bus_and_webhook_queue_are_the_deployed_ones(
    synth: Synth, local: dict[str, Any]
) -> None:
    host_events = synth.stack.node.find_child("Events")
    assert isinstance(host_events, HostEvents)
    bus = synth.resource_of(host_events.bus)["Properties"]
    queue = synth.resource_of(host_events.webhook_queue)["Properties"]

    local_buses = boto3.client("events", region_name=CONFIG.region).list_event_buses()
    sqs = boto3.client("sqs", region_name=CONFIG.region)
    url = sqs.get_queue_url(QueueName=WEBHOOK_QUEUE_NAME)["QueueUrl"]
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )

    assert bus["Name"] in {b["Name"] for b in local_buses["EventBuses"]}
    assert int(redrive["maxReceiveCount"]) == int(queue["RedrivePolicy"]["maxReceiveCount"])
    assert redrive["deadLetterTargetArn"].endswith(f":{WEBHOOK_DEAD_LETTER_QUEUE_NAME}")
