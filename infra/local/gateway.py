"""The local API gateway: serves the routes of ``infra/routes.py`` by invoking the same
handlers with HTTP API events, and checks dev JWTs as the AWS JWT authorizer would. Under
``/cdn/`` it stands in for CloudFront instead (``infra/local/cdn.py``)."""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from werkzeug.utils import safe_join
from werkzeug.wrappers import Request, Response

from infra.local import cdn, lambdas
from infra.local.config import LocalConfig
from infra.local.events import http_api_event
from infra.local.openapi import build_document, swagger_page
from infra.local.tokens import InvalidToken, issue_token, verify_authorization
from infra.routes import ROUTES, Route

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
SWAGGER_ASSETS = {
    "swagger-ui-bundle.min.js": "application/javascript",
    "swagger-ui.min.css": "text/css",
}
CORS_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
CORS_HEADERS = "authorization,content-type,idempotency-key,if-match"
CORS_EXPOSED_HEADERS = "Retry-After,ETag,Location"

# HTTP API quotas (not adjustable): the request line and header values together, and the
# body. A Lambda integration also caps the event it is handed (a synchronous invoke).
MAX_REQUEST_LINE_AND_HEADERS = 10_240
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_LAMBDA_EVENT_BYTES = 6 * 1024 * 1024


class Gateway:
    """A WSGI app standing in for API Gateway (plus the local-only pages)."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        # As API Gateway: a literal segment wins over a parameter (/media/usage is not
        # /media/{id}), so routes with fewer parameters are tried first.
        ordered = sorted(ROUTES, key=lambda route: route.path.count("{"))
        self.routes = [(route, _path_pattern(route.path)) for route in ordered]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        self._add_cors(request, response)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(cdn.PREFIX):
            return cdn.serve(request)  # CloudFront's traffic, not API Gateway's
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return Response(status=204)
        if _request_line_and_headers_size(request) > MAX_REQUEST_LINE_AND_HEADERS:
            return _json({"message": "Request Header Fields Too Large"}, 431)
        # Routes match the path as sent, so an encoded "/" (%2F) stays inside its segment
        # (DELETE /media/folders/trips%2F2026); parameters are handed over decoded.
        raw_path = _raw_path(request)
        for route, pattern in self.routes:
            match = pattern.fullmatch(raw_path)
            if match and route.method == request.method:
                params = {name: unquote(value) for name, value in match.groupdict().items()}
                return self._invoke(route, request, params)
        return self._local_page(request)

    def _invoke(self, route: Route, request: Request, params: dict[str, str]) -> Response:
        claims = None
        if route.auth.needs_token:
            # USER and ADMIN alike: the JWT authorizer checks the token, never its groups.
            try:
                claims = verify_authorization(request.headers.get("Authorization"))
            except InvalidToken as reason:
                return _unauthorized(str(reason))
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _too_large()
        body = request.get_data()
        if len(body) > MAX_BODY_BYTES:
            return _too_large()
        event = http_api_event(
            method=request.method,
            path=request.path,
            route_key=route.route_key,
            headers=dict(request.headers),
            query_string=request.query_string.decode("latin-1"),
            body=body,
            path_parameters=params or None,
            claims=claims,
            source_ip=request.remote_addr or "127.0.0.1",
        )
        if (
            len(json.dumps(event, ensure_ascii=False).encode("utf-8", "replace"))
            > MAX_LAMBDA_EVENT_BYTES
        ):
            return _too_large()
        try:
            result = lambdas.invoke(route.function, event)
        except Exception:
            # A function error (an unhandled exception): API Gateway answers a bare 500 and
            # the traceback goes to the function's log, never to the client.
            log.exception("%s failed on %s", route.function, route.route_key)
            return _json({"message": "Internal Server Error"}, 500)
        return _to_response(result)

    def _local_page(self, request: Request) -> Response:
        # Everything below exists only in the local stack, never in the CDK API.
        path = request.path
        if request.method == "POST" and path == "/local/token":
            return self._dev_token(request)
        if request.method != "GET":
            return _json({"message": "Not Found"}, 404)
        if path == "/openapi.json":
            return _json(build_document(server_url=self.config.api_url), 200)
        if path in ("/docs", "/docs/"):
            return Response(swagger_page("/openapi.json"), mimetype="text/html")
        if path.startswith("/docs/") and path.removeprefix("/docs/") in SWAGGER_ASSETS:
            name = path.removeprefix("/docs/")
            return Response(_swagger_asset(name), mimetype=SWAGGER_ASSETS[name])
        return _static(path)

    def _dev_token(self, request: Request) -> Response:
        payload = request.get_json(silent=True) or {}
        user = str(payload.get("userId", "")).strip()
        if not re.fullmatch(r"[A-Za-z0-9._@-]{1,64}", user):
            return _invalid_token_request("userId must be 1-64 letters, digits or ._@-")
        # No tier (absent, null or blank) leaves the stack's default tier to apply.
        tier = payload.get("tier")
        if isinstance(tier, str):
            tier = tier.strip() or None
        if tier is not None and not (
            isinstance(tier, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,32}", tier)
        ):
            return _invalid_token_request("tier must be 1-32 letters, digits or _-")
        body = {"token": issue_token(user, tier=tier), "userId": user, "tier": tier}
        return _json(body, 200)

    def _add_cors(self, request: Request, response: Response) -> None:
        origin = request.headers.get("Origin")
        if not origin or origin not in self.config.origins:
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
        response.headers["Vary"] = "Origin"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "3000"


def _invalid_token_request(detail: str) -> Response:
    return _json(
        {
            "type": "urn:mediaport:problem:invalid-request",
            "title": "The request is not valid",
            "status": 400,
            "detail": detail,
        },
        400,
        content_type="application/problem+json",
    )


def _raw_path(request: Request) -> str:
    """The request's path before percent-decoding (as the client sent it)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return quote(request.path, safe="/")
    return str(urlsplit(raw).path) or "/"


def _path_pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)))


def _request_line_and_headers_size(request: Request) -> int:
    request_line = f"{request.method} {request.full_path} HTTP/1.1"
    return len(request_line) + sum(len(name) + len(value) for name, value in request.headers)


def _to_response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    response = Response(data, status=int(result.get("statusCode", 200)))
    response.headers.clear()
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


def _unauthorized(reason: str) -> Response:
    # API Gateway's own 401 body and header: the JWT authorizer's answer, not the function's.
    response = _json({"message": "Unauthorized"}, 401)
    response.headers["WWW-Authenticate"] = (
        f'Bearer scope="" error="invalid_token" error_description="{reason}"'
    )
    return response


def _too_large() -> Response:
    # API Gateway's own answer to a body over its quota, or an event over Lambda's.
    return _json({"message": "Request Entity Too Large"}, 413)


def _json(payload: Any, status: int, content_type: str = "application/json") -> Response:
    return Response(json.dumps(payload), status=status, content_type=content_type)


_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def _static(path: str) -> Response:
    name = "index.html" if path in ("", "/") else path.lstrip("/")
    file = safe_join(str(WEB_DIR), name)
    if file is None or not Path(file).is_file():
        return _json({"message": "Not Found"}, 404)
    suffix = Path(file).suffix
    return Response(
        Path(file).read_bytes(),
        content_type=_STATIC_TYPES.get(suffix, "application/octet-stream"),
        headers={"Cache-Control": "no-cache"},
    )


def _swagger_asset(name: str) -> bytes:
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as swagger_ui

    return (Path(swagger_ui.__file__).parent / name).read_bytes()
