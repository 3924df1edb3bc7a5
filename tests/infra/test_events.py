"""Events for the host app: both tables' streams feed publish_events (failures record by
record, split down to the one that fails, then parked), which puts every state change on
the mediaport bus and hands it to the webhook queue once per URL; the webhook queue (with
a DLQ) feeds deliver_webhooks one signed POST at a time, its secret in Secrets Manager."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from infra.config import DeploymentSettings
from infra.definitions import WEBHOOK_MAX_RECEIVE_COUNT
from infra.routes import EVENT_FUNCTIONS, api_functions
from tests.infra.conftest import Synth, cdk_json_context, synthesize
from tests.infra.test_cfn_lint import run_cfn_lint
from tests.infra.test_functions import mediaport_functions
from tests.infra.test_nag import describe
from tests.infra.test_permissions import as_list, grants, policy_of

FUNCTIONS = (*api_functions(), *EVENT_FUNCTIONS)
URLS = ("https://hooks.example.com/mediaport", "https://backup.example.org/in?x=1")


@pytest.fixture(scope="module")
def webhook_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out-webhooks"),
        webhookUrls=",".join(URLS),
        eventBusName="mediaport-staging",
        removalPolicy="destroy",
    )


def stream_mappings(synth: Synth, table: Any) -> dict[str, dict]:
    """{function name prefix: mapping properties} of the mappings reading ``table``'s stream."""
    stream = {"Fn::GetAtt": [synth.logical_id(table), "StreamArn"]}
    return {
        m["Properties"]["FunctionName"]["Ref"].split("Function")[0]: m["Properties"]
        for m in synth.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == stream
    }


def environment(synth: Synth, name: str) -> dict[str, Any]:
    variables: dict[str, Any] = mediaport_functions(synth)[name]["Environment"]["Variables"]
    return variables


def queue_of(synth: Synth, queue: Any) -> dict[str, Any]:
    properties: dict[str, Any] = synth.resource_of(queue)["Properties"]
    return properties


# --- the bus ---------------------------------------------------------------------------


def test_every_state_change_goes_on_a_custom_bus_named_mediaport(synth: Synth) -> None:
    (bus,) = synth.resources_of_type("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == "mediaport"
    # The host app's rules and their targets are its own: the stack adds none to the bus.
    for rule in synth.resources_of_type("AWS::Events::Rule").values():
        assert "EventBusName" not in rule["Properties"]


def test_the_bus_name_comes_from_context(webhook_synth: Synth) -> None:
    (bus,) = webhook_synth.resources_of_type("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == "mediaport-staging"
    bus_ref = {"Ref": webhook_synth.logical_id(webhook_synth.events.bus)}
    assert environment(webhook_synth, "publish_events")["MEDIAPORT_EVENT_BUS_NAME"] == bus_ref


@pytest.mark.parametrize("name", ["default", "media port", "x" * 257])
def test_an_unusable_bus_name_is_refused(name: str) -> None:
    app = App(context=cdk_json_context(eventBusName=name))
    with pytest.raises(ValueError, match="eventBusName must be"):
        DeploymentSettings.from_context(app.node)


# --- the streams -----------------------------------------------------------------------


def test_both_tables_stream_their_items_before_and_after(synth: Synth) -> None:
    for table in (synth.storage.table, synth.storage.usage_table):
        properties = synth.resource_of(table)["Properties"]
        assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_the_asset_stream_has_two_readers_as_dynamodb_advises_at_most(synth: Synth) -> None:
    assert set(stream_mappings(synth, synth.storage.table)) == {"expireassets", "publishevents"}
    assert set(stream_mappings(synth, synth.storage.usage_table)) == {"publishevents"}


@pytest.mark.parametrize("table", ["assets", "usage"])
def test_a_stream_record_is_never_lost_quietly(synth: Synth, table: str) -> None:
    source = synth.storage.table if table == "assets" else synth.storage.usage_table
    mapping = stream_mappings(synth, source)["publishevents"]
    # From the oldest record the stream keeps: nothing written while the mapping is made
    # (or was disabled) is skipped.
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    # Given up within 6 hours, so the parked pointer leaves most of the stream's 24 hours
    # to read the record again.
    assert mapping["MaximumRecordAgeInSeconds"] == 6 * 3600
    assert mapping["BatchSize"] == 100
    # One batch per shard at a time: a shard's records are published in order.
    assert mapping.get("ParallelizationFactor", 1) == 1
    failed = synth.logical_id(synth.events.failed_records)
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [failed, "Arn"]}}
    }


