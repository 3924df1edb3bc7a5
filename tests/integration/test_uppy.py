"""Uppy's upload sessions and Companion's S3 contract against moto: every answer of every
route, what a session's token opens (one user's uploads, into one scope, until it ends)
and what it never does (another session's upload, the logs)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pydantic
import pytest
import requests
from werkzeug.test import TestResponse

from infra.local.config import LocalConfig
from infra.local.events import http_api_event
from infra.routes import UPPY_PREFIX
from mediaport.adapters import storage
from mediaport.api.uppy import hide_session_token
from mediaport.config import Settings, get_settings
from mediaport.observability import logger
from mediaport.services import current_services
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.faults import aws_fails
from tests.integration.test_multipart import mp4_of, uploads_in_progress
from tests.integration.test_processing import deliver, receive_all

MIB = 1024 * 1024
SESSIONS_TABLE = LocalConfig().session_table_name
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Session:
    """An open session as its holder has it: the endpoint and the token in it."""

    endpoint: str
    token: str

    @property
    def path(self) -> str:
        return urlsplit(self.endpoint).path


def open_session(stack: Stack, user: str = "alice", **body: Any) -> Session:
    body.setdefault("scope", "GENERIC")
    response = stack.call("POST", "/uploads/sessions", user=user, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    endpoint = response.get_json()["companionEndpoint"]
    return Session(endpoint=endpoint, token=endpoint.rsplit("/", 1)[1])


def companion(
    stack: Stack, session: Session | str, method: str, path: str, **kwargs: Any
) -> TestResponse:
    """A Companion call as Uppy makes it: no Authorization header, the session in the URL."""
    prefix = session.path if isinstance(session, Session) else f"/uppy/{session}"
    return stack.call(method, f"{prefix}/s3{path}", user=None, **kwargs)


def params(
    stack: Stack,
    session: Session | str,
    filename: str = "a.png",
    type: str = "image/png",
    headers: dict[str, str] | None = None,
    **query: str,
) -> TestResponse:
    return companion(
        stack,
        session,
        "GET",
        "/params",
        query_string={"filename": filename, "type": type, **query},
        headers=headers or {},
    )


def start(stack: Stack, session: Session | str, **body: Any) -> TestResponse:
    body.setdefault("filename", "ride.mp4")
    body.setdefault("type", "video/mp4")
    body.setdefault("metadata", {"name": body["filename"], "type": body["type"]})
    return companion(stack, session, "POST", "/multipart", json=body)


def started(stack: Stack, session: Session, **body: Any) -> dict[str, str]:
    response = start(stack, session, **body)
    assert response.status_code == 200, response.get_data(as_text=True)
    upload: dict[str, str] = response.get_json()
    return upload


def sign(stack: Stack, session: Session | str, upload: dict[str, str], number: int) -> TestResponse:
    return companion(
        stack,
        session,
        "GET",
        f"/multipart/{upload['uploadId']}/{number}",
        query_string={"key": upload["key"]},
    )


def list_parts(stack: Stack, session: Session | str, upload: dict[str, str]) -> TestResponse:
    return companion(
        stack,
        session,
        "GET",
        f"/multipart/{upload['uploadId']}",
        query_string={"key": upload["key"]},
    )


def complete(
    stack: Stack, session: Session | str, upload: dict[str, str], parts: list[dict[str, Any]]
) -> TestResponse:
    return companion(
        stack,
        session,
        "POST",
        f"/multipart/{upload['uploadId']}/complete",
        query_string={"key": upload["key"]},
        json={"parts": parts},
    )


def abort(stack: Stack, session: Session | str, upload: dict[str, str]) -> TestResponse:
    return companion(
        stack,
        session,
        "DELETE",
        f"/multipart/{upload['uploadId']}",
        query_string={"key": upload["key"]},
    )


def put_part(
    stack: Stack, session: Session, upload: dict[str, str], number: int, data: bytes
) -> dict[str, Any]:
    """Sign and PUT one part, as Uppy does; the part as Uppy lists it for complete."""
    signed = sign(stack, session, upload, number)
    assert signed.status_code == 200, signed.get_data(as_text=True)
    response = requests.put(signed.get_json()["url"], data=data, timeout=30)
    assert response.ok, response.text
    return {"PartNumber": number, "ETag": response.headers["ETag"].strip('"')}


def asset_id_of(key: str) -> str:
    return key.split("/")[2]


def session_item(stack: Stack, session: Session) -> dict[str, Any]:
    key = {"sessionId": hashlib.sha256(session.token.encode()).hexdigest()}
    item: dict[str, Any] = stack.dynamodb.Table(SESSIONS_TABLE).get_item(Key=key)["Item"]
    return item


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert response.mimetype == PROBLEM_JSON, body
    problem: dict[str, Any] = response.get_json()
    assert problem["status"] == status
    return problem


# --- sessions ------------------------------------------------------------------------


def test_a_session_is_a_capability_url_stored_under_its_tokens_hash(stack: Stack) -> None:
    before = datetime.now(UTC)
    response = stack.call(
        "POST", "/uploads/sessions", json={"scope": "POST_ATTACHMENT", "folder": "/trips/2026/"}
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"companionEndpoint", "expiresAt"}
    session = Session(body["companionEndpoint"], body["companionEndpoint"].rsplit("/", 1)[1])
    assert session.endpoint == f"http://localhost/uppy/{session.token}"
    # secrets.token_urlsafe(32): 256 random bits.
    assert len(base64.urlsafe_b64decode(session.token + "=")) == 32
    expires = datetime.fromisoformat(body["expiresAt"])
    assert timedelta(minutes=59) < expires - before <= timedelta(hours=1, seconds=5)
    item = session_item(stack, session)
    assert item["userId"] == "alice"
    assert item["scope"] == "POST_ATTACHMENT"
    assert item["folder"] == "trips/2026"
    assert item["revoked"] is False
    assert int(item["expiresAt"]) == int(expires.timestamp())
    assert "createdAt" in item
    # Only the hash is stored: the token is nowhere in the table.
    assert session.token not in json.dumps(
        stack.dynamodb.Table(SESSIONS_TABLE).scan()["Items"], default=str
    )


def test_the_endpoint_is_the_api_url_the_request_came_to(stack: Stack) -> None:
    behind_api_gateway = stack.call(
        "POST",
        "/uploads/sessions",
        json={"scope": "GENERIC"},
        headers={
            "Host": "abc123.execute-api.eu-west-1.amazonaws.com",
            "X-Forwarded-Proto": "https",
        },
    )
    on_loopback = stack.call(
        "POST", "/uploads/sessions", json={"scope": "GENERIC"}, headers={"Host": "127.0.0.1:8000"}
    )

    endpoint = behind_api_gateway.get_json()["companionEndpoint"]
    assert endpoint.startswith("https://abc123.execute-api.eu-west-1.amazonaws.com/uppy/")
    assert on_loopback.get_json()["companionEndpoint"].startswith("http://127.0.0.1:8000/uppy/")
    # The route table's prefix, with the token in place of {session}.
    assert UPPY_PREFIX.replace("{session}", "") == "/uppy/"


def test_a_session_lasts_the_configured_seconds_and_at_most_an_hour(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAPORT_UPLOAD_SESSION_SECONDS", "600")
    get_settings.cache_clear()

    session = open_session(stack)

    item = session_item(stack, session)
    created = datetime.fromisoformat(item["createdAt"].replace("+0000", "+00:00"))
    assert int(item["expiresAt"]) == int((created + timedelta(seconds=600)).timestamp())
    with pytest.raises(pydantic.ValidationError):
        Settings(table_name="assets", bucket_name="media", upload_session_seconds=3601)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "NO_SUCH_SCOPE"}, "scope"),
        ({}, "scope"),
        ({"scope": "GENERIC", "folder": "../etc"}, "folder"),
        ({"scope": "GENERIC", "folder": "a/" * 11}, "folder"),
    ],
)
def test_opening_a_session_for_an_unknown_scope_or_a_bad_folder_is_400(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(stack.call("POST", "/uploads/sessions", json=body), 400)

    assert [error["field"] for error in problem["errors"]] == [field]
    assert stack.dynamodb.Table(SESSIONS_TABLE).scan()["Items"] == []


def test_opening_a_session_without_a_bearer_token_is_401(stack: Stack) -> None:
    response = stack.call("POST", "/uploads/sessions", user=None, json={"scope": "GENERIC"})

    assert response.status_code == 401
    assert response.get_json() == {"message": "Unauthorized"}


def test_revoking_ends_the_session_at_once(stack: Stack) -> None:
    session = open_session(stack)
    upload = started(stack, session)

    revoked = stack.call("DELETE", f"/uploads/sessions/{session.token}")

    assert revoked.status_code == 204
    assert revoked.get_data() == b""
    assert session_item(stack, session)["revoked"] is True
    assert_problem(params(stack, session), 404)
    assert_problem(sign(stack, session, upload, 1), 404)
    # Revoked is over: revoking again finds no active session.
    assert_problem(stack.call("DELETE", f"/uploads/sessions/{session.token}"), 404)


def test_only_its_owner_can_revoke_a_session(stack: Stack) -> None:
    session = open_session(stack, user="alice")

    response = stack.call("DELETE", f"/uploads/sessions/{session.token}", user="bob")

    assert_problem(response, 404)
    assert session_item(stack, session)["revoked"] is False
    assert params(stack, session).status_code == 200


def test_revoking_an_unknown_or_expired_session_is_404(stack: Stack) -> None:
    expired = open_session(stack)
    stack.dynamodb.Table(SESSIONS_TABLE).update_item(
        Key={"sessionId": hashlib.sha256(expired.token.encode()).hexdigest()},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": int(datetime.now(UTC).timestamp()) - 1},
    )

    assert_problem(stack.call("DELETE", "/uploads/sessions/not-a-session"), 404)
    assert_problem(stack.call("DELETE", f"/uploads/sessions/{expired.token}"), 404)


def test_a_session_table_outage_is_503_with_retry_after(stack: Stack) -> None:
    session = open_session(stack)
    sessions = current_services().sessions
    assert sessions is not None
    client = sessions.record._get_connection().connection.client

    with aws_fails(client, "GetItem", code="ThrottlingException", status=400):
        checked = params(stack, session)
    with aws_fails(client, "PutItem", code="InternalServerError", status=500):
        opened = stack.call("POST", "/uploads/sessions", json={"scope": "GENERIC"})

    for response in (checked, opened):
        assert_problem(response, 503)
        assert response.headers["Retry-After"] == "2"


# --- CORS: what Uppy sends from the app's origin -----------------------------------------


def test_the_companion_routes_answer_cors_for_what_uppy_sends(stack: Stack) -> None:
    session = open_session(stack)
    origin = LocalConfig().origins[0]

    # A JSON POST (and the DELETE of an abort) is preflighted; a GET is not.
    preflights = [
        stack.call(
            "OPTIONS",
            f"{session.path}/s3/multipart{path}",
            user=None,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type",
            },
        )
        for method, path in (("POST", ""), ("POST", "/id/complete"), ("DELETE", "/id"))
    ]
    simple = params(stack, session, headers={"Origin": origin})

    for preflight, method in zip(preflights, ("POST", "POST", "DELETE"), strict=True):
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
        assert method in preflight.headers["Access-Control-Allow-Methods"].split(",")
        assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].split(",")
    assert simple.status_code == 200
    assert simple.headers["Access-Control-Allow-Origin"] == origin


# --- a single request: GET /s3/params --------------------------------------------------


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return document


def test_params_answers_a_post_policy_for_a_new_pending_asset(stack: Stack) -> None:
    session = open_session(stack, scope="PROFILE_AVATAR", folder="me")

    response = params(stack, session, filename="my face.PNG", type="Image/PNG")

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["method"] == "POST"
    fields = body["fields"]
    key = fields["key"]
    assert key.startswith("media/alice/")
    assert key.endswith("/my-face.png")
    assert fields["success_action_status"] == "201"
    assert fields["Content-Type"] == "image/png"
    conditions = policy_of(fields)["conditions"]
    # No size was declared: the scope's maximum (2 MiB) bounds it.
    assert ["content-length-range", 1, 2 * MIB] in conditions
    assert {"success_action_status": "201"} in conditions
    assert {"key": key} in conditions
    item = stack.asset_item(asset_id_of(key))
    assert item["status"] == "PENDING"
    assert item["scope"] == "PROFILE_AVATAR"
    assert item["folder"] == "me"
    assert "declaredSize" not in item
    assert item["uploadSession"] == hashlib.sha256(session.token.encode()).hexdigest()
    assert "uploadId" not in item


def test_a_post_upload_is_settled_by_the_s3_event(stack: Stack) -> None:
    session = open_session(stack)
    data = samples.png_bytes()
    post = params(stack, session, filename="a.png", type="image/png").get_json()

    # What Uppy sends: the fields, then the file, to the url; nothing after it.
    form = requests.post(
        post["url"], data=post["fields"], files={"file": ("a.png", data)}, timeout=30
    )
    # (moto in-process hands success_action_status back as text.)
    assert int(form.status_code) == 201, form.text
    assert deliver(stack, receive_all(stack)) == []

    asset = stack.call("GET", f"/media/{asset_id_of(post['fields']['key'])}").get_json()
    assert asset["status"] == "READY"
    assert asset["size"] == len(data)
    assert asset["declaredSize"] is None


def test_a_file_over_the_scopes_maximum_is_rejected_at_verification(stack: Stack) -> None:
    # moto enforces no POST policy: verification is the guard it must be.
    session = open_session(stack, scope="PROFILE_AVATAR")
    post = params(stack, session, filename="big.png", type="image/png").get_json()
    data = samples.png_bytes() + b"\0" * (2 * MIB)

    requests.post(post["url"], data=post["fields"], files={"file": data}, timeout=30)
    deliver(stack, receive_all(stack))

    item = stack.asset_item(asset_id_of(post["fields"]["key"]))
    assert item["status"] == "REJECTED"
    assert item["rejectReason"] == "TOO_LARGE"


def test_metadata_sets_alt_text_caption_and_tags_and_nothing_else(stack: Stack) -> None:
    session = open_session(stack, scope="PROFILE_AVATAR")

    response = params(
        stack,
        session,
        **{
            "metadata[altText]": "A red square",
            "metadata[caption]": "Taken in 2026",
            "metadata[tags]": "Red, square,red",
            "metadata[name]": "a.png",
            "metadata[scope]": "GENERIC",
            "metadata[folder]": "elsewhere",
            "metadata[userId]": "bob",
            "metadata[declaredSize]": "1",
        },
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    item = stack.asset_item(asset_id_of(response.get_json()["fields"]["key"]))
    assert item["altText"] == "A red square"
    assert item["caption"] == "Taken in 2026"
    assert item["tags"] == ["red", "square"]
    assert (item["userId"], item["scope"]) == ("alice", "PROFILE_AVATAR")
    assert "folder" not in item
    assert "declaredSize" not in item


@pytest.mark.parametrize(
    ("tags", "stored"),
    [
        ('["Trips", "alps"]', ["trips", "alps"]),
        ("trips,alps", ["trips", "alps"]),
        ("trips, ,alps,", ["trips", "alps"]),
        ("", None),
    ],
)
def test_tags_may_come_as_a_json_array_or_a_comma_list(
    stack: Stack, tags: str, stored: list[str] | None
) -> None:
    session = open_session(stack)

    single = params(stack, session, **{"metadata[tags]": tags})
    multipart = start(stack, session, metadata={"tags": tags})
    listed = start(stack, session, metadata={"tags": ["Trips", "alps"]})

    for response in (single, multipart):
        key = (response.get_json().get("fields") or response.get_json())["key"]
        assert stack.asset_item(asset_id_of(key)).get("tags") == stored
    assert stack.asset_item(asset_id_of(listed.get_json()["key"]))["tags"] == ["trips", "alps"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"type": "text/html"}, "type"),
        ({"type": "video/mp4"}, "contentType"),  # not in PROFILE_AVATAR
        ({"filename": "..."}, "filename"),
        ({"metadata[tags]": ",".join(f"t{n}" for n in range(21))}, "metadata[tags]"),
        ({"metadata[tags]": '["a", 1]'}, "metadata[tags]"),
        ({"metadata[tags]": "[not json"}, "metadata[tags]"),
        ({"metadata[altText]": "x" * 501}, "metadata[altText]"),
        ({"metadata[caption]": "bell\x07"}, "metadata[caption]"),
    ],
)
def test_a_file_the_session_cannot_take_is_400_and_starts_nothing(
    stack: Stack, query: dict[str, str], field: str
) -> None:
    session = open_session(stack, scope="PROFILE_AVATAR")

    problem = assert_problem(params(stack, session, **query), 400)

    assert field in [error["field"] for error in problem["errors"]]
    assert stack.dynamodb.Table(stack.table).scan()["Items"] == []


def test_params_without_a_filename_or_type_is_400(stack: Stack) -> None:
    session = open_session(stack)

    response = companion(stack, session, "GET", "/params", query_string={"filename": "a.png"})

    problem = assert_problem(response, 400)
    assert [error["field"] for error in problem["errors"]] == ["type"]


# --- multipart -------------------------------------------------------------------------


def test_start_records_a_pending_asset_with_its_upload_and_no_declared_size(stack: Stack) -> None:
    session = open_session(stack, folder="rides")

    upload = started(stack, session, filename="ride.mp4", type="video/mp4")

    assert set(upload) == {"uploadId", "key"}
    item = stack.asset_item(asset_id_of(upload["key"]))
    assert item["status"] == "PENDING"
    assert item["uploadId"] == upload["uploadId"]
    assert item["key"] == upload["key"]
    assert item["folder"] == "rides"
    assert "declaredSize" not in item
    assert "partCount" not in item
    assert upload["uploadId"] in uploads_in_progress(stack)


def test_a_file_in_parts_is_listed_then_completed_ready(stack: Stack) -> None:
    session = open_session(stack)
    data = mp4_of(7 * MIB)
    upload = started(stack, session)
    first = put_part(stack, session, upload, 1, data[: 5 * MIB])

    listed = list_parts(stack, session, upload)

    assert listed.status_code == 200
    assert listed.get_json() == [{"PartNumber": 1, "ETag": first["ETag"], "Size": 5 * MIB}]
    second = put_part(stack, session, upload, 2, data[5 * MIB :])
    # Uppy adds nothing else; a field it might is ignored.
    response = complete(stack, session, upload, [first, {**second, "Size": 2 * MIB}])

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "location": f"https://{stack.bucket}.s3.amazonaws.com/{upload['key']}",
        "key": upload["key"],
        "bucket": stack.bucket,
    }
    asset = stack.call("GET", f"/media/{asset_id_of(upload['key'])}").get_json()
    assert (asset["status"], asset["size"], asset["mimeType"]) == ("READY", 7 * MIB, "video/mp4")
    assert stack.s3.get_object(Bucket=stack.bucket, Key=upload["key"])["Body"].read() == data
    assert uploads_in_progress(stack) == []


def test_completing_bytes_that_fail_verification_is_422_and_rejects_the_asset(
    stack: Stack,
) -> None:
    session = open_session(stack)
    upload = started(stack, session, filename="ride.mp4", type="video/mp4")
    part = put_part(stack, session, upload, 1, samples.PDF_BYTES)

    problem = assert_problem(complete(stack, session, upload, [part]), 422)

    assert problem["rejectReason"] == "TYPE_MISMATCH"
    assert stack.asset_item(asset_id_of(upload["key"]))["status"] == "REJECTED"
    assert not stack.object_exists(upload["key"])


def test_complete_with_a_wrong_etag_is_400_and_the_upload_goes_on(stack: Stack) -> None:
    session = open_session(stack)
    upload = started(stack, session)
    put_part(stack, session, upload, 1, mp4_of(1024))

    response = complete(stack, session, upload, [{"PartNumber": 1, "ETag": "0" * 32}])

    assert_problem(response, 400)
    assert list_parts(stack, session, upload).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"parts": []}, {"parts": [{"PartNumber": 0, "ETag": "abc"}]}, {"parts": [{"ETag": "abc"}]}],
)
def test_complete_with_no_or_malformed_parts_is_400(stack: Stack, body: dict[str, Any]) -> None:
    session = open_session(stack)
    upload = started(stack, session)

    response = companion(
        stack,
        session,
        "POST",
        f"/multipart/{upload['uploadId']}/complete",
        query_string={"key": upload["key"]},
        json=body,
    )

    assert_problem(response, 400)


@pytest.mark.parametrize("number", ["0", "10001", "one"])
def test_a_part_number_outside_1_to_10000_is_400(stack: Stack, number: str) -> None:
    session = open_session(stack)
    upload = started(stack, session)

    response = companion(
        stack,
        session,
        "GET",
        f"/multipart/{upload['uploadId']}/{number}",
        query_string={"key": upload["key"]},
    )

    assert_problem(response, 400)


def test_a_route_naming_an_upload_without_its_key_is_400(stack: Stack) -> None:
    session = open_session(stack)
    upload = started(stack, session)

    response = companion(stack, session, "GET", f"/multipart/{upload['uploadId']}")

    problem = assert_problem(response, 400)
    assert [error["field"] for error in problem["errors"]] == ["key"]


def test_abort_frees_the_parts_and_rejects_the_asset_as_aborted(stack: Stack) -> None:
    session = open_session(stack)
    upload = started(stack, session)
    put_part(stack, session, upload, 1, mp4_of(1024))

    response = abort(stack, session, upload)

    assert response.status_code == 204
    item = stack.asset_item(asset_id_of(upload["key"]))
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "ABORTED")
    assert uploads_in_progress(stack) == []


def test_an_upload_storage_already_ended_is_409_and_its_asset_ends(stack: Stack) -> None:
    session = open_session(stack)
    upload = started(stack, session)
    # What the lifecycle rule does to a stale upload.
    stack.s3.abort_multipart_upload(
        Bucket=stack.bucket, Key=upload["key"], UploadId=upload["uploadId"]
    )

    assert_problem(list_parts(stack, session, upload), 409)
    item = stack.asset_item(asset_id_of(upload["key"]))
    assert (item["status"], item["rejectReason"]) == ("REJECTED", "ABORTED")


def test_once_an_upload_is_over_its_upload_id_names_nothing(stack: Stack) -> None:
    session = open_session(stack)
    upload = started(stack, session)
    part = put_part(stack, session, upload, 1, mp4_of(1024))
    assert complete(stack, session, upload, [part]).status_code == 200

    for response in (
        sign(stack, session, upload, 2),
        list_parts(stack, session, upload),
        complete(stack, session, upload, [part]),
        abort(stack, session, upload),
    ):
        assert_problem(response, 404)
    assert stack.asset_item(asset_id_of(upload["key"]))["status"] == "READY"


def test_a_storage_outage_is_503(stack: Stack) -> None:
    session = open_session(stack)
    with aws_fails(
        storage.s3_client(), "CreateMultipartUpload", code="ServiceUnavailable", status=503
    ):
        response = start(stack, session)

    assert_problem(response, 503)
    assert stack.dynamodb.Table(stack.table).scan()["Items"] == []


# --- what a token opens, and what it never does ----------------------------------------


OPERATIONS = ("sign", "list", "complete", "abort")


def operate(
    stack: Stack,
    operation: str,
    session: Session | str,
    upload: dict[str, str],
    part: dict[str, Any],
) -> TestResponse:
    if operation == "sign":
        return sign(stack, session, upload, 2)
    if operation == "list":
        return list_parts(stack, session, upload)
    if operation == "complete":
        return complete(stack, session, upload, [part])
    return abort(stack, session, upload)


@dataclass
class AlicesUpload:
    """Alice's upload in progress in her session: one part stored."""

    session: Session
    upload: dict[str, str]
    part: dict[str, Any]

    def assert_untouched(self, stack: Stack) -> None:
        item = stack.asset_item(asset_id_of(self.upload["key"]))
        assert item["status"] == "PENDING"
        assert item["uploadId"] == self.upload["uploadId"]
        parts = stack.s3.list_parts(
            Bucket=stack.bucket, Key=self.upload["key"], UploadId=self.upload["uploadId"]
        )["Parts"]
        assert [part["PartNumber"] for part in parts] == [1]


