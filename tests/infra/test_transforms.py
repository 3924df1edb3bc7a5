"""Image operations on demand: transforms records a PENDING variant and sends a job; the
jobs queue (with a DLQ) feeds transform_media one job at a time, failures item by item."""

from __future__ import annotations

from infra.definitions import JOBS_MAX_RECEIVE_COUNT
from infra.routes import EVENT_FUNCTIONS, api_functions
from tests.infra.conftest import Synth
from tests.infra.test_functions import mediaport_functions
from tests.infra.test_permissions import as_list, grants, list_bucket_conditions, policy_of


def jobs_queues(synth: Synth) -> tuple[dict, dict]:
    """(jobs queue, its dead-letter queue) properties."""
    main = synth.resource_of(synth.jobs.queue)["Properties"]
    dlq_id = main["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert dlq_id == synth.logical_id(synth.jobs.dead_letter_queue)
    return main, synth.resources[dlq_id]["Properties"]


def test_a_job_goes_to_the_dlq_after_the_shared_number_of_receives(synth: Synth) -> None:
    main, dlq = jobs_queues(synth)
    assert main["RedrivePolicy"]["maxReceiveCount"] == JOBS_MAX_RECEIVE_COUNT == 3
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert main["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True


def test_the_worker_is_told_the_jobs_queues_receive_count(synth: Synth) -> None:
    worker = mediaport_functions(synth)["transform_media"]
    # Not the upload queue's: the worker knows a delivery is the last by this one.
    assert worker["Environment"]["Variables"]["MEDIAPORT_JOBS_MAX_RECEIVE_COUNT"] == str(
        JOBS_MAX_RECEIVE_COUNT
    )


def test_a_retried_job_never_overlaps_a_running_one(synth: Synth) -> None:
    main, _ = jobs_queues(synth)
    worker = mediaport_functions(synth)["transform_media"]
    assert main["VisibilityTimeout"] == 6 * worker["Timeout"]


def test_the_worker_takes_one_job_at_a_time_and_reports_failed_items(synth: Synth) -> None:
    (mapping,) = [
        m["Properties"]
        for m in synth.resources_of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"].get("EventSourceArn")
        == {"Fn::GetAtt": [synth.logical_id(synth.jobs.queue), "Arn"]}
    ]
    assert mapping["FunctionName"]["Ref"].startswith("transformmediaFunction")
    # The timeout is per batch, and one job may need most of it.
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_only_the_functions_that_send_jobs_know_the_queue(synth: Synth) -> None:
    queue = {"Ref": synth.logical_id(synth.jobs.queue)}
    for name, fn in mediaport_functions(synth).items():
        env = fn["Environment"]["Variables"]
        if name in ("transforms", "admin", "scan_result"):
            assert env["MEDIAPORT_JOBS_QUEUE_URL"] == queue, name
        else:
            assert "MEDIAPORT_JOBS_QUEUE_URL" not in env, name


def test_the_new_functions_are_data_functions(synth: Synth) -> None:
    assert {"transforms", "admin"} <= set(api_functions())
    assert {"transform_media", "scan_result"} <= set(EVENT_FUNCTIONS)
    functions = mediaport_functions(synth)
    for name in ("transforms", "admin", "transform_media", "scan_result"):
        env = functions[name]["Environment"]["Variables"]
        assert env["MEDIAPORT_TABLE_NAME"] == {"Ref": synth.logical_id(synth.storage.table)}


def test_transforms_records_variants_sends_jobs_and_signs_only_variants(synth: Synth) -> None:
    assert grants(synth, "transforms", "dynamodb") == {
        "assets": {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    }
    assert grants(synth, "transforms", "sqs") == {"jobs": {"sqs:SendMessage"}}
    # It signs the URLs of READY variants; it never opens an original.
    assert grants(synth, "transforms", "s3") == {"bucket/derived/*": {"s3:GetObject"}}
    assert list_bucket_conditions(synth, "transforms") == []


def test_transform_media_reads_originals_and_writes_only_variants(synth: Synth) -> None:
    assert grants(synth, "transform_media", "s3") == {
        # The original, uploaded or released by an admin.
        "bucket/media/*": {"s3:GetObject"},
        "bucket/released/*": {"s3:GetObject"},
        # The variant (a public asset's with the CDN tag), or removing one not worth keeping.
        "bucket/derived/*": {"s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"},
        "bucket": {"s3:ListBucket"},
    }
    assert list_bucket_conditions(synth, "transform_media") == [
        {"StringLike": {"s3:prefix": ["media/*", "released/*", "derived/*"]}}
    ]


def test_transform_media_records_variants_through_the_transaction_writer(synth: Synth) -> None:
    assert grants(synth, "transform_media", "dynamodb") == {
        "assets": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        # The one transaction writer may touch the usage and folder rows.
        "usage": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "folders": {"dynamodb:UpdateItem"},
    }


def test_transform_media_consumes_only_the_jobs_queue_and_sends_nothing(synth: Synth) -> None:
    consumed = grants(synth, "transform_media", "sqs")
    assert set(consumed) == {"jobs"}
    assert "sqs:ReceiveMessage" in consumed["jobs"]
    assert "sqs:SendMessage" not in consumed["jobs"]


def test_no_new_function_gets_a_wildcard_action(synth: Synth) -> None:
    for function in ("transforms", "transform_media", "admin", "scan_result"):
        for statement in policy_of(synth, function):
            for action in as_list(statement["Action"]):
                assert "*" not in action, (function, action)


def test_an_alarm_watches_the_jobs_dead_letter_queue(synth: Synth) -> None:
    dlq = synth.logical_id(synth.jobs.dead_letter_queue)
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}],
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )


def test_the_stack_outputs_the_jobs_queue(synth: Synth) -> None:
    outputs = synth.template.to_json()["Outputs"]
    assert outputs["JobsQueueUrl"]["Value"] == {"Ref": synth.logical_id(synth.jobs.queue)}