def test_the_asset_stream_skips_only_pending_records_appearing_or_vanishing(
    synth: Synth,
) -> None:
    mapping = stream_mappings(synth, synth.storage.table)["publishevents"]
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    not_pending = {"status": {"S": [{"anything-but": ["PENDING"]}]}}
    assert patterns == [
        # Every change of an existing record: each transition, each variant.
        {"eventName": ["MODIFY"]},
        # A record created settled (a purged asset's tombstone), not a presign's.
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": not_pending}},
        # TTL's removals (a purge, an expiring REJECTED record), not an abandoned upload's.
        {"eventName": ["REMOVE"], "dynamodb": {"OldImage": not_pending}},
    ]


def test_every_usage_row_change_reaches_the_publisher(synth: Synth) -> None:
    mapping = stream_mappings(synth, synth.storage.usage_table)["publishevents"]
    assert "FilterCriteria" not in mapping


def test_failed_stream_batches_wait_two_weeks_and_raise_an_alarm(synth: Synth) -> None:
    failed = queue_of(synth, synth.events.failed_records)
    assert failed["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert failed["SqsManagedSseEnabled"] is True
    assert_dlq_alarm(synth, synth.events.failed_records)


# --- the webhook queue -----------------------------------------------------------------


def test_a_webhook_job_goes_to_the_dlq_after_the_shared_number_of_attempts(
    synth: Synth,
) -> None:
    queue = queue_of(synth, synth.events.webhook_queue)
    dlq = synth.logical_id(synth.events.webhook_dead_letters)
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": WEBHOOK_MAX_RECEIVE_COUNT,
    }
    assert WEBHOOK_MAX_RECEIVE_COUNT == 8
    # The deliverer knows the count: it can tell its last attempt.
    assert environment(synth, "deliver_webhooks")["MEDIAPORT_WEBHOOK_MAX_RECEIVE_COUNT"] == "8"
    # Longer than the backoff of every attempt together (about a day).
    assert queue["MessageRetentionPeriod"] == 4 * 24 * 3600
    assert queue["SqsManagedSseEnabled"] is True
    assert queue_of(synth, synth.events.webhook_dead_letters)["MessageRetentionPeriod"] == (
        14 * 24 * 3600
    )
    assert_dlq_alarm(synth, synth.events.webhook_dead_letters)


def test_a_retried_delivery_never_overlaps_a_running_one(synth: Synth) -> None:
    queue = queue_of(synth, synth.events.webhook_queue)
    deliverer = mediaport_functions(synth)["deliver_webhooks"]
    assert queue["VisibilityTimeout"] >= 6 * deliverer["Timeout"]


def test_the_deliverer_posts_one_job_at_a_time_ten_at_most_at_once(synth: Synth) -> None:
    queue = {"Fn::GetAtt": [synth.logical_id(synth.events.webhook_queue), "Arn"]}
    (mapping,) = [
        m["Properties"]
        for m in synth.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == queue
    ]
    assert mapping["FunctionName"]["Ref"].startswith("deliverwebhooksFunction")
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # A receiver back from an outage is not sent its whole backlog at once.
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}


# --- the secret ------------------------------------------------------------------------


def test_the_signing_secret_lives_in_secrets_manager_as_a_placeholder(synth: Synth) -> None:
    (secret,) = synth.resources_of_type("AWS::SecretsManager::Secret").values()
    # A random value that is not a "whsec_" secret: deliver_webhooks refuses to sign with
    # it until the deployer puts one; no secret value is ever in the template.
    assert secret["Properties"]["GenerateSecretString"] == {}
    assert "SecretString" not in secret["Properties"]
    assert secret["DeletionPolicy"] == "Retain"
    arn = {"Ref": synth.logical_id(synth.events.webhook_secret)}
    assert environment(synth, "deliver_webhooks")["MEDIAPORT_WEBHOOK_SECRET_ARN"] == arn


