"""Webhooks in-process: publish_events queues one job per event and configured URL on
moto's webhook queue; the local worker hands the queue to deliver_webhooks, which POSTs
each job, signed, to a real receiver on loopback. A failed delivery is put off (its
message hidden for the backoff) and comes back with the same webhook-id."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local.config import DEV_WEBHOOK_SECRET
from infra.local.events import sqs_event
from infra.local.lambdas import invoke, load_module
from infra.local.worker import WEBHOOK_FUNCTION, EventWorker, StreamWorker
from mediaport import names
from mediaport.adapters import publisher
from mediaport.config import get_settings
from tests.integration.conftest import CONFIG, Stack
from tests.integration.library_helpers import ready_asset
from tests.webhook_receiver import webhook_receiver

REGION = CONFIG.region


@pytest.fixture
def hooks(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The stack with quick backoff (1 s), and no cached client or key of another test."""
    monkeypatch.setenv("MEDIAPORT_WEBHOOK_BACKOFF_SECONDS", "1")
    forget(monkeypatch)
    yield stack
    forget(monkeypatch)


def forget(_: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    for cached in (publisher.events_client, publisher.sqs_client, publisher.secrets_client):
        cached.cache_clear()
    publisher.queue_url_of.cache_clear()
    load_module(WEBHOOK_FUNCTION).signing_key.cache_clear()


def send_to(monkeypatch: pytest.MonkeyPatch, *urls: str) -> None:
    monkeypatch.setenv(names.ENV_WEBHOOK_URL, ",".join(urls))
    get_settings.cache_clear()


def publish_all(stack: Stack) -> None:
    StreamWorker(stack.table, REGION, None, publish_tables=(stack.table,)).poll_once()


def webhook_worker(stack: Stack) -> EventWorker:
    return EventWorker(
        stack.queues["webhook_queue_url"],
        stack.queues["webhook_queue_arn"],
        REGION,
        None,
        WEBHOOK_FUNCTION,
    )


def queued(stack: Stack, queue: str = "webhook_queue_url") -> list[dict[str, Any]]:
    """The messages on a queue now (received: hidden until their visibility ends)."""
    messages: list[dict[str, Any]] = []
    while batch := stack.sqs.receive_message(
        QueueUrl=stack.queues[queue], MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        messages += batch
    return messages


def a_ready_asset_published(stack: Stack) -> str:
    asset_id: str = ready_asset(stack)["assetId"]
    publish_all(stack)
    return asset_id


def test_each_event_is_one_job_per_configured_url(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    send_to(monkeypatch, "https://a.example/hook", "https://b.example/hook")

    asset_id = a_ready_asset_published(hooks)

    jobs = [json.loads(message["Body"]) for message in queued(hooks)]
    assert sorted(job["url"] for job in jobs) == [
        "https://a.example/hook",
        "https://b.example/hook",
    ]
    assert {job["webhookId"] for job in jobs} == {jobs[0]["webhookId"]}
    assert jobs[0]["webhookId"].startswith(f"{asset_id}:")
    payload = json.loads(jobs[0]["payload"])
    assert payload["type"] == "Media Ready"
    assert payload["data"]["assetId"] == asset_id
    assert payload["timestamp"] == payload["data"]["occurredAt"]


def test_without_a_webhook_url_no_job_is_queued(hooks: Stack) -> None:
    a_ready_asset_published(hooks)

    assert queued(hooks) == []


def test_a_job_is_posted_signed_and_done_on_a_2xx(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver(204) as receiver:
        send_to(monkeypatch, receiver.url)
        asset_id = a_ready_asset_published(hooks)

        assert webhook_worker(hooks).poll_once() == 1

    (delivery,) = receiver.deliveries
    assert delivery.path == "/hooks/mediaport"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.signed_with(DEV_WEBHOOK_SECRET)
    assert delivery.payload["type"] == "Media Ready"
    assert delivery.payload["data"]["assetId"] == asset_id
    assert delivery.webhook_id == delivery.payload["data"]["eventId"]
    assert queued(hooks) == []


def test_a_failed_delivery_comes_back_after_its_backoff_with_the_same_id(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver(500, 503) as receiver:
        send_to(monkeypatch, receiver.url)
        a_ready_asset_published(hooks)
        worker = webhook_worker(hooks)

        assert worker.poll_once() == 1  # 500: put off for 1 s
        assert worker.poll_once() == 0  # hidden meanwhile
        time.sleep(1.3)
        assert worker.poll_once() == 1  # 503: put off for 2 s
        time.sleep(1.0)
        assert worker.poll_once() == 0
        time.sleep(1.3)
        assert worker.poll_once() == 1  # 200

    assert [d.status for d in receiver.deliveries] == [500, 503, 200]
    assert len({d.webhook_id for d in receiver.deliveries}) == 1
    assert len({d.body for d in receiver.deliveries}) == 1
    assert all(d.signed_with(DEV_WEBHOOK_SECRET) for d in receiver.deliveries)
    assert queued(hooks) == []


def test_a_redirect_is_a_failure_and_is_not_followed(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver(302) as receiver:
        send_to(monkeypatch, receiver.url)
        a_ready_asset_published(hooks)

        webhook_worker(hooks).poll_once()

    assert [(d.path, d.status) for d in receiver.deliveries] == [("/hooks/mediaport", 302)]
    time.sleep(1.2)
    assert len(queued(hooks)) == 1  # to be delivered again


def test_an_unreachable_receiver_is_a_failure(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as receiver:
        url = receiver.url
    send_to(monkeypatch, url)  # nobody listens there any more
    a_ready_asset_published(hooks)
    messages = queued(hooks)
    event = sqs_event(messages, hooks.queues["webhook_queue_arn"], REGION)

    result = invoke(WEBHOOK_FUNCTION, event)

    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [messages[0]["MessageId"]]


def test_a_job_for_a_url_no_longer_configured_is_dropped(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as old, webhook_receiver() as new:
        send_to(monkeypatch, old.url)
        a_ready_asset_published(hooks)
        send_to(monkeypatch, new.url)

        assert webhook_worker(hooks).poll_once() == 1

    assert (old.deliveries, new.deliveries) == ([], [])
    assert queued(hooks) == []  # done with: never sent where it was not configured


def test_the_last_attempt_is_not_put_off_so_it_goes_to_the_dlq(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver(500) as receiver:
        send_to(monkeypatch, receiver.url)
        a_ready_asset_published(hooks)
        messages = queued(hooks)
        messages[0]["Attributes"]["ApproximateReceiveCount"] = "8"
        put_off: list[dict[str, Any]] = []
        publisher.sqs_client().meta.events.register(
            "before-call.sqs.ChangeMessageVisibility", lambda params, **_: put_off.append(params)
        )

        result = invoke(
            WEBHOOK_FUNCTION, sqs_event(messages, hooks.queues["webhook_queue_arn"], REGION)
        )

    assert len(result["batchItemFailures"]) == 1
    assert len(receiver.deliveries) == 1
    assert put_off == []


def test_on_aws_the_secret_is_read_from_secrets_manager_once(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "whsec_" + "c2VjcmV0cy1tYW5hZ2VyLWhvbGRzLXRoaXMta2V5IQ=="
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="mediaport-webhooks", SecretString=secret
    )["ARN"]
    monkeypatch.delenv(names.ENV_WEBHOOK_SECRET)
    monkeypatch.setenv(names.ENV_WEBHOOK_SECRET_ARN, arn)
    reads: list[str] = []
    publisher.secrets_client().meta.events.register(
        "before-call.secrets-manager.GetSecretValue", lambda **_: reads.append("read")
    )
    with webhook_receiver() as receiver:
        send_to(monkeypatch, receiver.url)
        ready_asset(hooks)
        a_ready_asset_published(hooks)  # both assets' Media Ready

        assert webhook_worker(hooks).poll_once() == 2

    assert len(receiver.deliveries) == 2
    assert all(d.signed_with(secret) for d in receiver.deliveries)
    assert not any(d.signed_with(DEV_WEBHOOK_SECRET) for d in receiver.deliveries)
    assert reads == ["read"]


def test_a_secret_that_is_not_a_standard_webhooks_secret_signs_nothing(
    hooks: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the stack's secret holds until the deployer puts one: a random value.
    monkeypatch.setenv(names.ENV_WEBHOOK_SECRET, "Zk9-random-password-not-whsec")
    with webhook_receiver() as receiver:
        send_to(monkeypatch, receiver.url)
        a_ready_asset_published(hooks)
        messages = queued(hooks)

        result = invoke(
            WEBHOOK_FUNCTION, sqs_event(messages, hooks.queues["webhook_queue_arn"], REGION)
        )

    assert len(result["batchItemFailures"]) == 1
    assert receiver.deliveries == []
