"""Webhooks over real HTTP, both ways: the local stack (a child process) POSTs every event
to a receiver on loopback that the test runs, signed as Standard Webhooks says.

The last test kills the stack between an asset's write and the publishing of its event,
and restarts it: the event is still delivered. "Between" is made certain, not left to
timing: the first stack runs with its publish_events stream mapping disabled
(``MEDIAPORT_LOCAL_EVENTS=off``, as an event source mapping can be disabled on AWS), so
its worker never gets to the record, whatever the timing; the stack is then killed
(SIGKILL: no cleanup, no flush). Both stacks use one emulator that outlives them
(``MEDIAPORT_EMULATOR=external``), as DynamoDB outlives a Lambda function: the record
waits in the stream, and the restarted worker, reading from the stream's start as a new
mapping does, publishes it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from moto.server import ThreadedMotoServer

from infra.local.child import run_local_stack
from infra.local.config import LocalConfig
from infra.local.emulator import keep_aws_promises
from infra.local.tokens import issue_token
from mediaport import names
from tests import samples
from tests.e2e.conftest import ARTIFACTS, E2E_WEBHOOK_SECRET, WebhookStack
from tests.webhook_receiver import Delivery, Receiver, webhook_receiver

AUTH = {"Authorization": f"Bearer {issue_token('alice')}"}


def presign(api_url: str, data: bytes, content_type: str, name: str) -> dict[str, Any]:
    response = requests.post(
        f"{api_url}/media/presign",
        json={"filename": name, "contentType": content_type, "size": len(data)},
        headers=AUTH,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def put(ticket: dict[str, Any], data: bytes) -> None:
    """The bytes, with the presigned PUT (no confirm: the S3 event path settles them)."""
    upload = requests.put(ticket["uploadUrl"], data=data, headers=ticket["headers"], timeout=30)
    assert upload.status_code == 200, upload.text


def confirm(api_url: str, ticket: dict[str, Any]) -> None:
    """PUT and confirm: READY when this returns."""
    put(ticket, samples.PDF_BYTES)
    response = requests.patch(
        f"{api_url}/media/{ticket['assetId']}/confirm", headers=AUTH, timeout=10
    )
    assert response.status_code == 204, response.text


def pdf_ticket(api_url: str) -> dict[str, Any]:
    """A PDF's presign (no variants: its READY is one event)."""
    return presign(api_url, samples.PDF_BYTES, "application/pdf", "doc.pdf")


def wait_for(receiver: Receiver, asset_id: str, count: int, within: float = 40) -> list[Delivery]:
    deadline = time.monotonic() + within
    while len(found := receiver.of(asset_id)) < count:
        assert time.monotonic() < deadline, f"{len(found)} of {count} deliveries came: {found}"
        time.sleep(0.1)
    return found


def test_an_upload_is_one_signed_media_ready_delivery(webhook_stack: WebhookStack) -> None:
    stack, receiver = webhook_stack.stack, webhook_stack.receiver
    photo = samples.encode(samples.photo(800, 600), "JPEG", quality=85)
    ticket = presign(stack.api_url, photo, "image/jpeg", "photo.jpg")
    asset_id = ticket["assetId"]

    put(ticket, photo)

    wait_for(receiver, asset_id, 4)  # Media Ready, then a Variant Ready per thumbnail
    time.sleep(2)  # anything more would have come by now
    (ready,) = receiver.of(asset_id, "Media Ready")
    assert ready.signed_with(E2E_WEBHOOK_SECRET)
    assert ready.webhook_id == ready.payload["data"]["eventId"]
    assert ready.payload["data"]["assetId"] == asset_id
    assert ready.payload["data"]["status"] == "READY"
    assert ready.headers["content-type"] == "application/json"
    assert ready.path == "/hooks/mediaport"
    variants = receiver.of(asset_id, "Variant Ready")
    assert sorted(d.payload["data"]["variant"]["name"] for d in variants) == ["1024", "128", "512"]
    assert all(d.signed_with(E2E_WEBHOOK_SECRET) for d in variants)


def test_a_receiver_failing_twice_gets_the_same_delivery_three_times(
    webhook_stack: WebhookStack,
) -> None:
    stack, receiver = webhook_stack.stack, webhook_stack.receiver
    ticket = pdf_ticket(stack.api_url)
    asset_id = ticket["assetId"]
    receiver.failing[asset_id] = [500, 500]  # its event comes with the upload, not before

    confirm(stack.api_url, ticket)

    first, second, third = wait_for(receiver, asset_id, 3)

    assert [d.status for d in (first, second, third)] == [500, 500, 200]
    assert first.webhook_id == second.webhook_id == third.webhook_id
    assert first.body == second.body == third.body
    assert all(d.signed_with(E2E_WEBHOOK_SECRET) for d in (first, second, third))
    # Backoff: 1 s after the first failure, 2 s after the second (the worker polls each
    # second, so each wait is at least that).
    assert second.at - first.at >= 0.9
    assert third.at - second.at >= 1.9
    time.sleep(2)
    assert len(receiver.of(asset_id)) == 3  # done: no fourth


# --- A crash between the write and the publish ---------------------------------------------


@pytest.fixture
def emulator() -> Iterator[LocalConfig]:
    """moto on a free port in this process, outliving the stacks started against it."""
    keep_aws_promises()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = LocalConfig(aws_port=port)
    server = ThreadedMotoServer(ip_address=config.host, port=config.aws_port, verbose=False)
    server.start()
    requests.post(f"{config.aws_endpoint}/moto-api/reset", timeout=10)
    try:
        yield config
    finally:
        requests.post(f"{config.aws_endpoint}/moto-api/reset", timeout=10)
        server.stop()


def test_killing_the_stack_between_the_write_and_the_publish_still_delivers(
    emulator: LocalConfig,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with webhook_receiver() as receiver:
        settings = {
            "MEDIAPORT_SCAN": "off",
            "MEDIAPORT_EMULATOR": "external",
            "MEDIAPORT_LOCAL_EVENTS": "on",
            "MEDIAPORT_AWS_PORT": str(emulator.aws_port),
            names.ENV_WEBHOOK_URL: receiver.url,
            names.ENV_WEBHOOK_SECRET: E2E_WEBHOOK_SECRET,
            "MEDIAPORT_WEBHOOK_BACKOFF_SECONDS": "1",
        }
        before = ARTIFACTS / "local-stack-killed.log"
        with run_local_stack(before, {**settings, "MEDIAPORT_LOCAL_EVENTS": "off"}) as first:
            # The write: READY when confirm answers.
            ticket = pdf_ticket(first.config.api_url)
            asset_id = ticket["assetId"]
            confirm(first.config.api_url, ticket)
            read = requests.get(
                f"{first.config.api_url}/media/{asset_id}", headers=AUTH, timeout=10
            )
            assert read.json()["status"] == "READY"
            time.sleep(2)  # its worker polls every second: it would have published by now
            assert receiver.deliveries == []
            # The crash: no cleanup, no flush, nothing published.
            first.process.kill()
            first.process.wait(timeout=10)

        after = ARTIFACTS / "local-stack-restarted.log"
        with run_local_stack(after, settings) as second:
            (ready,) = wait_for(receiver, asset_id, 1)
            time.sleep(2)
            assert len(receiver.of(asset_id)) == 1
            assert second.config.aws_port == emulator.aws_port

    assert ready.payload["type"] == "Media Ready"
    assert ready.payload["data"]["assetId"] == asset_id
    assert ready.signed_with(E2E_WEBHOOK_SECRET)
    assert "publish_events" not in Path(before).read_text()
