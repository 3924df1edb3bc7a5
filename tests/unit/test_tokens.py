import time

import jwt
import pytest

from infra.local.tokens import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    DEV_SIGNING_KEY,
    InvalidToken,
    issue_token,
    verify_authorization,
)


def test_a_dev_token_verifies_to_its_claims() -> None:
    claims = verify_authorization(f"Bearer {issue_token('alice', admin=True)}")
    assert claims["sub"] == "alice"
    assert claims["cognito:groups"] == ["admin"]


def _token(**overrides: object) -> str:
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "a", "exp": now + 60, **overrides}
    return jwt.encode(claims, DEV_SIGNING_KEY, algorithm="HS256")


@pytest.mark.parametrize(
    ("make_header", "reason"),
    [
        (lambda: None, "missing"),
        (lambda: "Basic abc", "not a Bearer"),
        (lambda: "Bearer not.a.jwt", "not valid"),
        (lambda: f"Bearer {_token(exp=int(time.time()) - 10)}", "expired"),
        (lambda: f"Bearer {_token(nbf=int(time.time()) + 600)}", "not valid"),
        (lambda: f"Bearer {_token(iss='https://elsewhere')}", "not valid"),
        (lambda: f"Bearer {_token(aud='another-app')}", "not valid"),
        (lambda: f"Bearer {_token(sub=None)}", "not valid"),
        (
            lambda: (
                f"Bearer {jwt.encode({'sub': 'a'}, 'another-key-of-32-bytes-or-more!', 'HS256')}"
            ),
            "valid",
        ),
    ],
    ids=[
        "missing",
        "basic",
        "garbage",
        "expired",
        "not-yet",
        "issuer",
        "audience",
        "no-sub",
        "key",
    ],
)
def test_the_gateway_refuses_what_the_jwt_authorizer_refuses(make_header, reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify_authorization(make_header())
