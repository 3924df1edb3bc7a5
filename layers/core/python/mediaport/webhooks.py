"""Webhooks, for host apps that are not on AWS: every event POSTed to each configured URL,
signed as the Standard Webhooks spec says (https://www.standardwebhooks.com/).

``publish_events`` queues one job per event and URL (``job_for``); ``deliver_webhooks``
sends it (``deliver_job``). A delivery succeeds only on a 2xx answer (a redirect is not
followed: it is a failure). A failed one is retried through the queue, later each time:
the message stays invisible for ``backoff × 2^(receiveCount-1)`` seconds, at most SQS's 12
hours, and after the queue's maxReceiveCount it goes to the dead-letter queue.

Each attempt is signed anew (``webhook-timestamp`` is the attempt's time, so a receiver
may refuse old ones) over exactly the same body, with the same ``webhook-id``: the event's
``eventId``, on which a receiver dedupes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from mediaport.adapters import publisher
from mediaport.config import ConfigurationError, Settings
from mediaport.observability import logger

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix every such secret starts with
# The spec's shortest secret (192 bits); a shorter key is refused, not used.
MIN_KEY_BYTES = 24
# How long one POST may take (connecting, sending, the answer's status line).
TIMEOUT_SECONDS = 10
# SQS's longest visibility timeout: no retry waits longer.
MAX_BACKOFF_SECONDS = 12 * 3600
USER_AGENT = "Mediaport-Webhooks/1"
# What is read of an answer at most: its status is what counts.
_ANSWER_BYTES = 64 * 1024


class WebhookJob(BaseModel):
    """One event for one URL, as queued: the body is made once, so every attempt sends the
    very same bytes."""

    model_config = ConfigDict(extra="ignore")

    url: str = Field(min_length=1, max_length=2048)
    webhookId: str = Field(min_length=1, max_length=256)
    type: str = Field(min_length=1, max_length=64)
    payload: str = Field(min_length=2)


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx (or could not be reached): the job is retried."""


class NotEnoughTime(Exception):
    """Too little of the invocation is left for a POST that may take the whole timeout."""


@dataclass(frozen=True)
class Attempt:
    """Which delivery of the job this is (SQS's ApproximateReceiveCount) and its receipt."""

    receive_count: int
    receipt_handle: str
    # The queue's maxReceiveCount; None when unknown (no delivery counts as the last).
    max_receive_count: int | None = None
    # The queue it came from (the record's eventSourceARN): where to put it off, when
    # MEDIAPORT_WEBHOOK_QUEUE_URL does not say.
    queue_arn: str | None = None

    @property
    def is_last(self) -> bool:
        return self.max_receive_count is not None and self.receive_count >= self.max_receive_count


# --- Configuration ------------------------------------------------------------------------


def webhook_urls(setting: str) -> tuple[str, ...]:
    """The URLs of ``MEDIAPORT_WEBHOOK_URL`` (one, or several separated by commas), each
    once; ``ConfigurationError`` for one that is not an http(s) URL."""
    urls: list[str] = []
    for raw in setting.split(","):
        url = raw.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"MEDIAPORT_WEBHOOK_URL: {url!r} is not an http:// or https:// URL"
            )
        if parts.username is not None or parts.password is not None:
            # They would be logged with the URL; the signature is what authenticates us.
            raise ConfigurationError("MEDIAPORT_WEBHOOK_URL: a URL must not carry credentials")
        if url not in urls:
            urls.append(url)
    return tuple(urls)


def signing_key(secret: str | None) -> bytes:
    """The HMAC key of a Standard Webhooks secret: base64-decoded after ``whsec_``."""
    if not secret:
        raise ConfigurationError(
            "webhooks are on but have no secret: set MEDIAPORT_WEBHOOK_SECRET (locally) or "
            "MEDIAPORT_WEBHOOK_SECRET_ARN (the Secrets Manager secret, on AWS)"
        )
    if not secret.startswith(SECRET_PREFIX):
        raise ConfigurationError(f'the webhook secret does not start with "{SECRET_PREFIX}"')
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ConfigurationError(
            f'the webhook secret is not "{SECRET_PREFIX}" followed by base64'
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"the webhook secret's key has {len(key)} bytes; at least {MIN_KEY_BYTES} are needed"
        )
    return key


