"""The HTTP side shared by the API functions: resolver, problem details, identity."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

from mediaport import idempotency, snapstart
from mediaport.errors import (
    AdminRequired,
    InternalFailure,
    InvalidRequest,
    MediaportError,
    RouteNotFound,
    Unauthorized,
    UnsupportedMediaType,
)
from mediaport.names import ADMIN_GROUP, GROUPS_CLAIM
from mediaport.observability import logger

if TYPE_CHECKING:
    from mediaport.config import Settings

PROBLEM_JSON = "application/problem+json"
BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]

# The Idempotency-Key request header of the routes that start an upload.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="Makes a retry safe: a repeat with the same key (per user) and the same "
        "body answers the first response again instead of starting a second upload. Use a "
        "new random key (a UUID) per upload and the same one for every retry of it. "
        "Remembered until shortly before the presigned URLs expire.",
        json_schema_extra={"pattern": idempotency.KEY_PATTERN},
        examples=["0b6e2a4c-5d1f-4e8a-9c3b-7f2d1a6e8b90"],
    ),
]


class FieldProblem(BaseModel):
    field: str
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:mediaport:problem:invalid-request"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    # Extension members, each sent by the problems that name them.
    reject_reason: str | None = Field(default=None, alias="rejectReason")
    limit_bytes: int | None = Field(default=None, alias="limitBytes")
    used_bytes: int | None = Field(default=None, alias="usedBytes")
    remaining_bytes: int | None = Field(default=None, alias="remainingBytes")
    attachments: list[dict[str, str]] | None = None
    asset_count: int | None = Field(default=None, alias="assetCount")
    subfolders: int | None = None


def problem_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI ``responses`` entries for the problems a route can answer."""
    descriptions = {
        400: "The request is not valid; `errors` names each field.",
        401: "Missing, malformed, wrongly signed or expired bearer token.",
        403: "Not yours to do: the asset belongs to someone else, or the route is for admins; "
        "or (`quota-exceeded`, with `limitBytes`, `usedBytes`, `remainingBytes`) it does "
        "not fit the caller's storage tier.",
        404: "No such asset.",
        409: "The asset (or folder) is not in a state that allows this; the problem says why.",
        412: "If-Match named a version the asset no longer has: read it again.",
        413: "The request is larger than the route takes; `limitBytes` says how large it may be.",
        415: "The request body is not of a media type the route takes.",
        422: "The uploaded file failed verification; the asset is now REJECTED.",
        503: "The file store or the asset table is temporarily unavailable; retry after "
        "the seconds in `Retry-After`.",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {PROBLEM_JSON: {"model": Problem}},
        }
        for status in statuses
    }


def described_problem(status: int, description: str) -> dict[int, OpenAPIResponse]:
    """A problem a route answers, in the route's own words."""
    return {status: {**problem_responses(status)[status], "description": description}}


def idempotency_responses() -> dict[int, OpenAPIResponse]:
    """The answers an Idempotency-Key adds to a route."""
    return {
        **described_problem(409, "The first request with this Idempotency-Key is still running."),
        **described_problem(422, "This Idempotency-Key was already used with a different body."),
    }


def problem_response(error: MediaportError, instance: str | None = None) -> Response[str]:
    # An outage, or a key still in progress, says how long to wait; the client honours it.
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return Response(
        status_code=error.status,
        content_type=PROBLEM_JSON,
        body=json.dumps(error.to_problem(instance)),
        headers=headers,
    )


