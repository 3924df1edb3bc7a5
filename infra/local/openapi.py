"""The OpenAPI document, generated from the API functions' resolvers.

``python -m infra.local.openapi --write FILE`` regenerates the checked-in document;
``--check FILE`` fails when it is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme, Server

from infra.local import lambdas
from infra.routes import ROUTES, Auth, api_functions

TITLE = "Mediaport API"
VERSION = "0.1.0"
DESCRIPTION = (
    "Presigned uploads straight to S3, verified from the bytes, processed into "
    "ready-to-serve media. Errors are RFC 9457 problem details (application/problem+json), "
    "except 401, which API Gateway's JWT authorizer answers itself."
)


def build_document(server_url: str | None = None) -> dict[str, Any]:
    """One document for every route of the route table."""
    schemes: dict[str, SecurityScheme] = {
        "bearerAuth": HTTPBearer(scheme="bearer", bearerFormat="JWT")
    }
    merge = OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        servers=[Server(url=server_url)] if server_url else None,
        security_schemes=schemes,
        on_conflict="error",
    )
    request_bodies: dict[str, dict[str, Any]] = {}
    for function in api_functions():
        module = lambdas.load_module(function)
        merge.add_schema(module.app.get_openapi_schema(security_schemes=schemes))
        # A body the handler parses itself (not through Powertools) is described by it.
        request_bodies.update(getattr(module, "OPENAPI_REQUEST_BODIES", {}))
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    for route_key, body in request_bodies.items():
        method, path = route_key.split(" ", 1)
        document["paths"][path][method.lower()]["requestBody"] = body
    return _without_unused_schemas(_describe_the_gateway(_describe_our_validation(document)))


PROBLEM_JSON = "application/problem+json"


def _describe_our_validation(document: dict[str, Any]) -> dict[str, Any]:
    # Powertools documents request validation as its default 422 HTTPValidationError;
    # our resolver answers it as 400 problem+json (see mediaport.api.resolver): say that.
    for operation in (op for item in document["paths"].values() for op in item.values()):
        responses = operation["responses"]
        default_422 = responses.get("422", {}).get("content", {}).get("application/json")
        if default_422 is not None:
            del responses["422"]
        for status, response in responses.items():
            if status == "204" or status.startswith("3"):
                response.pop("content", None)  # no body: a 204, or a redirect's Location
        # A JSON body of another media type is answered 415 by the resolver.
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            responses.setdefault(
                "415",
                {
                    "description": "The body is not JSON (`Content-Type` of another type).",
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                },
            )
    return document


def _without_unused_schemas(document: dict[str, Any]) -> dict[str, Any]:
    # Powertools adds its validation-error schemas (HTTPValidationError, ValidationError,
    # ResponseValidationError) whether or not an operation answers with them; keep only the
    # schemas the operations reach, so no $ref is left dangling.
    schemas = document.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    pending = list(_schema_refs(document["paths"]))
    while pending:
        name = pending.pop()
        if name not in reached and name in schemas:
            reached.add(name)
            pending.extend(_schema_refs(schemas[name]))
    for name in set(schemas) - reached:
        del schemas[name]
    return document


def _schema_refs(node: Any) -> list[str]:
    prefix = "#/components/schemas/"
    if isinstance(node, dict):
        ref = node.get("$ref")
        own = [ref.removeprefix(prefix)] if isinstance(ref, str) else []
        return own + [name for value in node.values() for name in _schema_refs(value)]
    if isinstance(node, list):
        return [name for item in node for name in _schema_refs(item)]
    return []


# What API Gateway itself answers (401 from the JWT authorizer, 413 and 431 over its
# quotas): JSON with one ``message``, never problem details. Our functions never see these.
GATEWAY_MESSAGE = "GatewayMessage"
GATEWAY_MESSAGE_SCHEMA: dict[str, Any] = {
    "title": GATEWAY_MESSAGE,
    "type": "object",
    "description": "API Gateway's own answer, before any function runs.",
    "properties": {"message": {"type": "string", "examples": ["Unauthorized"]}},
    "required": ["message"],
}


def _gateway_response(description: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{GATEWAY_MESSAGE}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _describe_the_gateway(document: dict[str, Any]) -> dict[str, Any]:
    # The route table, not each handler, says which routes API Gateway guards: a route that
    # needs a token is documented with the bearer scheme and the authorizer's own 401.
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        responses = operation["responses"]
        if route.auth.needs_token:
            operation["security"] = [{"bearerAuth": []}]
            responses["401"] = _gateway_response(
                "API Gateway's JWT authorizer: the bearer token is missing, malformed, "
                "wrongly signed, expired or for another audience."
            )
        else:
            operation.pop("security", None)
            responses.pop("401", None)
        responses["431"] = _gateway_response(
            "API Gateway: the request line and headers are over its 10,240-byte quota."
        )
        if "requestBody" in operation:
            gateway_413 = _gateway_response(
                "API Gateway: the body is over the 10 MB payload quota, or the event over "
                "Lambda's 6 MB."
            )
            if "413" in responses:
                # Ours (problem+json) and the gateway's (JSON), by content type.
                responses["413"]["content"].update(gateway_413["content"])
                responses["413"]["description"] += " " + gateway_413["description"]
            else:
                responses["413"] = gateway_413
        if route.auth is Auth.ADMIN and "403" not in responses:
            raise ValueError(f"{route.route_key} is an admin route: document its 403")
        operation["responses"] = dict(sorted(responses.items()))
    document.setdefault("components", {}).setdefault("schemas", {})[GATEWAY_MESSAGE] = (
        GATEWAY_MESSAGE_SCHEMA
    )
    return document


def render_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def swagger_page(spec_url: str) -> str:
    """Swagger UI, served from the assets Powertools ships (no CDN needed)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title>
<link rel="stylesheet" href="/docs/swagger-ui.min.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.min.js"></script>
<script>SwaggerUIBundle({{url: "{spec_url}", dom_id: "#swagger-ui", persistAuthorization: true}});
</script></body></html>"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="write the document to this file")
    mode.add_argument("--check", type=Path, help="fail when this file is not up to date")
    args = parser.parse_args()
    rendered = render_yaml(build_document())
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(rendered, encoding="utf-8")
        print(f"wrote {args.write}")
        return 0
    current = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
    if current != rendered:
        print(f"{args.check} is stale: run `make openapi` and commit the result", file=sys.stderr)
        return 1
    print(f"{args.check} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
