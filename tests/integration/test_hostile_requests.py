"""Hostile request bodies and headers, for every route with a JSON body.

The routes and their fields come from the route table and the OpenAPI document, so a new
route with a body is covered the day it lands. Each request gets a 4xx: problem+json from
our functions, or API Gateway's own answer (``{"message": ...}``) where API Gateway refuses
it first. Never a 5xx.

What API Gateway (HTTP API) itself answers, and the local gateway imitates:
- request line + headers over 10,240 bytes → 431 ``{"message": "Request Header Fields Too Large"}``
- a body over 10 MB, or a Lambda event over Lambda's 6 MB → 413
  ``{"message": "Request Entity Too Large"}``
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import TestResponse

from infra.local.openapi import build_document
from infra.local.tokens import issue_token
from infra.routes import ROUTES, Route
from tests.integration.conftest import Stack
from tests.integration.test_authorization_matrix import EXAMPLES

PROBLEM_JSON = "application/problem+json"
GATEWAY_REFUSALS = {413, 431}
DOCUMENT = build_document()


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = DOCUMENT["paths"][route.path][route.method.lower()]
    return operation


def _json_media_type(route: Route) -> str | None:
    """The JSON media type the route's body is documented as (a merge patch is JSON too)."""
    content = _operation(route).get("requestBody", {}).get("content", {})
    return next((t for t in content if t == "application/json" or t.endswith("+json")), None)


def _body_schema(route: Route) -> dict[str, Any]:
    schema = _operation(route)["requestBody"]["content"][_json_media_type(route)]["schema"]
    # An optional body is documented as anyOf: [the model, null].
    (ref,) = [option["$ref"] for option in (schema, *schema.get("anyOf", ())) if "$ref" in option]
    resolved: dict[str, Any] = DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return resolved


BODY_ROUTES = [route for route in ROUTES if _json_media_type(route)]


