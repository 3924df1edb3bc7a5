"""Standard Webhooks signing, the webhook jobs and their backoff, without I/O.

Signatures are checked three ways: against the spec's own test vector, against a
verifier written here from the spec's text alone, and against the receiver snippet of
docs/events.md, run exactly as it is printed there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from mediaport import webhooks
from mediaport.config import ConfigurationError
from mediaport.webhooks import MAX_BACKOFF_SECONDS, WebhookJob

ROOT = Path(__file__).resolve().parents[2]
# The Standard Webhooks reference libraries' test vector (their test_sign_function):
# this secret, id, timestamp and payload sign to exactly this signature.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_PAYLOAD = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
DETAIL = {"eventId": "a1:2:media-ready", "assetId": "a1", "occurredAt": "2026-11-22T10:01:00Z"}


def spec_verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> bool:
    """The spec's verification, written from its text: the key is the base64 after
    "whsec_"; the signed content is "{webhook-id}.{webhook-timestamp}.{body}"; the header
    holds space-separated "{version},{base64 signature}" entries, any v1 of which may
    match; a timestamp more than five minutes off is refused."""
    key = base64.b64decode(secret.split("_", 1)[1])
    timestamp = headers["webhook-timestamp"]
    if abs(now - int(timestamp)) > 5 * 60:
        return False
    content = headers["webhook-id"].encode() + b"." + timestamp.encode() + b"." + body
    mac = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, mac):
            return True
    return False


def signed_delivery(now: int) -> tuple[dict[str, str], bytes]:
    job = WebhookJob.model_validate_json(
        webhooks.job_for("https://example.test/hook", DETAIL["eventId"], "Media Ready", DETAIL)
    )
    key = webhooks.signing_key(SECRET)
    return webhooks.signed_headers(key, job.webhookId, now, job.payload), job.payload.encode()


# --- Signing ---------------------------------------------------------------------------------


def test_the_signature_is_the_spec_test_vectors() -> None:
    key = webhooks.signing_key(VECTOR_SECRET)

    assert webhooks.sign(key, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) == VECTOR_SIGNATURE


def test_a_delivery_verifies_with_an_independent_implementation_of_the_spec() -> None:
    now = int(time.time())
    headers, body = signed_delivery(now)

    assert headers["webhook-id"] == DETAIL["eventId"]
    assert headers["webhook-timestamp"] == str(now)
    assert headers["content-type"] == "application/json"
    assert spec_verify(SECRET, headers, body, now)
    assert not spec_verify(SECRET, headers, body.replace(b"a1", b"a2"), now)
    other = "whsec_" + base64.b64encode(bytes(range(1, 33))).decode()
    assert not spec_verify(other, headers, body, now)


def test_the_body_is_the_standard_webhooks_payload_shape() -> None:
    job = json.loads(
        webhooks.job_for("https://example.test/h", "a1:2:media-ready", "Media Ready", DETAIL)
    )

    assert (job["url"], job["webhookId"], job["type"]) == (
        "https://example.test/h",
        "a1:2:media-ready",
        "Media Ready",
    )
    assert json.loads(job["payload"]) == {
        "type": "Media Ready",
        "timestamp": "2026-11-22T10:01:00Z",
        "data": DETAIL,
    }


def test_every_attempt_signs_the_same_body_with_its_own_timestamp() -> None:
    first_headers, first_body = signed_delivery(1_800_000_000)
    later_headers, later_body = signed_delivery(1_800_000_060)

    assert first_body == later_body
    assert first_headers["webhook-id"] == later_headers["webhook-id"]
    assert first_headers["webhook-signature"] != later_headers["webhook-signature"]


# --- The receiver of docs/events.md ------------------------------------------------------


def docs_receiver() -> dict[str, Any]:
    """The verification snippet of docs/events.md, executed as printed."""
    text = (ROOT / "docs" / "events.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    (snippet,) = [block for block in blocks if "def verify(" in block]
    assert len(snippet.strip().splitlines()) <= 12  # ten lines of Python, give or take
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "docs/events.md", "exec"), namespace)  # noqa: S102 - our own doc
    return namespace


def test_the_receiver_in_the_docs_accepts_a_signed_delivery() -> None:
    verify = docs_receiver()["verify"]
    headers, body = signed_delivery(int(time.time()))

    assert verify(SECRET, headers, body) is True


def test_the_receiver_in_the_docs_refuses_what_it_must() -> None:
    verify = docs_receiver()["verify"]
    headers, body = signed_delivery(int(time.time()))
    stale_headers, stale_body = signed_delivery(int(time.time()) - 600)

    assert verify(SECRET, headers, body + b" ") is False  # tampered
    assert verify("whsec_" + base64.b64encode(b"x" * 32).decode(), headers, body) is False
    assert verify(SECRET, stale_headers, stale_body) is False  # a replay, ten minutes late
    several = {**headers, "webhook-signature": "v1,bm9wZQ== " + headers["webhook-signature"]}
    assert verify(SECRET, several, body) is True  # one valid signature of several is enough


# --- Configuration ---------------------------------------------------------------------------


def test_webhook_urls_are_one_or_several_separated_by_commas() -> None:
    assert webhooks.webhook_urls("") == ()
    assert webhooks.webhook_urls(" https://a.example/h ") == ("https://a.example/h",)
    assert webhooks.webhook_urls(
        "https://a.example/h, http://127.0.0.1:9/x,,https://a.example/h"
    ) == (
        "https://a.example/h",
        "http://127.0.0.1:9/x",
    )


@pytest.mark.parametrize(
    "setting", ["ftp://a.example/h", "a.example/h", "https://user:pw@a.example/h", "https:///h"]
)
def test_a_webhook_url_that_is_not_plain_http_is_refused(setting: str) -> None:
    with pytest.raises(ConfigurationError, match="MEDIAPORT_WEBHOOK_URL"):
        webhooks.webhook_urls(setting)


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (None, "no secret"),
        ("", "no secret"),
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "does not start"),
        ("whsec_not base64!", "followed by base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "at least 24"),
    ],
)
def test_a_secret_that_is_not_a_standard_webhooks_secret_is_refused(
    secret: str | None, problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem) as raised:
        webhooks.signing_key(secret)
    if secret:
        assert secret.removeprefix("whsec_") not in str(raised.value)  # never the value


# --- Backoff ---------------------------------------------------------------------------------


def test_each_retry_waits_twice_as_long_up_to_twelve_hours() -> None:
    assert [webhooks.backoff_seconds(n, 30) for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert webhooks.backoff_seconds(12, 30) == MAX_BACKOFF_SECONDS == 43_200
    assert webhooks.backoff_seconds(10_000, 30) == MAX_BACKOFF_SECONDS
    assert webhooks.backoff_seconds(3, 1) == 4


def test_only_the_queues_last_receive_is_the_last_attempt() -> None:
    assert webhooks.Attempt(5, "r", max_receive_count=5).is_last
    assert not webhooks.Attempt(4, "r", max_receive_count=5).is_last
    assert not webhooks.Attempt(99, "r").is_last
