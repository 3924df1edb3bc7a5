"""The route table and the OpenAPI document say the same thing about every route."""

from typing import Any

import pytest

from infra.local.openapi import build_document
from infra.routes import ROUTES, UPPY_PREFIX, Auth, Route

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document()


def _operation(document: dict[str, Any], route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][route.path][route.method.lower()]
    return operation


def test_every_route_of_the_table_is_documented_and_nothing_else(document) -> None:
    documented = {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    assert documented == {route.route_key for route in ROUTES}


def test_every_route_declares_who_may_call_it() -> None:
    for route in ROUTES:
        assert isinstance(route.auth, Auth), route.route_key
        assert route.not_owner_status in (None, 403, 404), route.route_key


def test_only_the_health_check_is_public_and_only_uppy_routes_take_a_session(document) -> None:
    public = {route.route_key for route in ROUTES if route.auth is Auth.PUBLIC}
    assert public == {"GET /health"}
    # A capability token in the path stands in for the JWT under the Uppy prefix, and
    # nowhere else.
    for route in ROUTES:
        under_prefix = route.path.startswith(f"{UPPY_PREFIX}/")
        assert (route.auth is Auth.SESSION) is under_prefix, route.route_key
    for route in ROUTES:
        operation = _operation(document, route)
        assert ("security" in operation) is route.auth.needs_token, route.route_key


def test_a_guarded_route_documents_the_authorizers_own_401(document) -> None:
    for route in (r for r in ROUTES if r.auth.needs_token):
        unauthorized = _operation(document, route)["responses"]["401"]
        assert list(unauthorized["content"]) == ["application/json"], route.route_key


def test_every_route_documents_its_success(document) -> None:
    for route in ROUTES:
        statuses = _operation(document, route)["responses"]
        assert any(status.startswith("2") for status in statuses), route.route_key


def test_a_route_naming_someone_elses_asset_documents_the_refusal(document) -> None:
    for route in ROUTES:
        status = route.not_owner_status or (403 if route.auth is Auth.ADMIN else None)
        if status is None:
            continue
        refusal = _operation(document, route)["responses"].get(str(status))
        assert refusal is not None, f"{route.route_key} does not document {status}"
        assert PROBLEM_JSON in refusal["content"], route.route_key
