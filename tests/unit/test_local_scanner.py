"""The local stack's scanning settings and its stand-in scanner's pure parts: finding the
EICAR string in a stream, reading S3's notifications, GuardDuty's event shape."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from infra.local.config import EMULATOR_ACCOUNT_ID, JOBS_QUEUE_NAME, LocalConfig
from infra.local.scanner import (
    EICAR,
    NewObject,
    contains_eicar,
    new_objects,
    scan_result_event,
)
from mediaport import names

# --- settings -----------------------------------------------------------------------------


def test_scanning_is_off_by_default_and_scan_errors_block() -> None:
    environment = LocalConfig.from_environment({}).function_environment()
    assert environment[names.ENV_SCAN] == "off"
    assert environment[names.ENV_SCAN_ERROR_POLICY] == "block"


def test_local_scanning_and_its_error_policy_reach_the_functions() -> None:
    config = LocalConfig.from_environment(
        {names.ENV_SCAN: "local", names.ENV_SCAN_ERROR_POLICY: "serve"}
    )
    environment = config.function_environment()
    assert (environment[names.ENV_SCAN], environment[names.ENV_SCAN_ERROR_POLICY]) == (
        "local",
        "serve",
    )


def test_guardduty_scanning_is_refused_locally_with_what_to_do_instead() -> None:
    with pytest.raises(ValueError, match="only on AWS") as refused:
        LocalConfig.from_environment({names.ENV_SCAN: "guardduty"})
    assert "MEDIAPORT_SCAN=local" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "value"), [(names.ENV_SCAN, "clamav"), (names.ENV_SCAN_ERROR_POLICY, "ignore")]
)
def test_an_unknown_scan_setting_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        LocalConfig.from_environment({name: value})


def test_the_functions_get_the_jobs_queue_url_the_emulator_gives_it() -> None:
    config = LocalConfig.from_environment({"MEDIAPORT_AWS_PORT": "4999"})
    assert config.function_environment()[names.ENV_JOBS_QUEUE_URL] == (
        f"http://127.0.0.1:4999/{EMULATOR_ACCOUNT_ID}/{JOBS_QUEUE_NAME}"
    )


# --- finding EICAR ------------------------------------------------------------------------


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def test_the_eicar_string_is_the_68_byte_test_file() -> None:
    assert len(EICAR) == 68
    assert EICAR.startswith(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR")
    assert EICAR.endswith(b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


@pytest.mark.parametrize("split", range(1, len(EICAR)))
def test_eicar_split_across_two_chunks_is_found(split: int) -> None:
    data = b"a" * 100 + EICAR + b"b" * 100
    first = 100 + split
    assert contains_eicar([data[:first], data[first:]])


def test_eicar_spread_over_many_small_chunks_is_found() -> None:
    assert contains_eicar(chunked(b"\x00" * 1000 + EICAR + b"\xff" * 1000, 7))


def test_bytes_without_eicar_are_clean() -> None:
    almost = EICAR[:-1] + b"?"
    assert not contains_eicar(chunked(b"x" * 5000 + almost + b"y" * 5000, 64))
    assert not contains_eicar([])


# --- S3 notifications ---------------------------------------------------------------------


def upload_message(key: str, receive_count: str = "1", event: str = "ObjectCreated:Put") -> dict:
    body = {
        "Records": [
            {
                "eventName": event,
                "s3": {
                    "bucket": {"name": "mediaport-media"},
                    "object": {"key": key, "eTag": "0123abcd", "size": 10},
                },
            }
        ]
    }
    return {"Body": json.dumps(body), "Attributes": {"ApproximateReceiveCount": receive_count}}


def test_a_new_upload_is_announced_with_its_decoded_key_and_etag() -> None:
    message = upload_message("media/alice/a1/my+photo%C3%A9.jpg")
    assert list(new_objects([message])) == [
        NewObject("mediaport-media", "media/alice/a1/my photoé.jpg", "0123abcd")
    ]


def test_a_redelivered_message_is_not_scanned_again() -> None:
    assert list(new_objects([upload_message("media/alice/a1/x.jpg", receive_count="2")])) == []


def test_test_events_removals_and_other_prefixes_are_not_scanned() -> None:
    test_event = {"Body": json.dumps({"Event": "s3:TestEvent"}), "Attributes": {}}
    messages = [
        test_event,
        upload_message("derived/alice/a1/128.webp"),
        upload_message("released/alice/a1/x.jpg"),
        upload_message("media/alice/a1/x.jpg", event="ObjectRemoved:Delete"),
        {"Body": "not json", "Attributes": {}},
    ]
    assert list(new_objects(messages)) == []


# --- GuardDuty's event ----------------------------------------------------------------------


def test_the_event_has_guardduty_malware_protection_s3_shape() -> None:
    moment = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
    event = scan_result_event(
        bucket="mediaport-media",
        key="media/alice/a1/x.jpg",
        etag='"0123abcd"',
        result="THREATS_FOUND",
        region="eu-west-1",
        event_id="72c7d362-737a-6dce-fc78-9e27a0171419",
        time=moment,
    )
    assert event == {
        "version": "0",
        "id": "72c7d362-737a-6dce-fc78-9e27a0171419",
        "detail-type": "GuardDuty Malware Protection Object Scan Result",
        "source": "aws.guardduty",
        "account": "000000000000",
        "time": "2026-03-01T12:30:05Z",
        "region": "eu-west-1",
        "resources": [
            "arn:aws:guardduty:eu-west-1:000000000000:malware-protection-plan/mediaport-local"
        ],
        "detail": {
            "schemaVersion": "1.0",
            "scanStatus": "COMPLETED",
            "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {
                "bucketName": "mediaport-media",
                "objectKey": "media/alice/a1/x.jpg",
                "eTag": "0123abcd",
                "versionId": None,
                "s3Throttled": False,
            },
            "scanResultDetails": {
                "scanResultStatus": "THREATS_FOUND",
                "threats": [{"name": "EICAR-Test-File (not a virus)"}],
            },
        },
    }


@pytest.mark.parametrize(
    ("result", "scan_status"),
    [
        ("NO_THREATS_FOUND", "COMPLETED"),
        ("UNSUPPORTED", "SKIPPED"),
        ("ACCESS_DENIED", "SKIPPED"),
        ("FAILED", "FAILED"),
    ],
)
def test_results_without_threats_name_none(result: str, scan_status: str) -> None:
    event = scan_result_event(bucket="b", key="media/k", etag="e", result=result, region="r")
    assert event["detail"]["scanStatus"] == scan_status
    assert event["detail"]["scanResultDetails"] == {"scanResultStatus": result, "threats": None}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
