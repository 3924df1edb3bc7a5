"""The local gateway refuses every token API Gateway's JWT authorizer would refuse."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from werkzeug.test import Client

from infra.local.config import LocalConfig
from infra.local.gateway import Gateway
from infra.local.tokens import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    DEV_SIGNING_KEY,
    TIER_CLAIM,
    InvalidToken,
    dev_claims,
    issue_token,
    verify_authorization,
)

ANOTHER_KEY = "another-signing-key-of-32-bytes-or-more"


def test_a_dev_token_verifies_to_its_claims() -> None:
    claims = verify_authorization(f"Bearer {issue_token('alice', admin=True)}")
    assert claims["sub"] == "alice"
    assert claims["cognito:groups"] == ["admin"]


def test_a_dev_token_with_a_tier_carries_it_in_the_custom_tier_claim() -> None:
    claims = verify_authorization(f"Bearer {issue_token('alice', tier='pro')}")
    assert TIER_CLAIM == "custom:tier"
    assert claims["custom:tier"] == "pro"


def test_a_dev_token_without_a_tier_has_no_tier_claim() -> None:
    assert TIER_CLAIM not in verify_authorization(f"Bearer {issue_token('alice')}")


def _local_token(payload: object) -> Any:
    return Client(Gateway(LocalConfig())).post("/local/token", json=payload)


def test_local_token_issues_a_token_with_the_tier_asked_for() -> None:
    response = _local_token({"userId": "alice", "tier": "race"})
    assert response.status_code == 200
    assert response.json["userId"] == "alice"
    assert response.json["tier"] == "race"
    claims = verify_authorization(f"Bearer {response.json['token']}")
    assert (claims["sub"], claims["custom:tier"]) == ("alice", "race")


@pytest.mark.parametrize("payload", [{"userId": "bob"}, {"userId": "bob", "tier": None}])
def test_local_token_without_a_tier_leaves_the_default_tier_to_apply(payload: object) -> None:
    response = _local_token(payload)
    assert response.status_code == 200
    assert response.json["tier"] is None
    assert TIER_CLAIM not in verify_authorization(f"Bearer {response.json['token']}")


@pytest.mark.parametrize("tier", ["pro plan", "x" * 33, "pro;drop", "écu", 5, ["pro"]], ids=repr)
def test_local_token_refuses_a_malformed_tier_with_a_problem(tier: object) -> None:
    response = _local_token({"userId": "alice", "tier": tier})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "urn:mediaport:problem:invalid-request"
    assert "tier" in response.json["detail"]


def test_a_token_without_aud_is_accepted_for_its_client_id_as_cognito_access_tokens_are() -> None:
    claims = {k: v for k, v in dev_claims("alice").items() if k != "aud"}
    token = jwt.encode(claims, DEV_SIGNING_KEY, algorithm="HS256")
    assert verify_authorization(f"Bearer {token}")["sub"] == "alice"


def _token(**overrides: object) -> str:
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "a", "exp": now + 60, **overrides}
    return jwt.encode(claims, DEV_SIGNING_KEY, algorithm="HS256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _forged(
    header: dict[str, Any], *, key: bytes | None = None, digest: Any = hashlib.sha256
) -> str:
    """Valid claims under ``header``, signed with HMAC(``key``) or not signed at all."""
    claims = _b64(json.dumps(dev_claims("a")).encode())
    signing_input = f"{_b64(json.dumps(header).encode())}.{claims}"
    if key is None:
        return f"{signing_input}."
    mac = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return f"{signing_input}.{_b64(mac)}"


def _tampered() -> str:
    """A good token whose claims were swapped for an admin's after signing."""
    header, _, signature = issue_token("a").split(".")
    claims = _b64(json.dumps(dev_claims("a", admin=True)).encode())
    return f"{header}.{claims}.{signature}"


DEV_KEY = DEV_SIGNING_KEY.encode()