def test_the_secret_goes_with_a_destroyed_stack(webhook_synth: Synth) -> None:
    (secret,) = webhook_synth.resources_of_type("AWS::SecretsManager::Secret").values()
    assert secret["DeletionPolicy"] == "Delete"


def test_no_function_holds_the_secret_value_and_only_the_deliverer_its_arn(
    synth: Synth, webhook_synth: Synth
) -> None:
    for variant in (synth, webhook_synth):
        for name, fn in mediaport_functions(variant).items():
            env = fn["Environment"]["Variables"]
            assert "MEDIAPORT_WEBHOOK_SECRET" not in env, name
            assert ("MEDIAPORT_WEBHOOK_SECRET_ARN" in env) == (name == "deliver_webhooks"), name


# --- the functions ---------------------------------------------------------------------


def test_publish_events_reads_the_streams_and_writes_only_to_the_bus_and_webhook_queue(
    synth: Synth,
) -> None:
    assert grants(synth, "publish_events", "events") == {"bus": {"events:PutEvents"}}
    sent = grants(synth, "publish_events", "sqs")
    assert sent.pop("webhooks") == {"sqs:SendMessage"}
    # The stream mappings' on-failure destination is sent to with the function's role.
    assert "sqs:SendMessage" in sent.pop("failed-records")
    assert sent == {}
    # The records carry both images: it reads the streams (not the items) and writes no
    # table, object or secret.
    assert grants(synth, "publish_events", "dynamodb") == {
        "assets": {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
        "usage": {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
        "*": {"dynamodb:ListStreams"},
    }
    for statement in policy_of(synth, "publish_events"):
        if "dynamodb:GetRecords" in statement["Action"]:
            for stream in as_list(statement["Resource"]):
                assert stream["Fn::GetAtt"][1] == "StreamArn"
    assert grants(synth, "publish_events", "s3") == {}
    assert grants(synth, "publish_events", "secretsmanager") == {}


def test_deliver_webhooks_reads_only_its_secret_and_consumes_only_its_queue(
    synth: Synth,
) -> None:
    assert grants(synth, "deliver_webhooks", "secretsmanager") == {
        "webhook-secret": {"secretsmanager:GetSecretValue"}
    }
    consumed = grants(synth, "deliver_webhooks", "sqs")
    assert set(consumed) == {"webhooks"}
    # A failed delivery is put back later (its backoff): ChangeMessageVisibility.
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= (
        consumed["webhooks"]
    )
    assert "sqs:SendMessage" not in consumed["webhooks"]
    for service in ("dynamodb", "s3", "events"):
        assert grants(synth, "deliver_webhooks", service) == {}, service


def test_only_publish_events_publishes_and_only_deliver_webhooks_reads_the_secret(
    synth: Synth,
) -> None:
    for name in FUNCTIONS:
        assert bool(grants(synth, name, "events")) == (name == "publish_events"), name
        assert bool(grants(synth, name, "secretsmanager")) == (name == "deliver_webhooks"), name
        sends_webhooks = "sqs:SendMessage" in grants(synth, name, "sqs").get("webhooks", set())
        assert sends_webhooks == (name == "publish_events"), name


def test_the_publisher_knows_the_bus_and_the_webhook_queue(synth: Synth) -> None:
    env = environment(synth, "publish_events")
    assert env["MEDIAPORT_EVENT_BUS_NAME"] == {"Ref": synth.logical_id(synth.events.bus)}
    queue = {"Ref": synth.logical_id(synth.events.webhook_queue)}
    assert env["MEDIAPORT_WEBHOOK_QUEUE_URL"] == queue
    # The deliverer puts a failed job back on the same queue (its backoff).
    assert environment(synth, "deliver_webhooks")["MEDIAPORT_WEBHOOK_QUEUE_URL"] == queue
    # A data function like the others: its settings name the tables.
    assert env["MEDIAPORT_TABLE_NAME"] == {"Ref": synth.logical_id(synth.storage.table)}
    for name in FUNCTIONS:
        knows_bus = "MEDIAPORT_EVENT_BUS_NAME" in environment(synth, name)
        assert knows_bus == (name == "publish_events"), name


def test_without_webhook_urls_no_function_is_given_any(synth: Synth) -> None:
    for name in FUNCTIONS:
        assert "MEDIAPORT_WEBHOOK_URL" not in environment(synth, name), name


def test_the_webhook_urls_go_to_the_publisher_and_the_deliverer(webhook_synth: Synth) -> None:
    for name in FUNCTIONS:
        env = environment(webhook_synth, name)
        if name in ("publish_events", "deliver_webhooks"):
            assert env["MEDIAPORT_WEBHOOK_URL"] == ",".join(URLS), name
        else:
            assert "MEDIAPORT_WEBHOOK_URL" not in env, name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ()),
        ("https://a.example.com/hook", ("https://a.example.com/hook",)),
        (
            " https://a.example.com , https://b.example.com/x ",
            ("https://a.example.com", "https://b.example.com/x"),
        ),
        (["https://a.example.com"], ("https://a.example.com",)),
    ],
)
def test_webhook_urls_are_read_from_context(value: object, expected: tuple[str, ...]) -> None:
    settings = DeploymentSettings.from_context(
        App(context=cdk_json_context(webhookUrls=value)).node
    )
    assert settings.webhook_urls == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.com/in", "must be https:// URLs"),
        ("http://localhost:9000/in", "must be https:// URLs"),
        ("hooks.example.com/in", "must be https:// URLs"),
        ("https:///in", "must be https:// URLs"),
        ("https://user:pass@hooks.example.com/in", "must not carry credentials"),
    ],
)
def test_a_webhook_url_that_is_not_plain_https_is_refused(url: str, problem: str) -> None:
    app = App(context=cdk_json_context(webhookUrls=url))
    with pytest.raises(ValueError, match=problem):
        DeploymentSettings.from_context(app.node)


