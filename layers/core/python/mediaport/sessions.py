"""Upload sessions: the capability behind an Uppy ``companionEndpoint``.

Uppy's ``companionEndpoint`` mode sends no custom header, so no bearer token can reach us
through it. Instead its URL carries a random token: whoever holds it may upload, as the
user who opened the session, into that session's scope and folder, until it expires or is
revoked, and do nothing else. Only the token's SHA-256 (the session id) is stored, and the
API swaps the token for it before anything could log it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from mediaport.adapters.records import UploadSession
from mediaport.errors import InvalidRequest, UploadSessionNotFound
from mediaport.model import utcnow
from mediaport.names import ENV_SESSION_TABLE_NAME
from mediaport.policy import scope_table
from mediaport.services import Services

if TYPE_CHECKING:
    from mediaport.adapters.sessions import SessionTable

# 32 random bytes: 256 bits, 43 URL-safe characters.
TOKEN_BYTES = 32
_SESSION_ID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class OpenedSession:
    """A new session and its token: the one time the token exists outside the caller."""

    token: str
    session: UploadSession


def session_id_of(token: str) -> str:
    """The id a token's session is stored under: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(
    services: Services, user_id: str, scope: str, folder: str | None, tier: str | None = None
) -> OpenedSession:
    """A new session for ``user_id``'s uploads into ``scope`` (and ``folder``), counted
    against ``tier``."""
    scopes = scope_table(services.settings.scopes)
    if scope not in scopes:
        raise InvalidRequest(
            f"unknown scope {scope!r}",
            errors=[{"field": "scope", "detail": f"must be one of {', '.join(sorted(scopes))}"}],
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    session = UploadSession(
        session_id=session_id_of(token),
        user_id=user_id,
        scope=scope,
        folder=folder,
        tier=tier,
        created_at=now,
        expires_at=now + timedelta(seconds=services.settings.upload_session_seconds),
    )
    _table(services).add(session)
    return OpenedSession(token=token, session=session)


def active_session(services: Services, session_id: str) -> UploadSession:
    """The session, when it exists, has not expired and was not revoked; 404 otherwise."""
    session = _table(services).get(session_id) if _SESSION_ID.fullmatch(session_id) else None
    if session is None or not session.is_active(utcnow()):
        raise UploadSessionNotFound()
    return session


def revoke_session(services: Services, user_id: str, session_id: str) -> None:
    """End the caller's active session now; 404 for anyone else's, or one already over."""
    revoked = _SESSION_ID.fullmatch(session_id) is not None and _table(services).revoke(
        session_id, user_id, utcnow()
    )
    if not revoked:
        raise UploadSessionNotFound()


def _table(services: Services) -> SessionTable:
    if services.sessions is None:
        from mediaport.config import ConfigurationError

        raise ConfigurationError(f"{ENV_SESSION_TABLE_NAME} is not set for this function")
    return services.sessions