def secret_of(settings: Settings) -> str | None:
    """The signing secret: read from Secrets Manager when its ARN is set (AWS), else the
    value itself (the local stack's dev key)."""
    if settings.webhook_secret_arn:
        return publisher.read_secret(settings.webhook_secret_arn)
    return settings.webhook_secret


# --- Signing (the Standard Webhooks spec) ----------------------------------------------------


def sign(key: bytes, webhook_id: str, timestamp: int, body: str) -> str:
    """``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))."""
    signed = f"{webhook_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(key: bytes, webhook_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The headers of one attempt."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, webhook_id, timestamp, body),
    }


# --- Jobs ------------------------------------------------------------------------------------


def as_json(value: Any) -> str:
    """JSON as events and webhooks carry it (compact; the same value gives the same text)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def job_for(url: str, event_id: str, detail_type: str, detail: Mapping[str, Any]) -> str:
    """The queued job of one event for one URL; its payload is the POST body, shaped as
    Standard Webhooks suggests: ``{"type", "timestamp", "data"}``."""
    payload = as_json({"type": detail_type, "timestamp": detail["occurredAt"], "data": detail})
    job = WebhookJob(url=url, webhookId=event_id, type=detail_type, payload=payload)
    return job.model_dump_json()


def backoff_seconds(receive_count: int, base_seconds: int) -> int:
    """How long a job that just failed its ``receive_count``-th delivery waits: doubling
    from ``base_seconds``, at most 12 hours."""
    exponent = min(max(receive_count, 1) - 1, 20)  # 2^20 × 1 s is past the cap already
    return int(min(base_seconds * 2**exponent, MAX_BACKOFF_SECONDS))


# --- Delivery --------------------------------------------------------------------------------


def deliver_job(
    settings: Settings,
    job: WebhookJob,
    attempt: Attempt,
    key: Callable[[], bytes],
    *,
    now: Callable[[], float] = time.time,
) -> int | None:
    """POST one job, signed now. The receiver's 2xx status; ``DeliveryFailed`` otherwise,
    after the job's next delivery was put off by the backoff (the last one is not: it goes
    to the DLQ). None when the job's URL is not configured (any more): it is dropped,
    never sent where the deployer did not say (a message put on the queue by hand, or the
    setting changed since)."""
    if job.url not in webhook_urls(settings.webhook_url):
        logger.warning(
            "webhook job for a URL not configured: dropped", extra={"url": shown(job.url)}
        )
        return None
    timestamp = int(now())
    headers = signed_headers(key(), job.webhookId, timestamp, job.payload)
    try:
        status = post(job.url, job.payload.encode(), headers)
    except OSError as error:
        problem = f"{type(error).__name__}: {error}"
    else:
        if 200 <= status < 300:
            logger.info(
                "webhook delivered",
                extra={"webhookId": job.webhookId, "url": shown(job.url), "status": status},
            )
            return status
        problem = f"answered {status}"
    _put_off(settings, attempt)
    logger.warning(
        "webhook not delivered",
        extra={
            "webhookId": job.webhookId,
            "url": shown(job.url),
            "problem": problem,
            "receiveCount": attempt.receive_count,
            "last": attempt.is_last,
        },
    )
    raise DeliveryFailed(f"webhook {job.webhookId} to {shown(job.url)}: {problem}")


def _put_off(settings: Settings, attempt: Attempt) -> None:
    """Keep a failed job invisible for its backoff; the last delivery is left alone (SQS
    moves it to the DLQ once its visibility timeout ends)."""
    if attempt.is_last:
        return
    queue_url = settings.webhook_queue_url
    if not queue_url and attempt.queue_arn:
        queue_url = publisher.queue_url_of(attempt.queue_arn)
    if not queue_url:
        return  # the queue's own visibility timeout applies
    delay = backoff_seconds(attempt.receive_count, settings.webhook_backoff_seconds)
    publisher.retry_after(queue_url, attempt.receipt_handle, delay)


def shown(url: str) -> str:
    """A URL as logged: without its query, where a receiver may keep a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """One POST, no redirect followed, certificates verified (https); the answer's status.
    ``OSError`` (a timeout, a refused connection, a TLS failure) when there is none."""
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=TIMEOUT_SECONDS)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read(_ANSWER_BYTES)
        return response.status
    except http.client.HTTPException as error:  # a malformed answer: as good as none
        raise ConnectionError(f"bad answer: {type(error).__name__}") from error
    finally:
        connection.close()
