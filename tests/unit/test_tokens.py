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
    ("header", "reason"),
    [
        (None, "missing"),
        ("Basic abc", "not a Bearer"),
        ("Bearer not.a.jwt", "not valid"),
        (f"Bearer {_token(exp=int(time.time()) - 10)}", "expired"),
        (f"Bearer {_token(iss='https://elsewhere')}", "not valid"),
        (f"Bearer {_token(aud='another-app')}", "not valid"),
        (
            f"Bearer {jwt.encode({'sub': 'a'}, 'another-key-of-32-bytes-or-more!!', 'HS256')}",
            "valid",
        ),
    ],
)
def test_the_gateway_refuses_what_the_jwt_authorizer_refuses(
    header: str | None, reason: str
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify_authorization(header)
