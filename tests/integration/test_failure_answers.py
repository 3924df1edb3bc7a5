"""Failures behind the API: the client gets a fixed sentence, the log gets the cause."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import GetError

from mediaport.adapters.tables import translated
from mediaport.config import get_settings
from mediaport.errors import TableRequestRefused, TableUnavailable
from mediaport.observability import logger
from mediaport.services import current_services
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.faults import aws_fails

LIBRARY_WORDS = ("pynamodb", "botocore", "ResourceNotFound", "ValidationException", "Requested")


def test_a_request_dynamodb_refuses_is_our_500_never_a_retry_and_leaks_nothing(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # The table is gone: DynamoDB refuses the request (ResourceNotFoundException).
    stack.dynamodb.Table(stack.table).delete()

    response = stack.presign(filename="a.jpg", contentType="image/jpeg", size=10)

    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "urn:mediaport:problem:internal-error"
    assert "retry" not in problem["detail"].lower()
    body = response.get_data(as_text=True)
    assert not any(word in body for word in LIBRARY_WORDS)
    # The cause is logged, with the request's correlation id.
    (record,) = [r for r in caplog.records if r.getMessage() == "table request failed"]
    logged = json.loads(logger.registered_formatter.format(record))
    assert logged["code"] == "ResourceNotFoundException"
    assert logged["correlation_id"]


def _table_error(code: str) -> GetError:
    cause = ClientError({"Error": {"Code": code, "Message": "internal text"}}, "GetItem")
    return GetError("Failed to get item: internal text", cause=cause)


@pytest.mark.parametrize(
    ("code", "answer"),
    [
        ("ProvisionedThroughputExceededException", TableUnavailable),
        ("ThrottlingException", TableUnavailable),
        ("InternalServerError", TableUnavailable),
        ("ValidationException", TableRequestRefused),
        ("ResourceNotFoundException", TableRequestRefused),
    ],
)
def test_only_a_real_outage_is_a_503(code: str, answer: type[Exception]) -> None:
    with pytest.raises(answer) as raised, translated("read asset"):
        raise _table_error(code)

    assert "internal text" not in str(raised.value)


def test_a_missing_setting_fails_with_its_name_in_the_log_not_the_answer(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("MEDIAPORT_TABLE_NAME")
    get_settings.cache_clear()

    response = stack.presign(filename="a.jpg", contentType="image/jpeg", size=10)

    assert response.status_code == 500
    assert "MEDIAPORT_TABLE_NAME" not in response.get_data(as_text=True)
    logged = " ".join(record.getMessage() + str(record.exc_info) for record in caplog.records)
    assert "MEDIAPORT_TABLE_NAME: Field required" in logged


def test_an_outage_is_a_503_that_says_when_to_retry(stack: Stack) -> None:
    ticket = stack.start_upload(samples.png_bytes(), "image/png")
    table_client = current_services().assets.record._get_connection().connection.client

    with aws_fails(table_client, "GetItem", code="ThrottlingException", status=400):
        response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")

    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "2"
    assert "Throttling" not in response.get_data(as_text=True)