@pytest.fixture
def alices_upload(stack: Stack) -> AlicesUpload:
    session = open_session(stack, user="alice")
    upload = started(stack, session)
    part = put_part(stack, session, upload, 1, mp4_of(1024))
    return AlicesUpload(session, upload, part)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("holder", ["alice's other session", "bob's session"])
def test_another_sessions_upload_is_404_and_untouched(
    stack: Stack, alices_upload: AlicesUpload, operation: str, holder: str
) -> None:
    other = open_session(stack, user="alice" if holder.startswith("alice") else "bob")

    response = operate(stack, operation, other, alices_upload.upload, alices_upload.part)

    assert_problem(response, 404)
    alices_upload.assert_untouched(stack)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("mismatch", ["uploadId", "key", "both", "not a key"])
def test_a_key_and_upload_id_that_do_not_belong_together_are_404(
    stack: Stack, alices_upload: AlicesUpload, operation: str, mismatch: str
) -> None:
    session = alices_upload.session
    # Another upload of the same session: its key and its uploadId are real ones.
    second = started(stack, session)
    named = {
        "uploadId": {**alices_upload.upload, "uploadId": second["uploadId"]},
        "key": {**alices_upload.upload, "key": second["key"]},
        "both": {
            "uploadId": "made-up",
            "key": f"media/alice/{'0' * 8}-0000-0000-0000-{'0' * 12}/x",
        },
        "not a key": {**alices_upload.upload, "key": "derived/../../etc/passwd"},
    }[mismatch]

    response = operate(stack, operation, session, named, alices_upload.part)

    assert_problem(response, 404)
    alices_upload.assert_untouched(stack)
    assert stack.asset_item(asset_id_of(second["key"]))["status"] == "PENDING"