def test_a_webhook_url_with_a_comma_is_refused() -> None:
    app = App(context=cdk_json_context(webhookUrls=["https://hooks.example.com/a,b"]))
    with pytest.raises(ValueError, match="cannot hold a comma"):
        DeploymentSettings.from_context(app.node)


# --- outputs, alarms, checks -----------------------------------------------------------


def assert_dlq_alarm(synth: Synth, queue: Any) -> None:
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [
                {
                    "Name": "QueueName",
                    "Value": {"Fn::GetAtt": [synth.logical_id(queue), "QueueName"]},
                }
            ],
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )


def test_the_stack_outputs_the_bus_and_the_secret(synth: Synth) -> None:
    outputs = synth.template.to_json()["Outputs"]
    events = synth.events
    assert outputs["EventBusName"]["Value"] == {"Ref": synth.logical_id(events.bus)}
    assert outputs["EventBusArn"]["Value"] == {"Fn::GetAtt": [synth.logical_id(events.bus), "Arn"]}
    assert outputs["WebhookSecretArn"]["Value"] == {"Ref": synth.logical_id(events.webhook_secret)}
    assert outputs["WebhookQueueUrl"]["Value"] == {"Ref": synth.logical_id(events.webhook_queue)}


def test_the_secret_carries_its_rotation_reason(synth: Synth) -> None:
    # AwsSolutions-SMG4 (no rotation) is acknowledged on the secret alone.
    assert describe(synth) == []
    acknowledged = synth.events.webhook_secret.node.metadata
    assert any("AwsSolutions-SMG4" in str(entry.data) for entry in acknowledged)


def test_webhooks_and_a_named_bus_are_clean_and_valid(webhook_synth: Synth, tmp_path: Path) -> None:
    assert describe(webhook_synth) == []
    run_cfn_lint(webhook_synth, tmp_path)
