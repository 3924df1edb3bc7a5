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
    ANY_USER = "any-user"
    """A valid JWT (API Gateway's authorizer answers 401 otherwise), and nothing more: the
    route reads what the host app shows every one of its users (an entity's attached
    media, a user's avatar), so every signed-in caller is served alike, and never the
    owner's private fields."""
    ADMIN = "admin"
    """A valid JWT whose ``cognito:groups`` claim holds ``admin``. API Gateway's JWT
    authorizer checks signatures and scopes, never groups, so the function answers 403
    problem+json to any other caller."""
    SESSION = "session"
    """A capability token in the path (an Uppy upload session, ``/uppy/{session}/…``):
    API Gateway lets every request through, and the function serves only uploads of that
    session's user and scope. An unknown, expired or revoked token gets 404 problem+json."""

    @property
    def needs_token(self) -> bool:
        """Whether API Gateway's JWT authorizer guards the route."""
        return self in (Auth.USER, Auth.ANY_USER, Auth.ADMIN)


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


# Where an Uppy session's capability URL (its ``companionEndpoint``) points.
UPPY_PREFIX = "/uppy/{session}"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", auth=Auth.PUBLIC),
    Route("POST", "/media/presign", "presign"),
    Route("PATCH", "/media/{id}/confirm", "media", not_owner_status=403),
    Route("GET", "/media", "media"),
    Route("GET", "/media/{id}", "media", not_owner_status=403),
    Route("PATCH", "/media/{id}", "media", not_owner_status=403),
    Route("DELETE", "/media/{id}", "media", not_owner_status=403),
    Route("POST", "/media/{id}/restore", "media", not_owner_status=403),
    Route("POST", "/media/{id}/move", "media", not_owner_status=403),
    Route("GET", "/media/{id}/download", "media", not_owner_status=403),
    # Folders: each caller's own (a path names the caller's folder, never another's).
    Route("GET", "/media/folders", "folders"),
    Route("POST", "/media/folders", "folders"),
    Route("DELETE", "/media/folders/{folderName}", "folders", not_owner_status=404),
    # Attachments: the caller attaches their own assets (to an entity they claimed, or
    # claim by attaching); what an entity or a user's avatar shows, any signed-in user reads.
    Route(
        "PUT",
        "/media/{id}/attachments/{entityType}/{entityId}",
        "attachments",
        not_owner_status=403,
    ),
    Route(
        "DELETE",
        "/media/{id}/attachments/{entityType}/{entityId}",
        "attachments",
        not_owner_status=403,
    ),
    Route("GET", "/attachments/{entityType}/{entityId}", "attachments", auth=Auth.ANY_USER),
    # The body names the asset: another user's is 403.
    Route("PUT", "/me/avatar", "attachments", not_owner_status=403),
    Route("GET", "/users/{userId}/avatar", "attachments", auth=Auth.ANY_USER),
    # Image operations on demand: the variants of a READY image, and new ones made by the
    # jobs queue (transform_media).
    Route("GET", "/media/{id}/variants", "transforms", not_owner_status=403),
    Route("GET", "/media/{id}/variants/{name}", "transforms", not_owner_status=403),
    Route("POST", "/media/{id}/resize", "transforms", not_owner_status=403),
    Route("POST", "/media/{id}/crop", "transforms", not_owner_status=403),
    Route("POST", "/media/{id}/optimize", "transforms", not_owner_status=403),
    # Malware scanning: what is quarantined, of every user, and its release.
    Route("GET", "/admin/media/quarantined", "admin", auth=Auth.ADMIN),
    Route("POST", "/admin/media/{id}/release", "admin", auth=Auth.ADMIN),
    # Storage usage against the caller's tier.
    Route("GET", "/media/usage", "usage"),
    Route("GET", "/media/usage/breakdown", "usage"),
    # Direct upload: the bytes in the request (small files only).
    Route("POST", "/media/upload", "direct_upload"),
    # S3 multipart. The asset is named in the body (or the path, for parts).
    Route("POST", "/media/upload/multipart/initiate", "multipart"),
    Route("POST", "/media/upload/multipart/part", "multipart", not_owner_status=403),
    Route("GET", "/media/upload/multipart/{id}/parts", "multipart", not_owner_status=403),
    Route("POST", "/media/upload/multipart/complete", "multipart", not_owner_status=403),
    Route("POST", "/media/upload/multipart/abort", "multipart", not_owner_status=403),
    # Uppy: a session hands out a capability URL; under it, Companion's S3 contract.
    Route("POST", "/uploads/sessions", "uppy"),
    Route("DELETE", "/uploads/sessions/{token}", "uppy", not_owner_status=404),
    *(
        Route(method, f"{UPPY_PREFIX}{path}", "uppy", auth=Auth.SESSION)
        for method, path in (
            ("GET", "/s3/params"),
            ("POST", "/s3/multipart"),
            ("GET", "/s3/multipart/{uploadId}/{partNumber}"),
            ("GET", "/s3/multipart/{uploadId}"),
            ("POST", "/s3/multipart/{uploadId}/complete"),
            ("DELETE", "/s3/multipart/{uploadId}"),
        )
    ),
)

# Functions that API Gateway does not call: they consume events.
EVENT_FUNCTIONS: tuple[str, ...] = (
    "process_upload",
    "expire_assets",
    "reconcile_usage",
    # The jobs queue: requested variants, and the variants of a released asset.
    "transform_media",
    # GuardDuty's (or the local scanner's) scan results, through EventBridge.
    "scan_result",
    # The asset and usage tables' streams: every state change as an event on the
    # mediaport bus, and one webhook job per configured URL.
    "publish_events",
    # The webhook queue: one signed POST per job, retried with backoff.
    "deliver_webhooks",
    # CloudFront's standard logs: the bytes each owner's public media served this month.
    "count_bandwidth",
)


def api_functions() -> list[str]:
    """The distinct functions behind the routes, in table order."""
    return list(dict.fromkeys(route.function for route in ROUTES))
