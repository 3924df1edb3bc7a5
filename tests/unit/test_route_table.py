from infra.local.openapi import build_document
from infra.routes import ROUTES


def test_every_route_of_the_table_is_documented_and_nothing_else() -> None:
    document = build_document()
    documented = {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    assert documented == {route.route_key for route in ROUTES}


def test_only_the_health_check_is_public() -> None:
    document = build_document()
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert ("security" in operation) is route.auth, route.route_key