REFUSED: dict[str, tuple[Callable[[], str | None], str]] = {
    "missing": (lambda: None, "missing"),
    "basic": (lambda: "Basic abc", "not a Bearer"),
    "bearer-alone": (lambda: "Bearer ", "not a Bearer"),
    "garbage": (lambda: "Bearer not.a.jwt", "not valid"),
    "expired": (lambda: f"Bearer {_token(exp=int(time.time()) - 10)}", "expired"),
    "not-yet": (lambda: f"Bearer {_token(nbf=int(time.time()) + 600)}", "not valid"),
    "issued-in-the-future": (lambda: f"Bearer {_token(iat=int(time.time()) + 600)}", "not valid"),
    "issuer": (lambda: f"Bearer {_token(iss='https://elsewhere')}", "not valid"),
    "audience": (lambda: f"Bearer {_token(aud='another-app')}", "another audience"),
    "client-id": (
        lambda: f"Bearer {_token(aud=None, client_id='another-app')}",
        "not valid",
    ),
    "no-audience": (
        lambda: (
            "Bearer "
            + jwt.encode(
                {k: v for k, v in dev_claims("a").items() if k not in ("aud", "client_id")},
                DEV_SIGNING_KEY,
                algorithm="HS256",
            )
        ),
        "another audience",
    ),
    "no-sub": (lambda: f"Bearer {_token(sub=None)}", "not valid"),
    "no-exp": (
        lambda: (
            "Bearer "
            + jwt.encode(
                {k: v for k, v in dev_claims("a").items() if k != "exp"},
                DEV_SIGNING_KEY,
                algorithm="HS256",
            )
        ),
        "not valid",
    ),
    # Every claim right, signed by someone else's key.
    "another-key": (
        lambda: f"Bearer {jwt.encode(dev_claims('a'), ANOTHER_KEY, algorithm='HS256')}",
        "not valid",
    ),
    "tampered-claims": (lambda: f"Bearer {_tampered()}", "not valid"),
    # alg "none": no signature at all, in each spelling a sloppy verifier might accept.
    "alg-none": (lambda: f"Bearer {_forged({'alg': 'none', 'typ': 'JWT'})}", "not valid"),
    "alg-None": (lambda: f"Bearer {_forged({'alg': 'None', 'typ': 'JWT'})}", "not valid"),
    "alg-NONE": (lambda: f"Bearer {_forged({'alg': 'NONE', 'typ': 'JWT'})}", "not valid"),
    "alg-none-with-signature": (
        lambda: (
            "Bearer "
            + _forged({"alg": "none"}, key=DEV_KEY).rsplit(".", 1)[0]
            + "."
            + _forged({"alg": "HS256"}, key=DEV_KEY).rsplit(".", 1)[1]
        ),
        "not valid",
    ),
    "hs256-empty-signature": (lambda: f"Bearer {_forged({'alg': 'HS256'})}", "not valid"),
    # Algorithm confusion: the dev key's HMAC under a header naming another algorithm.
    "header-says-RS256": (
        lambda: f"Bearer {_forged({'alg': 'RS256', 'typ': 'JWT'}, key=DEV_KEY)}",
        "not valid",
    ),
    "header-says-ES256": (
        lambda: f"Bearer {_forged({'alg': 'ES256', 'typ': 'JWT'}, key=DEV_KEY)}",
        "not valid",
    ),
    "header-says-PS256": (
        lambda: f"Bearer {_forged({'alg': 'PS256', 'typ': 'JWT'}, key=DEV_KEY)}",
        "not valid",
    ),
    "dev-key-as-HS512": (
        lambda: f"Bearer {_forged({'alg': 'HS512'}, key=DEV_KEY, digest=hashlib.sha512)}",
        "not valid",
    ),
    "dev-key-as-HS384": (
        lambda: f"Bearer {_forged({'alg': 'HS384'}, key=DEV_KEY, digest=hashlib.sha384)}",
        "not valid",
    ),
    "hs256-with-a-jwk-of-its-own": (
        lambda: (
            "Bearer "
            + _forged(
                {
                    "alg": "HS256",
                    "jwk": {"kty": "oct", "k": _b64(ANOTHER_KEY.encode())},
                    "kid": "attacker",
                },
                key=ANOTHER_KEY.encode(),
            )
        ),
        "not valid",
    ),
}


@pytest.mark.parametrize(("make_header", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_the_gateway_refuses_what_the_jwt_authorizer_refuses(
    make_header: Callable[[], str | None], reason: str
) -> None:
    with pytest.raises(InvalidToken, match=reason):
        verify_authorization(make_header())


def test_the_same_forgery_under_the_right_algorithm_is_accepted() -> None:
    # So each refusal above is for its algorithm or signature, not a broken forgery.
    token = _forged({"alg": "HS256", "typ": "JWT"}, key=DEV_KEY)
    assert verify_authorization(f"Bearer {token}")["sub"] == "a"