def _expire(stack: Stack, session: Session) -> None:
    stack.dynamodb.Table(SESSIONS_TABLE).update_item(
        Key={"sessionId": hashlib.sha256(session.token.encode()).hexdigest()},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": int(datetime.now(UTC).timestamp()) - 1},
    )


@pytest.mark.parametrize("route", ["params", "start", *OPERATIONS])
@pytest.mark.parametrize("token", ["wrong", "expired", "revoked", "bob's other"])
def test_a_wrong_expired_or_revoked_token_is_404_and_touches_nothing(
    stack: Stack, alices_upload: AlicesUpload, route: str, token: str
) -> None:
    session = alices_upload.session
    if token == "expired":
        _expire(stack, session)
        held: Session | str = session
    elif token == "revoked":
        assert stack.call("DELETE", f"/uploads/sessions/{session.token}").status_code == 204
        held = session
    elif token == "wrong":
        held = session.token[:-1] + ("A" if session.token[-1] != "A" else "B")
    else:
        held = open_session(stack, user="bob")
        stack.call("DELETE", f"/uploads/sessions/{held.token}", user="bob")
    assets_before = len(stack.dynamodb.Table(stack.table).scan()["Items"])

    if route == "params":
        response = params(stack, held)
    elif route == "start":
        response = start(stack, held)
    else:
        response = operate(stack, route, held, alices_upload.upload, alices_upload.part)

    problem = assert_problem(response, 404)
    assert problem["type"] == "urn:mediaport:problem:upload-session-not-found"
    alices_upload.assert_untouched(stack)
    assert len(stack.dynamodb.Table(stack.table).scan()["Items"]) == assets_before


