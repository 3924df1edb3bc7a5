"""The one route table: read by the CDK API construct, the local gateway, the OpenAPI
generator and the test harness.

Each route names the Lambda that serves it (a folder under ``functions/``) and who may
call it (``Auth``). Paths use API Gateway's ``{param}`` syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Auth(Enum):
    """Who may call a route, and who checks it."""

    PUBLIC = "public"
    """No token: API Gateway lets every request through."""
    USER = "user"
    """A valid JWT (API Gateway's authorizer answers 401 otherwise); the function checks
    that the caller owns what the route names."""
    ADMIN = "admin"
    """A valid JWT whose ``cognito:groups`` claim holds ``admin``. API Gateway's JWT
    authorizer checks signatures and scopes, never groups, so the function answers 403
    problem+json to any other caller."""

    @property
    def needs_token(self) -> bool:
        """Whether API Gateway's JWT authorizer guards the route."""
        return self is not Auth.PUBLIC


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    auth: Auth = Auth.USER
    # What a caller gets for a resource the route names that is someone else's: 403 (the
    # asset exists, it is not yours) or 404 (its existence is not revealed). None for a
    # route that names nothing owned (it answers each caller about their own things).
    not_owner_status: int | None = None

    @property
    def route_key(self) -> str:
        """The HTTP API route key, e.g. ``GET /media/{id}``."""
        return f"{self.method} {self.path}"


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", auth=Auth.PUBLIC),
    Route("POST", "/media/presign", "presign"),
    Route("PATCH", "/media/{id}/confirm", "media", not_owner_status=403),
    Route("GET", "/media", "media"),
    Route("GET", "/media/{id}", "media", not_owner_status=403),
)

# Functions that API Gateway does not call: they consume events.
EVENT_FUNCTIONS: tuple[str, ...] = ("process_upload", "expire_assets")


def api_functions() -> list[str]:
    """The distinct functions behind the routes, in table order."""
    return list(dict.fromkeys(route.function for route in ROUTES))
