"""New uploads flow S3 → SQS → process_upload, with retries, a DLQ and partial failures."""

from __future__ import annotations

import json

from tests.infra.conftest import Synth


def queues(synth: Synth) -> tuple[dict, dict]:
    """(upload queue, dead-letter queue) properties."""
    main = synth.resource_of(synth.processing.queue)["Properties"]
    dlq_id = main["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return main, synth.resources[dlq_id]["Properties"]


def process_function(synth: Synth) -> dict:
    (fn,) = (
        f["Properties"]
        for f in synth.resources_of_type("AWS::Lambda::Function").values()
        if f["Properties"].get("Description") == "Mediaport process_upload"
    )
    return fn


def media_notifications(synth: Synth) -> dict:
    """The media bucket's notification configuration (the CDN's log bucket has its own)."""
    (notifications,) = [
        n["Properties"]["NotificationConfiguration"]
        for n in synth.resources_of_type("Custom::S3BucketNotifications").values()
        if n["Properties"]["BucketName"] == {"Ref": synth.logical_id(synth.storage.bucket)}
    ]
    return notifications


def test_only_objects_created_under_media_are_queued(synth: Synth) -> None:
    config = media_notifications(synth)
    (queue_config,) = config["QueueConfigurations"]
    assert queue_config["Events"] == ["s3:ObjectCreated:*"]
    assert queue_config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "media/"}]
    assert "LambdaFunctionConfigurations" not in config


def test_a_message_goes_to_the_dlq_after_five_receives(synth: Synth) -> None:
    main, dlq = queues(synth)
    assert main["RedrivePolicy"]["maxReceiveCount"] == 5
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_visibility_timeout_is_at_least_six_times_the_function_timeout(synth: Synth) -> None:
    main, _ = queues(synth)
    assert main["VisibilityTimeout"] >= 6 * process_function(synth)["Timeout"]


def test_queues_take_s3_event_sized_messages_encrypted(synth: Synth) -> None:
    main, dlq = queues(synth)
    assert main["MaximumMessageSize"] >= 64 * 1024
    assert main["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True


def test_queues_refuse_requests_without_tls(synth: Synth) -> None:
    policies = synth.resources_of_type("AWS::SQS::QueuePolicy").values()
    queues_with_tls = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny"
                queues_with_tls.update(q["Ref"] for q in policy["Properties"]["Queues"])
    assert queues_with_tls == set(synth.resources_of_type("AWS::SQS::Queue"))


def test_the_processor_reports_failed_items_not_whole_batches(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [synth.logical_id(synth.processing.queue), "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": 10,
        },
    )


def test_only_ttl_removals_of_the_asset_table_reach_the_expiry_function(synth: Synth) -> None:
    (mapping,) = [
        props
        for props in (
            r["Properties"]
            for r in synth.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        )
        if props["FunctionName"]["Ref"].startswith("expireassetsFunction")
    ]
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern == {
        "eventName": ["REMOVE"],
        "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]},
    }
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert "OnFailure" in mapping["DestinationConfig"]