# --- the token stays out of the logs ---------------------------------------------------


class EveryLine(logging.Handler):
    """Everything any logger writes: message, arguments, extra keys and tracebacks."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.text: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.text.append(repr(record.__dict__))
        self.text.append(record.getMessage())
        if record.exc_info:
            self.text.append("".join(traceback.format_exception(*record.exc_info)))
        if record.name == logger.name:
            self.text.append(logger.registered_formatter.format(record))


@pytest.fixture
def every_line() -> Iterator[EveryLine]:
    handler = EveryLine()
    # Powertools' own package logger keeps to itself unless POWERTOOLS_DEBUG is set: listen
    # to it as that setting would.
    loggers = [
        logging.getLogger(),
        logging.getLogger(logger.name),
        logging.getLogger("aws_lambda_powertools"),
    ]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.addHandler(handler)
        each.setLevel(logging.DEBUG)
    yield handler
    for each, level in zip(loggers, levels, strict=True):
        each.removeHandler(handler)
        each.setLevel(level)


def test_the_token_never_reaches_the_logs(stack: Stack, every_line: EveryLine) -> None:
    session = open_session(stack)
    upload = started(stack, session)
    part = put_part(stack, session, upload, 1, mp4_of(1024))
    list_parts(stack, session, upload)
    params(stack, session, type="text/html")  # a 400
    complete(stack, session, upload, [part])
    abort(stack, session, upload)  # a 404 once complete
    with aws_fails(
        storage.s3_client(),
        "CreateMultipartUpload",
        crash=RuntimeError("a bug of ours"),
    ):
        assert start(stack, session).status_code == 500  # logged with its traceback
    stack.call("DELETE", f"/uploads/sessions/{session.token}")
    params(stack, session)  # a 404

    logged = "\n".join(every_line.text)
    assert "Calling API Route Handler" in logged  # Powertools' own debug lines were captured
    assert "unhandled error" in logged
    assert session.token not in logged


def test_the_event_powertools_gets_holds_the_session_id_in_place_of_the_token() -> None:
    token = "Zq3-secret_token"
    event = http_api_event(
        method="GET",
        path=f"/uppy/{token}/s3/params",
        route_key=f"GET {UPPY_PREFIX}/s3/params",
        headers={"Host": "localhost"},
        query_string="filename=a.png&type=image%2Fpng",
        path_parameters={"session": token},
    )

    hidden = hide_session_token(event)

    session_id = hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(hidden)
    assert hidden["rawPath"] == f"/uppy/{session_id}/s3/params"
    assert hidden["requestContext"]["http"]["path"] == hidden["rawPath"]
    assert hidden["pathParameters"] == {"session": session_id}
    assert token in json.dumps(event)  # the caller's event is left as it was
