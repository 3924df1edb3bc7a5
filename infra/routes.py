"""The one route table: read by the CDK API construct and by the local gateway.

Each route names the Lambda that serves it (a folder under ``functions/``) and whether
the JWT authorizer guards it. Paths use API Gateway's ``{param}`` syntax.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    auth: bool = True

    @property
    def route_key(self) -> str:
        """The HTTP API route key, e.g. ``GET /media/{id}``."""
        return f"{self.method} {self.path}"


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", auth=False),
    Route("POST", "/media/presign", "presign"),
    Route("PATCH", "/media/{id}/confirm", "media"),
    Route("GET", "/media", "media"),
    Route("GET", "/media/{id}", "media"),
)

# Functions that API Gateway does not call: they consume events.
EVENT_FUNCTIONS: tuple[str, ...] = ("process_upload",)


def api_functions() -> list[str]:
    """The distinct functions behind the routes, in table order."""
    return list(dict.fromkeys(route.function for route in ROUTES))
