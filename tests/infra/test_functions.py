"""Every function is made by the one helper: same runtime, architecture, tracing, logs."""

from __future__ import annotations

from infra.routes import EVENT_FUNCTIONS, api_functions
from tests.infra.conftest import Synth


def mediaport_functions(synth: Synth) -> dict[str, dict]:
    """Our functions by name (CDK's own notification handler excluded)."""
    return {
        f["Properties"]["Description"].removeprefix("Mediaport "): f["Properties"]
        for f in synth.resources_of_type("AWS::Lambda::Function").values()
        # (CDK's own handlers may carry a Description that is not a plain string.)
        if str(f["Properties"].get("Description", "")).startswith("Mediaport ")
    }


def test_there_is_one_function_per_handler(synth: Synth) -> None:
    assert set(mediaport_functions(synth)) == {*api_functions(), *EVENT_FUNCTIONS}


def test_every_function_runs_python_3_13_on_arm64(synth: Synth) -> None:
    for fn in mediaport_functions(synth).values():
        assert fn["Architectures"] == ["arm64"]
        assert fn["Runtime"] == "python3.13"
        assert fn["Handler"] == "handler.handler"


def test_every_function_is_traced_and_logs_to_its_own_log_group(synth: Synth) -> None:
    log_groups = synth.resources_of_type("AWS::Logs::LogGroup")
    for name, fn in mediaport_functions(synth).items():
        assert fn["TracingConfig"] == {"Mode": "Active"}, name
        group = log_groups[fn["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Properties"]["RetentionInDays"] == 30, name


def test_every_function_gets_the_dependency_and_core_layers(synth: Synth) -> None:
    layers = synth.resources_of_type("AWS::Lambda::LayerVersion")
    assert len(layers) == 2
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    for fn in mediaport_functions(synth).values():
        assert sorted(ref["Ref"] for ref in fn["Layers"]) == sorted(layers)


def test_every_function_has_the_powertools_environment(synth: Synth) -> None:
    for fn in mediaport_functions(synth).values():
        env = fn["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "mediaport"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Mediaport"
        assert env["LOG_LEVEL"] == "INFO"


def test_data_functions_know_the_table_and_bucket_and_health_does_not(synth: Synth) -> None:
    functions = mediaport_functions(synth)
    table = {"Ref": synth.logical_id(synth.storage.table)}
    bucket = {"Ref": synth.logical_id(synth.storage.bucket)}
    for name, fn in functions.items():
        env = fn["Environment"]["Variables"]
        if name == "health":
            assert "MEDIAPORT_TABLE_NAME" not in env
            assert "MEDIAPORT_BUCKET_NAME" not in env
        else:
            assert env["MEDIAPORT_TABLE_NAME"] == table, name
            assert env["MEDIAPORT_BUCKET_NAME"] == bucket, name


def test_only_the_routes_taking_an_idempotency_key_know_its_table(synth: Synth) -> None:
    idempotency = {"Ref": synth.logical_id(synth.storage.idempotency_table)}
    for name, fn in mediaport_functions(synth).items():
        env = fn["Environment"]["Variables"]
        # count_bandwidth records there each log file it counted.
        if name in ("presign", "multipart", "count_bandwidth"):
            assert env["MEDIAPORT_IDEMPOTENCY_TABLE_NAME"] == idempotency
        else:
            assert "MEDIAPORT_IDEMPOTENCY_TABLE_NAME" not in env, name


def test_the_processor_has_more_memory_and_time_than_api_functions(synth: Synth) -> None:
    functions = mediaport_functions(synth)
    processor = functions.pop("process_upload")
    assert 1024 <= processor["MemorySize"] <= 2048
    assert processor["Timeout"] == 60
    expirer = functions.pop("expire_assets")  # a few S3 deletes per record, in the background
    # A daily batch over every user: minutes, not seconds, and little memory.
    reconciler = functions.pop("reconcile_usage")
    assert (reconciler["MemorySize"], reconciler["Timeout"]) == (512, 300)
    # Deleting a folder with moveTo moves up to 500 assets, one transaction each.
    folders = functions.pop("folders")
    assert (folders["MemorySize"], folders["Timeout"]) == (512, 29)
    assert (expirer["MemorySize"], expirer["Timeout"]) == (256, 30)
    # A release copies the original server-side (one CopyObject, up to 5 GB) within the
    # HTTP API's 29 s.
    admin = functions.pop("admin")
    assert (admin["MemorySize"], admin["Timeout"]) == (512, 29)
    # Decodes up to the pixel budget (as process_upload) and encodes AVIF: at least the
    # processor's memory, a full vCPU or more.
    transformer = functions.pop("transform_media")
    assert transformer["MemorySize"] >= max(processor["MemorySize"], 1769)
    assert transformer["Timeout"] == 60
    # A batch of stream records; one signed POST (its HTTP timeout ~10 s); one CDN log file.
    for name in ("publish_events", "deliver_webhooks"):
        assert functions.pop(name)["Timeout"] == 30, name
    counter = functions.pop("count_bandwidth")
    assert (counter["MemorySize"], counter["Timeout"]) == (512, 60)
    for name, fn in functions.items():
        assert 256 <= fn["MemorySize"] <= 512, name
        assert 10 <= fn["Timeout"] <= 15, name


def test_an_alarm_watches_the_dlq_and_each_functions_errors(synth: Synth) -> None:
    alarms = [a["Properties"] for a in synth.resources_of_type("AWS::CloudWatch::Alarm").values()]
    metrics = {(a["Namespace"], a["MetricName"]) for a in alarms}
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in metrics
    error_alarms = [a for a in alarms if a["MetricName"] == "Errors"]
    assert len(error_alarms) == len(mediaport_functions(synth))
    for alarm in alarms:
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_only_uppy_knows_the_session_table(synth: Synth) -> None:
    for name, fn in mediaport_functions(synth).items():
        env = fn["Environment"]["Variables"]
        assert ("MEDIAPORT_SESSION_TABLE_NAME" in env) is (name == "uppy"), name


def test_only_media_and_attachments_know_the_attachment_table(synth: Synth) -> None:
    attachments = {"Ref": synth.logical_id(synth.storage.attachment_table)}
    for name, fn in mediaport_functions(synth).items():
        env = fn["Environment"]["Variables"]
        if name in ("media", "attachments"):
            assert env["MEDIAPORT_ATTACHMENT_TABLE_NAME"] == attachments, name
        else:
            assert "MEDIAPORT_ATTACHMENT_TABLE_NAME" not in env, name