def build_resolver() -> APIGatewayHttpResolver:
    """A resolver that validates requests and answers every known failure as problem+json."""
    snapstart.preload_for_snapshot()
    app = APIGatewayHttpResolver(enable_validation=True)

    def _answer(problem: MediaportError) -> Response[str]:
        if problem.status >= 500:
            logger.warning("answered a server-side problem", extra={"problem": problem.slug})
        else:
            # What the client was told, for whoever reads the log of a 4xx: the same text
            # the problem document carries (cut short), never the request's body.
            logger.info(
                "answered a client problem",
                extra={
                    "problem": problem.slug,
                    "status": problem.status,
                    "detail": problem.detail[:300],
                },
            )
        return problem_response(problem, app.current_event.path)

    @app.exception_handler(MediaportError)
    def _domain_problem(error: MediaportError) -> Response[str]:
        return _answer(error)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        errors = [_field_problem(item) for item in error.errors()]
        names = ", ".join(dict.fromkeys(problem["field"] for problem in errors))
        return _answer(InvalidRequest(f"invalid {names}", errors=errors))

    @app.not_found
    def _no_such_route(error: NotFoundError) -> Response[str]:
        # API Gateway matched the route, but the path parameter is one the function's own
        # route pattern refuses (e.g. non-ASCII): there is no such resource.
        return _answer(RouteNotFound())

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(error: RequestUnsupportedContentType) -> Response[str]:
        content_type = app.current_event.headers.get("content-type", "")
        return _answer(
            UnsupportedMediaType(
                f"the body is {content_type[:100]!r}; this route takes application/json"
            )
        )

    @app.exception_handler(RecursionError)
    def _too_deep(error: RecursionError) -> Response[str]:
        return _unreadable_body("is nested too deeply to read")

    @app.exception_handler(UnicodeDecodeError)
    def _not_text(error: UnicodeDecodeError) -> Response[str]:
        # Powertools decodes the body before validating it: bytes that are not UTF-8.
        return _unreadable_body("is not UTF-8 text")

    def _unreadable_body(why: str) -> Response[str]:
        return _answer(InvalidRequest(f"the body {why}", errors=[{"field": "body", "detail": why}]))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        # Our bug: the log gets the traceback (with the correlation id Powertools keeps);
        # the client gets a fixed sentence and the request id to quote.
        logger.exception("unhandled error")
        return problem_response(InternalFailure(), app.current_event.path)

    return app


def caller_id(app: APIGatewayHttpResolver) -> str:
    """The caller's user id: the ``sub`` claim the JWT authorizer verified."""
    subject = _claims(app).get("sub")
    if not subject:
        raise Unauthorized("a bearer token with a subject is required")
    return str(subject)


def caller_tier(app: APIGatewayHttpResolver, settings: Settings) -> str:
    """The caller's storage tier: the claim the settings name, when it is a known tier;
    the default tier otherwise (a missing or unknown claim is not an error)."""
    claimed = _claims(app).get(settings.tier_claim)
    return settings.tier_of(str(claimed) if claimed is not None else None)


def require_admin(app: APIGatewayHttpResolver) -> str:
    """The caller's user id when they are in the admin group; ``AdminRequired`` otherwise.

    API Gateway's JWT authorizer cannot check groups, so admin routes check here.
    """
    caller = caller_id(app)
    # API Gateway hands a list claim over as text: "[admin editors]".
    groups = str(_claims(app).get(GROUPS_CLAIM, "")).strip("[]").split()
    if ADMIN_GROUP not in groups:
        raise AdminRequired("this route is for administrators")
    return caller


def _claims(app: APIGatewayHttpResolver) -> dict[str, Any]:
    context = app.current_event.raw_event.get("requestContext") or {}
    claims: dict[str, Any] = ((context.get("authorizer") or {}).get("jwt") or {}).get(
        "claims"
    ) or {}
    return claims


def _field_problem(item: dict[str, Any]) -> dict[str, str]:
    kind = item.get("type")
    if kind in ("json_invalid", "model_attributes_type"):
        return {"field": "body", "detail": "must be a JSON object"}
    # The first part says where (body, path, query, header); the rest names the field.
    parts = list(item.get("loc", ()))
    if parts and parts[0] in ("body", "path", "query", "header"):
        parts = parts[1:]
    location = [str(part) for part in parts]
    detail = "is required" if kind == "missing" else str(item.get("msg", "is not valid"))
    return {"field": ".".join(location) or "body", "detail": detail}
