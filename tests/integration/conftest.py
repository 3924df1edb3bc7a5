"""Integration tests: the real handlers behind the real local gateway, AWS emulated
in-process by moto (``mock_aws``). Nothing of ours is mocked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws
from werkzeug.test import Client, TestResponse

from infra.local.config import LocalConfig
from infra.local.emulator import keep_aws_promises
from infra.local.gateway import Gateway
from infra.local.provision import provision
from infra.local.tokens import issue_token
from mediaport import idempotency
from mediaport.adapters import jobs, storage
from mediaport.config import get_settings
from mediaport.services import current_services

CONFIG = LocalConfig()


@dataclass
class Stack:
    """What a test can reach: the API (through the gateway) and the emulated AWS."""

    client: Client
    s3: Any
    dynamodb: Any
    sqs: Any
    queues: dict[str, str]
    bucket: str = CONFIG.bucket_name
    table: str = CONFIG.table_name

    def call(
        self, method: str, path: str, user: str | None = "alice", **kwargs: Any
    ) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"Bearer {issue_token(user)}"
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def presign(self, user: str = "alice", **body: Any) -> TestResponse:
        return self.call("POST", "/media/presign", user=user, json=body)

    def upload(self, ticket: dict[str, Any], data: bytes) -> requests.Response:
        """Send the bytes with the ticket alone (its URL and signed headers, or its form
        fields), as a client would: no privileged client, nothing the ticket does not say."""
        if ticket["method"] == "POST":
            response = requests.post(
                ticket["uploadUrl"], data=ticket["fields"], files={"file": data}, timeout=30
            )
        else:
            headers = {**ticket["headers"], "Content-Length": str(len(data))}
            response = requests.put(ticket["uploadUrl"], data=data, headers=headers, timeout=30)
        assert response.ok, response.text
        return response

    def start_upload(
        self, data: bytes, content_type: str, user: str = "alice", **body: Any
    ) -> dict[str, Any]:
        """Presign and upload; returns the ticket."""
        body.setdefault("filename", "file")
        response = self.presign(user=user, contentType=content_type, size=len(data), **body)
        assert response.status_code == 201, response.get_data(as_text=True)
        ticket: dict[str, Any] = response.get_json()
        self.upload(ticket, data)
        return ticket

    def asset_item(self, asset_id: str) -> dict[str, Any]:
        item: dict[str, Any] = (
            self.dynamodb.Table(self.table)
            .get_item(Key={"assetId": asset_id}, ConsistentRead=True)
            .get("Item", {})
        )
        return item

    def object_exists(self, key: str) -> bool:
        return "Contents" in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key)


def count_table_calls(stack: Stack, operation: str) -> Callable[[], int]:
    """From now on, count the asset table's ``operation`` calls (e.g. "Query")."""
    client = current_services().assets.record._get_connection().connection.client
    calls: list[str] = []
    client.meta.events.register(
        f"before-call.dynamodb.{operation}", lambda **_: calls.append(operation)
    )
    return lambda: len(calls)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in CONFIG.function_environment().items():
        if not name.startswith(("AWS_ENDPOINT", "AWS_ACCESS", "AWS_SECRET")):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    storage.s3_client.cache_clear()
    jobs.sqs_client.cache_clear()
    idempotency.clear_stores()
    keep_aws_promises()
    with mock_aws():
        queues = provision(CONFIG)
        yield Stack(
            client=Client(Gateway(CONFIG)),
            s3=boto3.client("s3", region_name=CONFIG.region),
            dynamodb=boto3.resource("dynamodb", region_name=CONFIG.region),
            sqs=boto3.client("sqs", region_name=CONFIG.region),
            queues=queues,
        )
    get_settings.cache_clear()
    storage.s3_client.cache_clear()
