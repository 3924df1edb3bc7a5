"""Dev JWTs for the local stack, checked the way API Gateway's JWT authorizer checks them.

The signing key below is a fixed, public, local-only development key: it signs tokens
for the emulator on your machine and is worth nothing anywhere else. On AWS, tokens come
from Cognito (or your issuer) and API Gateway verifies them against the issuer's JWKS.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import jwt

from mediaport.names import ADMIN_GROUP, GROUPS_CLAIM

DEV_SIGNING_KEY = "mediaport-local-dev-signing-key-not-a-secret"
DEV_ISSUER = "https://mediaport.local/dev-issuer"
DEV_AUDIENCE = "mediaport-local"
# The claim the functions read the caller's storage tier from (MEDIAPORT_TIER_CLAIM's
# default): the same name the Cognito trigger puts in access tokens on AWS.
TIER_CLAIM = "custom:tier"
_ALGORITHM = "HS256"


class InvalidToken(Exception):
    """Why API Gateway would answer 401."""


def dev_claims(
    user_id: str,
    *,
    admin: bool = False,
    tier: str | None = None,
    lifetime_seconds: int = 12 * 3600,
) -> dict[str, Any]:
    """The claims of a dev token for ``user_id``, shaped like a Cognito access token."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "client_id": DEV_AUDIENCE,
        "sub": user_id,
        "username": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_seconds,
        "token_use": "access",
    }
    if admin:
        claims[GROUPS_CLAIM] = [ADMIN_GROUP]
    if tier is not None:
        claims[TIER_CLAIM] = tier
    return claims


def issue_token(
    user_id: str,
    *,
    admin: bool = False,
    tier: str | None = None,
    lifetime_seconds: int = 12 * 3600,
) -> str:
    """A signed dev token for ``user_id`` (``admin`` puts it in the admin group; ``tier``
    names its storage tier, else the stack's default tier applies)."""
    claims = dev_claims(user_id, admin=admin, tier=tier, lifetime_seconds=lifetime_seconds)
    return jwt.encode(claims, DEV_SIGNING_KEY, algorithm=_ALGORITHM)


def verify_authorization(header: str | None) -> dict[str, Any]:
    """The verified claims of a ``Bearer`` header; ``InvalidToken`` says why not.

    The checks are API Gateway's: signature (only the algorithm the key is for: ``none``
    and every other ``alg`` header are refused), ``iss``, ``aud`` or else ``client_id``
    (Cognito access tokens carry no ``aud``), ``exp``, ``nbf`` and ``iat``; and ``sub``,
    which every function reads.
    """
    if not header:
        raise InvalidToken("missing Authorization header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header is not a Bearer token")
    try:
        claims: dict[str, Any] = jwt.decode(
            token.strip(),
            DEV_SIGNING_KEY,
            algorithms=[_ALGORITHM],
            issuer=DEV_ISSUER,
            options={"require": ["exp", "iss", "sub"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("the token has expired") from error
    except jwt.InvalidTokenError as error:
        raise InvalidToken(f"the token is not valid: {error}") from error
    if not _for_this_api(claims):
        raise InvalidToken("the token is not valid: it is for another audience")
    return claims


def _for_this_api(claims: dict[str, Any]) -> bool:
    audience = claims.get("aud", claims.get("client_id"))
    audiences = audience if isinstance(audience, list) else [audience]
    return DEV_AUDIENCE in audiences


def main() -> None:
    parser = argparse.ArgumentParser(description="Print a dev JWT for the local stack.")
    parser.add_argument("--user", default="dev-user", help="the token's subject (user id)")
    parser.add_argument("--admin", action="store_true", help="put the user in the admin group")
    parser.add_argument(
        "--tier", default=None, help="the storage tier (default: the stack's default tier)"
    )
    args = parser.parse_args()
    tier = f", tier {args.tier!r}" if args.tier else ""
    print(f"# dev token for {args.user!r}{tier} (local stack only; valid 12 hours)")
    print(issue_token(args.user, admin=args.admin, tier=args.tier or None))


if __name__ == "__main__":
    main()
