"""The authorization matrix: every route of the route table × every kind of caller.

What each caller gets follows from the route's declared ``Auth`` kind alone, so a new
route is covered the day it lands — once it has an example request below. A route with
no example, or with an auth kind this matrix does not know, fails: a route the harness
cannot reach is not done.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import jwt
import pytest
import requests
from werkzeug.test import TestResponse

from infra.local.lambdas import invoke
from infra.local.openapi import build_document
from infra.local.scanner import scan_result_event
from infra.local.tokens import DEV_SIGNING_KEY, dev_claims, issue_token
from infra.routes import ROUTES, Auth, Route
from mediaport import names
from tests import samples
from tests.integration.conftest import CONFIG, Stack
from tests.integration.test_direct_upload import form_data_request

OWNER, STRANGER, ADMIN = "alice", "bob", "root"
ANOTHER_KEY = "someone-elses-signing-key-of-32-bytes-or-more"
PROBLEM_JSON = "application/problem+json"
# What only an asset's owner reads (GET /media/{id}); never on a route anyone may read.
OWNER_PRIVATE_FIELDS = (
    "originalFilename",
    "rejectReason",
    "folder",
    "tags",
    "caption",
    "usageCount",
    "userId",
)


@dataclass(frozen=True)
class Example:
    """A request that the owner (or, on an admin route, an admin) is served."""

    path: str
    json: Any = None
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # A raw body (a multipart form) instead of ``json``; its Content-Type goes in headers.
    data: bytes | None = None


def _alices_uploaded_png(stack: Stack, **body: Any) -> str:
    ticket = stack.start_upload(
        samples.png_bytes(), "image/png", user=OWNER, filename="a.png", **body
    )
    return str(ticket["assetId"])


def _alices_ready_png(stack: Stack, **body: Any) -> str:
    asset_id = _alices_uploaded_png(stack, **body)
    response = stack.call("PATCH", f"/media/{asset_id}/confirm", user=OWNER)
    assert response.status_code == 204, response.get_data(as_text=True)
    return asset_id


def _alices_deleted_png(stack: Stack) -> str:
    asset_id = _alices_ready_png(stack)
    response = stack.call("DELETE", f"/media/{asset_id}", user=OWNER)
    assert response.status_code == 204, response.get_data(as_text=True)
    return asset_id


def _alices_folder(stack: Stack) -> str:
    # A name found nowhere else, so a body showing it shows Alice's folder.
    path = f"alices-{uuid.uuid4().hex[:8]}/empty"
    response = stack.call("POST", "/media/folders", user=OWNER, json={"path": path})
    assert response.status_code == 201, response.get_data(as_text=True)
    return path


def _alices_attached_png(stack: Stack, entity: str = "vehicle/v1") -> str:
    asset_id = _alices_ready_png(stack)
    response = stack.call("PUT", f"/media/{asset_id}/attachments/{entity}", user=OWNER)
    assert response.status_code == 201, response.get_data(as_text=True)
    return asset_id


def _alices_library(stack: Stack) -> None:
    """An (empty) folder of Alice's and a READY asset in another: what a listing, her
    folders or her usage would show."""
    _alices_folder(stack)
    _alices_ready_png(stack, folder=f"alices-{uuid.uuid4().hex[:8]}/photos")


def _with_private_fields(stack: Stack, asset_id: str) -> str:
    """The asset, given what only its owner reads, so a leak has values to find."""
    tag = uuid.uuid4().hex[:8]
    response = stack.call(
        "PATCH",
        f"/media/{asset_id}",
        user=OWNER,
        json={
            "folder": f"alices-{tag}/private",
            "tags": [f"alices-tag-{tag}"],
            "caption": f"Alice's private caption {tag}",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return asset_id


def _alices_vehicle(stack: Stack) -> Example:
    _with_private_fields(stack, _alices_attached_png(stack, "vehicle/v1"))
    return Example("/attachments/vehicle/v1")


def _alices_ready_avatar(stack: Stack) -> str:
    ticket = stack.start_upload(
        samples.png_bytes(), "image/png", user=OWNER, filename="me.png", scope="PROFILE_AVATAR"
    )
    response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm", user=OWNER)
    assert response.status_code == 204, response.get_data(as_text=True)
    return str(ticket["assetId"])


def _alices_avatar_is_set(stack: Stack) -> Example:
    avatar = _with_private_fields(stack, _alices_ready_avatar(stack))
    response = stack.call("PUT", "/me/avatar", user=OWNER, json={"assetId": avatar})
    assert response.status_code == 200, response.get_data(as_text=True)
    return Example(f"/users/{OWNER}/avatar")


def _alices_pending_asset(stack: Stack) -> str:
    response = stack.presign(user=OWNER, filename="a.jpg", contentType="image/jpeg", size=10)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["assetId"])


def _alices_multipart_upload(stack: Stack) -> str:
    response = stack.call(
        "POST",
        "/media/upload/multipart/initiate",
        user=OWNER,
        json={"filename": "a.pdf", "contentType": "application/pdf", "size": 6 * 1024 * 1024},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["assetId"])


def _alices_uploaded_parts(stack: Stack) -> Example:
    asset_id = _alices_multipart_upload(stack)
    signed = stack.call(
        "POST",
        "/media/upload/multipart/part",
        user=OWNER,
        json={"assetId": asset_id, "partNumbers": [1]},
    ).get_json()
    data = samples.PDF_BYTES + b"\0" * (6 * 1024 * 1024 - len(samples.PDF_BYTES))
    etag = requests.put(signed["urls"]["1"], data=data, timeout=30).headers["ETag"]
    return Example(
        "/media/upload/multipart/complete",
        json={"assetId": asset_id, "parts": [{"partNumber": 1, "etag": etag}]},
    )


def _alices_requested_variant(stack: Stack) -> str:
    asset_id = _alices_ready_png(stack)
    response = stack.call("POST", f"/media/{asset_id}/resize", user=OWNER, json={"width": 8})
    assert response.status_code == 202, response.get_data(as_text=True)
    return str(response.headers["Location"])


def _alices_quarantined_png(stack: Stack) -> str:
    """Alice's READY image, which GuardDuty's result (its event, its tag) quarantined."""
    asset_id = _alices_ready_png(stack)
    item = stack.asset_item(asset_id)
    stack.s3.put_object_tagging(
        Bucket=stack.bucket,
        Key=item["key"],
        Tagging={"TagSet": [{"Key": names.SCAN_TAG_KEY, "Value": names.SCAN_INFECTED_TAG_VALUE}]},
    )
    event = scan_result_event(
        bucket=stack.bucket,
        key=item["key"],
        etag=item["checksum"],
        result=names.SCAN_INFECTED_TAG_VALUE,
        region=CONFIG.region,
    )
    assert invoke("scan_result", event) == {"outcome": "QUARANTINED"}
    return asset_id


# One builder per route key: it sets up what the request names (alice's asset…) and
# returns the request. Add one with every new route.
EXAMPLES: dict[str, Callable[[Stack], Example]] = {
    "GET /health": lambda stack: Example("/health"),
    "POST /media/presign": lambda stack: Example(
        "/media/presign", json={"filename": "a.png", "contentType": "image/png", "size": 120}
    ),
    "PATCH /media/{id}/confirm": lambda stack: Example(
        f"/media/{_alices_uploaded_png(stack)}/confirm"
    ),
    "GET /media": lambda stack: _a_listing_while_alice_has_an_asset(stack),
    "GET /media/{id}": lambda stack: Example(f"/media/{_alices_pending_asset(stack)}"),
    # --- the library ---
    "PATCH /media/{id}": lambda stack: Example(
        f"/media/{_alices_pending_asset(stack)}", json={"altText": "a cat", "tags": ["Cats"]}
    ),
    "DELETE /media/{id}": lambda stack: Example(f"/media/{_alices_ready_png(stack)}"),
    "POST /media/{id}/restore": lambda stack: Example(
        f"/media/{_alices_deleted_png(stack)}/restore"
    ),
    "POST /media/{id}/move": lambda stack: Example(
        f"/media/{_alices_pending_asset(stack)}/move", json={"folder": "trips/2026"}
    ),
    "GET /media/{id}/download": lambda stack: Example(
        f"/media/{_alices_ready_png(stack)}/download", headers={"Accept": "application/json"}
    ),
    "GET /media/folders": lambda stack: _while_alice_has_a_library(stack, "/media/folders"),
    "POST /media/folders": lambda stack: Example(
        "/media/folders", json={"path": f"trips/{uuid.uuid4().hex[:8]}"}
    ),
    "DELETE /media/folders/{folderName}": lambda stack: Example(
        f"/media/folders/{quote(_alices_folder(stack), safe='')}"
    ),
    # --- attachments (an entity's media and a user's avatar are anyone's to read) ---
    "PUT /media/{id}/attachments/{entityType}/{entityId}": lambda stack: Example(
        f"/media/{_alices_ready_png(stack)}/attachments/vehicle/v1", json={"role": "cover"}
    ),
    "DELETE /media/{id}/attachments/{entityType}/{entityId}": lambda stack: Example(
        f"/media/{_alices_attached_png(stack)}/attachments/vehicle/v1"
    ),
    "GET /attachments/{entityType}/{entityId}": lambda stack: _alices_vehicle(stack),
    "PUT /me/avatar": lambda stack: Example(
        "/me/avatar", json={"assetId": _alices_ready_avatar(stack)}
    ),
    "GET /users/{userId}/avatar": _alices_avatar_is_set,
    # --- image operations on demand ---
    "GET /media/{id}/variants": lambda stack: Example(
        f"/media/{_alices_ready_png(stack)}/variants"
    ),
    "GET /media/{id}/variants/{name}": lambda stack: Example(_alices_requested_variant(stack)),
    "POST /media/{id}/resize": lambda stack: Example(
        f"/media/{_alices_ready_png(stack)}/resize", json={"width": 16, "fit": "inside"}
    ),
    "POST /media/{id}/crop": lambda stack: Example(
        f"/media/{_alices_ready_png(stack)}/crop", json={"x": 0, "y": 0, "width": 8, "height": 8}
    ),
    "POST /media/{id}/optimize": lambda stack: Example(
        f"/media/{_alices_ready_png(stack)}/optimize", json={"quality": 70}
    ),
    # --- malware scanning: the admin's view ---
    "GET /admin/media/quarantined": lambda stack: (
        _alices_quarantined_png(stack) and Example("/admin/media/quarantined")
    ),
    "POST /admin/media/{id}/release": lambda stack: Example(
        f"/admin/media/{_alices_quarantined_png(stack)}/release",
        json={"reason": "reviewed: a false positive"},
    ),
    # --- usage ---
    "GET /media/usage": lambda stack: _while_alice_has_a_library(stack, "/media/usage"),
    "GET /media/usage/breakdown": lambda stack: _while_alice_has_a_library(
        stack, "/media/usage/breakdown"
    ),
    # --- direct upload (POST /media/upload) ---
    "POST /media/upload": lambda stack: Example(
        "/media/upload", **form_data_request(("a.png", samples.png_bytes(), "image/png"))
    ),
    # --- multipart ---
    "POST /media/upload/multipart/initiate": lambda stack: Example(
        "/media/upload/multipart/initiate",
        json={"filename": "a.mp4", "contentType": "video/mp4", "size": 6 * 1024 * 1024},
    ),
    "POST /media/upload/multipart/part": lambda stack: Example(
        "/media/upload/multipart/part",
        json={"assetId": _alices_multipart_upload(stack), "partNumbers": [1]},
    ),
    "GET /media/upload/multipart/{id}/parts": lambda stack: Example(
        f"/media/upload/multipart/{_alices_multipart_upload(stack)}/parts"
    ),
    "POST /media/upload/multipart/complete": lambda stack: _alices_uploaded_parts(stack),
    "POST /media/upload/multipart/abort": lambda stack: Example(
        "/media/upload/multipart/abort", json={"assetId": _alices_multipart_upload(stack)}
    ),
    # --- uppy sessions and the Companion contract ---
    "POST /uploads/sessions": lambda stack: Example("/uploads/sessions", json={"scope": "GENERIC"}),
    "DELETE /uploads/sessions/{token}": lambda stack: Example(
        f"/uploads/sessions/{_alices_session(stack)}"
    ),
    "GET /uppy/{session}/s3/params": lambda stack: Example(
        f"/uppy/{_alices_session(stack)}/s3/params", query_string="filename=a.png&type=image/png"
    ),
    "POST /uppy/{session}/s3/multipart": lambda stack: Example(
        f"/uppy/{_alices_session(stack)}/s3/multipart",
        json={"filename": "a.mp4", "type": "video/mp4", "metadata": {"name": "a.mp4"}},
    ),
    "GET /uppy/{session}/s3/multipart/{uploadId}/{partNumber}": lambda stack: _alices_uppy_upload(
        stack, "/1"
    ),
    "GET /uppy/{session}/s3/multipart/{uploadId}": lambda stack: _alices_uppy_upload(stack),
    "POST /uppy/{session}/s3/multipart/{uploadId}/complete": lambda stack: _alices_uppy_upload(
        stack, "/complete", with_a_part=True
    ),
    "DELETE /uppy/{session}/s3/multipart/{uploadId}": lambda stack: _alices_uppy_upload(stack),
}


def _alices_session(stack: Stack) -> str:
    """The token of a new upload session of Alice's (the last segment of its endpoint)."""
    response = stack.call("POST", "/uploads/sessions", user=OWNER, json={"scope": "GENERIC"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["companionEndpoint"]).rsplit("/", 1)[1]


def _alices_uppy_upload(stack: Stack, suffix: str = "", with_a_part: bool = False) -> Example:
    """A request naming Alice's multipart upload through her session (the session is the
    capability: the Authorization header plays no part)."""
    prefix = f"/uppy/{_alices_session(stack)}/s3/multipart"
    upload = stack.call(
        "POST", prefix, user=None, json={"filename": "a.pdf", "type": "application/pdf"}
    ).get_json()
    path = f"{prefix}/{upload['uploadId']}"
    query = urlencode({"key": upload["key"]})
    if not with_a_part:
        return Example(f"{path}{suffix}", query_string=query)
    url = stack.call("GET", f"{path}/1", user=None, query_string=query).get_json()["url"]
    etag = requests.put(url, data=samples.PDF_BYTES, timeout=30).headers["ETag"]
    return Example(
        f"{path}{suffix}", query_string=query, json={"parts": [{"PartNumber": 1, "ETag": etag}]}
    )


def _a_listing_while_alice_has_an_asset(stack: Stack) -> Example:
    # Served to anyone but Alice, the listing must not show her assets.
    _alices_pending_asset(stack)
    return _while_alice_has_a_library(stack, "/media", query_string="limit=5")


def _while_alice_has_a_library(stack: Stack, path: str, query_string: str = "") -> Example:
    # Served to anyone but Alice, a route about the caller's own things must show none of
    # hers: her folders, her assets, her usage.
    _alices_library(stack)
    return Example(path, query_string=query_string)


def _signed(claims: dict[str, Any], key: str = DEV_SIGNING_KEY) -> str:
    return f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"


def _expired() -> str:
    an_hour_ago = int(time.time()) - 3600
    claims = dev_claims(OWNER)
    claims.update(iat=an_hour_ago, nbf=an_hour_ago, exp=an_hour_ago + 60)
    return _signed(claims)


def _for_another_audience() -> str:
    claims = dev_claims(OWNER)
    claims.update(aud="another-app", client_id="another-app")
    return _signed(claims)


# The Authorization header of each kind of caller.
REFUSED_BY_THE_AUTHORIZER: dict[str, Callable[[], str | None]] = {
    "no token": lambda: None,
    "malformed token": lambda: "Bearer not-a-jwt",
    "wrong signature": lambda: _signed(dev_claims(OWNER), ANOTHER_KEY),
    "expired token": _expired,
    "wrong audience": _for_another_audience,
}
CALLERS: dict[str, Callable[[], str | None]] = {
    **REFUSED_BY_THE_AUTHORIZER,
    "owner": lambda: f"Bearer {issue_token(OWNER)}",
    "another user": lambda: f"Bearer {issue_token(STRANGER)}",
    "admin": lambda: f"Bearer {issue_token(ADMIN, admin=True)}",
}

SERVED = "served"
UNAUTHORIZED = "API Gateway's 401"


def expected_answer(route: Route, caller: str) -> str | int:
    """What ``caller`` gets from ``route``, from nothing but the route's declaration."""
    if route.auth is Auth.PUBLIC:
        return SERVED
    if route.auth is Auth.USER:
        if caller in REFUSED_BY_THE_AUTHORIZER:
            return UNAUTHORIZED
        if caller == "owner":
            return SERVED
        # Another user, and an admin too: on a user route an admin is just another user.
        return route.not_owner_status or SERVED
    if route.auth is Auth.ANY_USER:
        # What the host app shows all its users: every signed-in caller is served alike.
        return UNAUTHORIZED if caller in REFUSED_BY_THE_AUTHORIZER else SERVED
    if route.auth is Auth.ADMIN:
        if caller in REFUSED_BY_THE_AUTHORIZER:
            return UNAUTHORIZED
        return SERVED if caller == "admin" else 403
    if route.auth is Auth.SESSION:
        # The capability is the session token in the path (the example opens one for the
        # owner); API Gateway checks no header, and the function ignores it.
        return SERVED
    pytest.fail(f"{route.route_key}: the matrix does not know auth kind {route.auth!r}")


def _assets_of(stack: Stack, user: str) -> list[str]:
    items = stack.dynamodb.Table(stack.table).scan()["Items"]
    return [str(item["assetId"]) for item in items if item["userId"] == user]


def _folders_of(stack: Stack, user: str) -> list[str]:
    table = stack.dynamodb.Table(CONFIG.folder_table_name)
    return [str(item["path"]) for item in table.scan()["Items"] if item["userId"] == user]


def _private_values_of(stack: Stack, user: str) -> list[str]:
    """What only the user reads of their assets: folders, tags, captions."""
    values: list[str] = []
    for item in stack.dynamodb.Table(stack.table).scan()["Items"]:
        if item["userId"] == user:
            values += [str(item[name]) for name in ("folder", "caption") if item.get(name)]
            values += [str(tag) for tag in item.get("tags", ())]
    return values


def _stored_counts(payload: Any) -> Iterator[tuple[str, Any]]:
    """Every count of stored bytes or files in a JSON payload, however deep."""
    if isinstance(payload, dict):
        for name, value in payload.items():
            if name in ("totalBytes", "totalFiles", "bytes", "files"):
                yield name, value
            else:
                yield from _stored_counts(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from _stored_counts(value)


def _everything_stored(stack: Stack) -> dict[str, Any]:
    """Every item of every table of the stack, and every object (with its tags) and
    unfinished multipart upload in the bucket."""
    client = stack.dynamodb.meta.client
    tables = {
        name: sorted(
            (
                item
                for page in client.get_paginator("scan").paginate(TableName=name)
                for item in page["Items"]
            ),
            key=repr,
        )
        for name in client.list_tables()["TableNames"]
    }
    objects = [
        (
            found["Key"],
            found["ETag"],
            found["Size"],
            found["LastModified"],
            stack.s3.get_object_tagging(Bucket=stack.bucket, Key=found["Key"])["TagSet"],
        )
        for page in stack.s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket)
        for found in page.get("Contents", ())
    ]
    uploads = stack.s3.list_multipart_uploads(Bucket=stack.bucket).get("Uploads", [])
    return {
        "tables": tables,
        "objects": objects,
        "multipart uploads": sorted((u["Key"], u["UploadId"]) for u in uploads),
    }


def _assert_nothing_of_the_owners_shown(
    stack: Stack, route: Route, caller: str, example: Example, response: TestResponse
) -> None:
    """Served to ``caller``, not the owner: nothing of the owner's may be in the answer
    but what the route shares with every signed-in user."""
    body = response.get_data(as_text=True)
    for path in _folders_of(stack, OWNER):
        assert path not in body, f"{caller} was shown {OWNER}'s folder {path!r}"
    if route.auth is Auth.ANY_USER:
        # Served to anyone: what the owner shared, and none of their private fields.
        for private in OWNER_PRIVATE_FIELDS:
            assert f'"{private}"' not in body, f"{caller} was shown {OWNER}'s {private}"
        private_values = _private_values_of(stack, OWNER)
        assert private_values, "give the shared asset a folder, tags and a caption"
        for value in private_values:
            assert value not in body, f"{caller} was shown {OWNER}'s private {value!r}"
        # …and the same things as the owner.
        owners = stack.client.open(
            example.path,
            method=route.method,
            headers={**example.headers, "Authorization": CALLERS["owner"]()},
            json=example.json,
            data=example.data,
            query_string=example.query_string,
        )
        assert owners.status_code == response.status_code, owners.get_data(as_text=True)
        shared = {a for a in _assets_of(stack, OWNER) if a in owners.get_data(as_text=True)}
        assert shared, f"{OWNER} was shown none of her assets: the example shares nothing"
        shown = {a for a in _assets_of(stack, OWNER) if a in body}
        assert shown == shared, f"{caller} was not shown what {OWNER} is"
    else:
        # Served to someone else: nothing of the owner's may be in it. (On a session
        # route the path, not the header, says whose uploads these are.)
        for asset_id in _assets_of(stack, OWNER):
            assert asset_id not in body, f"{caller} was shown {OWNER}'s asset {asset_id}"
        # The caller has stored nothing: every count they are shown is their own, zero.
        for name, count in _stored_counts(response.get_json()):
            assert count == 0, f"{caller} was shown {OWNER}'s usage ({name}: {count})"


@functools.cache
def _success_statuses(route: Route) -> frozenset[int]:
    responses = build_document()["paths"][route.path][route.method.lower()]["responses"]
    successes = frozenset(int(status) for status in responses if status.startswith("2"))
    assert successes, f"{route.route_key} documents no success"
    return successes


# The user routes that answer each caller about their own things and name nothing that
# could be someone else's. Every other user route names a resource (in its path or its
# body) and declares what a stranger gets for it.
NAMES_NOTHING_OWNED = frozenset(
    {
        "POST /media/presign",
        "GET /media",
        "GET /media/folders",
        "POST /media/folders",
        "GET /media/usage",
        "GET /media/usage/breakdown",
        "POST /media/upload",
        "POST /media/upload/multipart/initiate",
        "POST /uploads/sessions",
    }
)
USER_ROUTES = [route for route in ROUTES if route.auth is Auth.USER]


def test_the_routes_naming_nothing_owned_are_user_routes() -> None:
    assert {route.route_key for route in USER_ROUTES} >= NAMES_NOTHING_OWNED


@pytest.mark.parametrize("route", USER_ROUTES, ids=[route.route_key for route in USER_ROUTES])
def test_a_route_naming_a_resource_says_what_a_stranger_gets(route: Route) -> None:
    # Without it the matrix would expect a stranger to be served: a missing ownership
    # check on a new route would pass unnoticed.
    assert (route.not_owner_status is None) == (route.route_key in NAMES_NOTHING_OWNED), (
        f"{route.route_key}: a route naming a resource declares not_owner_status (403 or "
        "404); one naming nothing owned is in NAMES_NOTHING_OWNED"
    )
    assert route.not_owner_status in (None, 403, 404)


def test_every_example_is_for_a_route_of_the_table() -> None:
    assert set(EXAMPLES) <= {route.route_key for route in ROUTES}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("route", ROUTES, ids=[route.route_key for route in ROUTES])
def test_each_caller_gets_what_the_route_declares(stack: Stack, route: Route, caller: str) -> None:
    build_example = EXAMPLES.get(route.route_key)
    if build_example is None:
        pytest.fail(
            f"A route the harness cannot reach is not done: add an example request for "
            f"{route.route_key!r} to EXAMPLES in {__name__}"
        )
    expected = expected_answer(route, caller)
    example = build_example(stack)
    headers = dict(example.headers)
    if (authorization := CALLERS[caller]()) is not None:
        headers["Authorization"] = authorization

    # A refused request changes nothing: the tables and the bucket, item by item.
    before = _everything_stored(stack) if expected != SERVED else None

    response = stack.client.open(
        example.path,
        method=route.method,
        headers=headers,
        json=example.json,
        data=example.data,
        query_string=example.query_string,
    )

    body = response.get_data(as_text=True)
    if expected == SERVED:
        assert response.status_code in _success_statuses(route), body
        if response.status_code != 204:
            assert response.mimetype == "application/json", body
        if caller != "owner" and route.auth in (Auth.USER, Auth.ANY_USER):
            # (An admin route shows every user's things to an admin: that is its job.)
            _assert_nothing_of_the_owners_shown(stack, route, caller, example, response)
        return
    if expected == UNAUTHORIZED:
        assert response.status_code == 401, body
        assert response.mimetype == "application/json"
        assert response.get_json() == {"message": "Unauthorized"}
    else:
        assert response.status_code == expected, body
        assert response.mimetype == PROBLEM_JSON, body
        assert response.get_json()["status"] == expected
    # Refused: nothing stored changed.
    assert _everything_stored(stack) == before
