"""In the local stack every function shares one process and one Powertools logger; each
invocation's lambda-context keys must stay on its own log lines."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.events import sqs_event
from infra.local.lambdas import invoke
from mediaport.observability import logger
from tests.integration.conftest import Stack
from tests.integration.test_processing import REGION


class Lines(logging.Handler):
    """Every line the mediaport logger writes, as Powertools formats it, in its thread.

    ``pause_on`` holds the thread that writes a line with that message (before the line
    is written, outside any logging lock) until ``resume`` is set.
    """

    def __init__(self, pause_on: str | None = None) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.pause_on = pause_on
        self.paused, self.resume = threading.Event(), threading.Event()
        self.addFilter(self._maybe_pause)

    def _maybe_pause(self, record: logging.LogRecord) -> bool:
        if record.getMessage() == self.pause_on and not self.paused.is_set():
            self.paused.set()
            assert self.resume.wait(timeout=30)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(logger.registered_formatter.format(record)))

    def of(self, message: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["message"] == message]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines(pause_on="S3 test event acknowledged")
    logging.getLogger(logger.name).addHandler(handler)
    yield handler
    logging.getLogger(logger.name).removeHandler(handler)


def s3_test_events(stack: Stack) -> dict[str, Any]:
    """Two S3 test-event messages (each is logged, nothing else is done)."""
    messages = [
        {
            "MessageId": f"m{i}",
            "ReceiptHandle": f"r{i}",
            "Body": '{"Event": "s3:TestEvent"}',
            "Attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1700000000000",
                "SenderId": "AIDAEXAMPLE",
                "ApproximateFirstReceiveTimestamp": "1700000000000",
            },
        }
        for i in range(2)
    ]
    return sqs_event(messages, stack.queues["queue_arn"], REGION)


def expired_record_event() -> dict[str, Any]:
    """A TTL removal of a record expire_assets does not clean (a READY asset never expires;
    it only logs it)."""
    image = {
        "assetId": {"S": "a1"},
        "userId": {"S": "alice"},
        "status": {"S": "READY"},
        "bucket": {"S": "mediaport-media"},
        "key": {"S": "media/alice/a1/x.jpg"},
    }
    return {
        "Records": [
            {
                "eventID": "1",
                "eventName": "REMOVE",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": {
                    "Keys": {"assetId": image["assetId"]},
                    "OldImage": image,
                    "SequenceNumber": "1",
                },
                "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
            }
        ]
    }


def test_two_functions_running_at_once_each_log_their_own_function_name(
    stack: Stack, lines: Lines
) -> None:
    # process_upload logs its first record, then is held while expire_assets runs to the
    # end on another thread; then it logs its second record.
    processing = threading.Thread(target=invoke, args=("process_upload", s3_test_events(stack)))
    processing.start()
    assert lines.paused.wait(timeout=30)
    invoke("expire_assets", expired_record_event())
    lines.resume.set()
    processing.join(timeout=30)

    uploads = lines.of("S3 test event acknowledged")
    expiries = lines.of("expired asset")
    assert len(uploads) == 2
    assert len(expiries) == 1
    assert {line["function_name"] for line in uploads} == {"mediaport-process_upload"}
    assert expiries[0]["function_name"] == "mediaport-expire_assets"
    assert len({line["function_request_id"] for line in uploads}) == 1
    assert expiries[0]["function_request_id"] != uploads[0]["function_request_id"]


def test_an_api_request_id_never_reaches_the_next_invocation_on_the_same_thread(
    stack: Stack, lines: Lines
) -> None:
    lines.pause_on = None
    assert stack.call("GET", "/media").status_code == 200  # sets a correlation id
    invoke("expire_assets", expired_record_event())

    (line,) = lines.of("expired asset")
    assert line["function_name"] == "mediaport-expire_assets"
    assert "correlation_id" not in line


def test_a_client_problem_is_logged_with_what_the_client_was_told(
    stack: Stack, lines: Lines
) -> None:
    lines.pause_on = None
    answer = stack.call("POST", "/media/folders", json={"path": "a//b"})
    assert answer.status_code == 400
    problem = answer.get_json()

    (line,) = lines.of("answered a client problem")
    assert line["function_name"] == "mediaport-folders"
    assert line["status"] == 400
    assert line["problem"] == problem["type"].rsplit(":", 1)[1]
    assert line["detail"] == problem["detail"]
