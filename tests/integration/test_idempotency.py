"""POST /media/presign with an Idempotency-Key: a retry answers the first ticket instead of
starting a second upload."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel
from werkzeug.test import TestResponse

from infra.local.lambdas import LocalLambdaContext
from mediaport import idempotency
from mediaport.config import get_settings
from mediaport.errors import IdempotencyKeyInProgress
from mediaport.names import ENV_IDEMPOTENCY_TABLE_NAME, IDEMPOTENCY_TTL_ATTRIBUTE
from tests.integration.conftest import Stack

PHOTO = {"filename": "holiday.jpg", "contentType": "image/jpeg", "size": 48_213}


@pytest.fixture
def idempotency_table(stack: Stack) -> Iterator[str]:
    """The idempotency table the local stack provisions, with stores built afresh per test
    (a store keeps its client, and each test has its own emulated account)."""
    idempotency.clear_stores()
    yield os.environ[ENV_IDEMPOTENCY_TABLE_NAME]
    idempotency.clear_stores()


def _presign(stack: Stack, key: str | None, user: str = "alice", **body: Any) -> TestResponse:
    headers = {} if key is None else {"Idempotency-Key": key}
    return stack.call("POST", "/media/presign", user=user, json=body or PHOTO, headers=headers)


def _assets_of(stack: Stack, user: str) -> list[dict[str, Any]]:
    items = stack.dynamodb.Table(stack.table).scan(ConsistentRead=True)["Items"]
    return [item for item in items if item["userId"] == user]


def _new_key() -> str:
    return str(uuid.uuid4())


def test_a_retried_presign_with_the_same_key_answers_the_same_ticket(
    stack: Stack, idempotency_table: str
) -> None:
    # Given a presign with a key
    key = _new_key()
    first = _presign(stack, key)
    assert first.status_code == 201, first.get_data(as_text=True)

    # When the client retries it, as after a lost response
    again = _presign(stack, key)

    # Then it gets the same ticket back, and only one asset exists
    assert again.status_code == 201, again.get_data(as_text=True)
    assert again.get_json()["assetId"] == first.get_json()["assetId"]
    assert again.get_json()["uploadUrl"] == first.get_json()["uploadUrl"]
    assert again.get_json() == first.get_json()
    assert [item["assetId"] for item in _assets_of(stack, "alice")] == [first.get_json()["assetId"]]


def test_another_user_with_the_same_key_gets_their_own_asset(
    stack: Stack, idempotency_table: str
) -> None:
    key = "checkout-1"
    alices = _presign(stack, key, user="alice")
    bobs = _presign(stack, key, user="bob")

    assert (alices.status_code, bobs.status_code) == (201, 201), bobs.get_data(as_text=True)
    assert alices.get_json()["assetId"] != bobs.get_json()["assetId"]
    assert bobs.get_json()["key"].startswith("media/bob/")
    assert len(_assets_of(stack, "alice")) == 1
    assert len(_assets_of(stack, "bob")) == 1


def test_the_same_key_with_a_different_body_answers_422(
    stack: Stack, idempotency_table: str
) -> None:
    key = _new_key()
    assert _presign(stack, key).status_code == 201

    response = _presign(stack, key, **{**PHOTO, "size": PHOTO["size"] + 1})

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "urn:mediaport:problem:idempotency-key-reused"
    assert problem["status"] == 422
    assert "Idempotency-Key" in problem["detail"]
    assert len(_assets_of(stack, "alice")) == 1


@pytest.mark.parametrize(
    "bad_key",
    ["", "two words", "x" * 256, "café"],
    ids=["empty", "space", "too-long", "non-ascii"],
)
def test_a_malformed_key_answers_400_naming_the_header(
    stack: Stack, idempotency_table: str, bad_key: str
) -> None:
    response = _presign(stack, bad_key)

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert [error["field"] for error in problem["errors"]] == ["Idempotency-Key"]
    assert _assets_of(stack, "alice") == []


def test_a_key_of_255_visible_characters_is_accepted(stack: Stack, idempotency_table: str) -> None:
    response = _presign(stack, '"' + "k~!" * 84 + '"')

    assert response.status_code == 201, response.get_data(as_text=True)


def test_without_a_key_two_presigns_make_two_assets(stack: Stack, idempotency_table: str) -> None:
    first = _presign(stack, None)
    second = _presign(stack, None)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["assetId"] != second.get_json()["assetId"]
    assert len(_assets_of(stack, "alice")) == 2


def test_a_refused_presign_leaves_its_key_free_for_the_corrected_request(
    stack: Stack, idempotency_table: str
) -> None:
    # Given a presign the scope refuses
    key = _new_key()
    refused = _presign(
        stack, key, **{**PHOTO, "contentType": "application/pdf", "scope": "PROFILE_AVATAR"}
    )
    assert refused.status_code == 400

    # When the client corrects the body and sends it with the same key
    corrected = _presign(stack, key, **{**PHOTO, "scope": "PROFILE_AVATAR"})

    # Then it is a new request, not a reuse of the key
    assert corrected.status_code == 201, corrected.get_data(as_text=True)
    assert len(_assets_of(stack, "alice")) == 1


def test_the_stored_ticket_expires_before_its_upload_url(
    stack: Stack, idempotency_table: str
) -> None:
    response = _presign(stack, _new_key())
    assert response.status_code == 201

    records = stack.dynamodb.Table(idempotency_table).scan(ConsistentRead=True)["Items"]

    assert len(records) == 1
    url_expiry = datetime.fromisoformat(response.get_json()["expiresAt"]).timestamp()
    record_expiry = int(records[0][IDEMPOTENCY_TTL_ATTRIBUTE])
    assert record_expiry <= url_expiry - idempotency.REPLAY_MARGIN_SECONDS + 1


def test_a_key_still_in_progress_answers_409(stack: Stack, idempotency_table: str) -> None:
    # Given a request whose work is still running (the second arrives from inside the first)
    class Payload(BaseModel):
        value: int

    def run(operation: Any) -> Payload:
        result: Payload = idempotency.run_once(
            operation,
            key="same",
            caller="alice",
            request=Payload(value=1),
            response_model=Payload,
            operation_name="test",
            table_name=idempotency_table,
            response_valid_seconds=900,
            lambda_context=LocalLambdaContext(function_name="mediaport-test"),
        )
        return result

    seen: list[Exception] = []

    def first() -> Payload:
        try:
            run(lambda: Payload(value=2))
        except IdempotencyKeyInProgress as error:
            seen.append(error)
        return Payload(value=1)

    # When the first finishes
    assert run(first) == Payload(value=1)

    # Then the second was answered 409, and a later repeat replays the first's response
    assert [error.status for error in seen] == [409]
    assert seen[0].to_problem()["type"] == "urn:mediaport:problem:idempotency-key-in-progress"
    assert run(lambda: Payload(value=3)) == Payload(value=1)


def test_without_an_idempotency_table_presign_fails_plainly_and_starts_nothing(
    stack: Stack,
    idempotency_table: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a deployment whose environment names no idempotency table
    monkeypatch.delenv(ENV_IDEMPOTENCY_TABLE_NAME)
    get_settings.cache_clear()

    # Then every presign fails the same way, key or not (not only once a retry needs the
    # key), and nothing is started; the log names the missing variable.
    for key in (_new_key(), None):
        response = _presign(stack, key)
        assert response.status_code == 500
        assert response.content_type == "application/problem+json"
    assert _assets_of(stack, "alice") == []
    assert any(
        getattr(record, "variable", None) == ENV_IDEMPOTENCY_TABLE_NAME for record in caplog.records
    )


def test_an_idempotency_table_that_refuses_requests_is_our_500_not_a_retry(
    stack: Stack, idempotency_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment names a table that does not exist (a wrong name, a missing grant):
    # DynamoDB refuses; retrying would never help.
    monkeypatch.setenv(ENV_IDEMPOTENCY_TABLE_NAME, "no-such-table")
    get_settings.cache_clear()

    response = _presign(stack, _new_key())

    assert response.status_code == 500
    assert response.get_json()["type"] == "urn:mediaport:problem:internal-error"
    assert "retry" not in response.get_json()["detail"].lower()