def _json_types(schema: dict[str, Any]) -> set[str]:
    if "anyOf" in schema:
        return {kind for option in schema["anyOf"] for kind in _json_types(option)}
    if "$ref" in schema:
        return _json_types(DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    kind = schema.get("type", "string" if "enum" in schema else None)
    kinds = {kind} if isinstance(kind, str) else set(kind or ())
    return kinds | ({"number"} if "integer" in kinds else set())


SAMPLES_BY_TYPE: dict[str, Any] = {
    "string": "text",
    "integer": 7,
    "number": 1.5,
    "boolean": True,
    "null": None,
    "array": ["text"],
    "object": {"text": "text"},
}


def _wrong_values(schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    allowed = _json_types(schema)
    for kind, value in SAMPLES_BY_TYPE.items():
        if kind not in allowed and not (kind == "integer" and "number" in allowed):
            yield kind, value


HOSTILE_STRINGS = {
    "nul": "a\x00b",
    "control": "a\x01\x1f\x7fb",
    "rtl-override": "gpj.\u202eexe.png",
    "lone-surrogate": "a\ud800b",
    "emoji": "📷🏔️ holiday",
    "bom": "\ufeffname.png",
    "newlines": "a\r\nContent-Type: text/html\r\n\r\nb",
    "only-dots": "..",
}


# Defects found by these tests, reported, not yet fixed: each test fails until its fix
# lands (strict xfail), then passes and its line here must go.
WRONG_TYPE_ACCEPTED = {}
DEEP_JSON_500 = pytest.mark.xfail(
    strict=True,
    reason="json.loads raises RecursionError, answered 500: the resolver must map it to 400",
)
INVALID_UTF8_500 = pytest.mark.xfail(
    strict=True,
    reason="infra/local/events.py decodes a non-UTF-8 text body and fails: base64 it instead",
)


def _fields() -> Iterator[Any]:
    for route in BODY_ROUTES:
        for name, field in _body_schema(route).get("properties", {}).items():
            defect = WRONG_TYPE_ACCEPTED.get((route.route_key, name))
            marks = [pytest.mark.xfail(strict=True, reason=defect)] if defect else []
            yield pytest.param(route, name, field, id=f"{route.route_key} {name}", marks=marks)


FIELDS = list(_fields())
TEXT_FIELDS = [field for field in FIELDS if "string" in _json_types(field.values[2])]


def _send(stack: Stack, route: Route, body: bytes, **headers: str) -> TestResponse:
    example = EXAMPLES[route.route_key](stack)
    return stack.client.open(
        example.path,
        method=route.method,
        data=body,
        headers={
            "Authorization": f"Bearer {issue_token('alice')}",
            "Content-Type": _json_media_type(route) or "application/json",
            **headers,
        },
    )


def _base_body(stack: Stack, route: Route) -> dict[str, Any]:
    body: dict[str, Any] | None = EXAMPLES[route.route_key](stack).json
    return dict(body or {})


def assert_refused_politely(response: TestResponse, *, status: int | None = None) -> None:
    """A 4xx (``status`` if given) the client can read; never a 5xx."""
    text = response.get_data(as_text=True)[:500]
    assert 400 <= response.status_code < 500, f"{response.status_code}: {text}"
    if status is not None:
        assert response.status_code == status, text
    if response.status_code in GATEWAY_REFUSALS:
        assert response.mimetype == "application/json", text
        assert set(response.get_json()) == {"message"}, text
    else:
        assert response.mimetype == PROBLEM_JSON, text
        assert response.get_json()["status"] == response.status_code, text


@contextlib.contextmanager
def _about(what: str) -> Iterator[None]:
    """Name the input in the failure message."""
    try:
        yield
    except AssertionError as failure:
        raise AssertionError(f"{what}: {failure}") from None


def test_some_route_has_a_json_body() -> None:
    assert BODY_ROUTES, "the hostile-body tests would test nothing"


@pytest.mark.parametrize(("route", "name", "field"), FIELDS)
def test_a_value_of_the_wrong_type_is_refused(
    stack: Stack, route: Route, name: str, field: dict[str, Any]
) -> None:
    base = _base_body(stack, route)
    for kind, value in _wrong_values(field):
        response = _send(stack, route, json.dumps({**base, name: value}).encode())
        with _about(f"{name}={value!r} ({kind})"):
            assert_refused_politely(response, status=400)


@pytest.mark.parametrize(("route", "name", "field"), TEXT_FIELDS)
def test_hostile_text_never_fails_the_server(
    stack: Stack, route: Route, name: str, field: dict[str, Any]
) -> None:
    base = _base_body(stack, route)
    for label, value in HOSTILE_STRINGS.items():
        response = _send(stack, route, json.dumps({**base, name: value}).encode())
        with _about(f"{name}={value!r} ({label})"):
            # Odd but legal text may be served (and must then be stored safely).
            assert response.status_code < 500, response.get_data(as_text=True)[:500]
            if response.status_code >= 400:
                assert_refused_politely(response)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[r.route_key for r in BODY_ROUTES])
class TestHostileBodies:
    def test_deeply_nested_arrays_are_refused(self, stack: Stack, route: Route) -> None:
        depth = 10_000
        assert_refused_politely(_send(stack, route, b"[" * depth + b"]" * depth), status=400)

    def test_deeply_nested_objects_are_refused(self, stack: Stack, route: Route) -> None:
        depth = 10_000
        assert_refused_politely(
            _send(stack, route, b'{"a":' * depth + b"1" + b"}" * depth), status=400
        )

    def test_a_deep_value_inside_a_valid_body_is_refused(self, stack: Stack, route: Route) -> None:
        depth = 10_000
        base = json.dumps(_base_body(stack, route))
        body = base[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
        assert_refused_politely(_send(stack, route, body.encode()))

    def test_a_body_of_a_few_megabytes_is_refused(self, stack: Stack, route: Route) -> None:
        body = json.dumps([{"filename": "x" * 64}] * 40_000).encode()  # ≈ 3.5 MB
        assert_refused_politely(_send(stack, route, body), status=400)

    def test_a_few_megabytes_in_one_string_field_is_refused(
        self, stack: Stack, route: Route
    ) -> None:
        base = _base_body(stack, route)
        for name in (n for n, v in base.items() if isinstance(v, str)):
            body = {**base, name: "x" * 3_000_000}
            assert_refused_politely(_send(stack, route, json.dumps(body).encode()), status=400)

    def test_a_body_over_the_payload_quota_gets_api_gateways_413(
        self, stack: Stack, route: Route
    ) -> None:
        body = b'{"filename": "' + b"x" * (10 * 1024 * 1024) + b'"}'
        assert_refused_politely(_send(stack, route, body), status=413)

    def test_a_body_over_lambdas_event_limit_gets_413(self, stack: Stack, route: Route) -> None:
        body = b'{"filename": "' + b"x" * (7 * 1024 * 1024) + b'"}'
        assert_refused_politely(_send(stack, route, body), status=413)

    def test_invalid_utf8_is_refused(self, stack: Stack, route: Route) -> None:
        assert_refused_politely(_send(stack, route, b'{"filename": "\xff\xfe"}'))

    def test_not_json_is_refused(self, stack: Stack, route: Route) -> None:
        assert_refused_politely(_send(stack, route, b"{'filename': nope"), status=400)

    def test_an_empty_body_is_refused_unless_it_is_optional(
        self, stack: Stack, route: Route
    ) -> None:
        response = _send(stack, route, b"")
        if _operation(route)["requestBody"].get("required", False):
            assert_refused_politely(response, status=400)
        else:  # no body is the body's default
            assert response.status_code < 300, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize("route", ROUTES, ids=[r.route_key for r in ROUTES])
def test_an_oversized_header_gets_api_gateways_431(stack: Stack, route: Route) -> None:
    example = EXAMPLES[route.route_key](stack)
    response = stack.client.open(
        example.path,
        method=route.method,
        json=example.json,
        headers={"Authorization": f"Bearer {issue_token('alice')}", "X-Padding": "p" * 16_384},
    )
    assert_refused_politely(response, status=431)
