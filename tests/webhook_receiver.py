"""A real webhook receiver on loopback, for the tests: it records every POST (headers,
raw body, when) and answers each with the next status of its script: first the statuses
given for the delivery's asset, then those given for any delivery, then 200."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    # When it came (time.monotonic()).
    at: float = 0.0

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload

    def signed_with(self, secret: str, now: float | None = None) -> bool:
        """The Standard Webhooks check, from the spec's text: HMAC-SHA256 keyed with the
        base64 after "whsec_", over "{id}.{timestamp}.{body}"; any v1 entry may match; the
        timestamp within five minutes."""
        timestamp = self.headers["webhook-timestamp"]
        if abs((now if now is not None else time.time()) - int(timestamp)) > 300:
            return False
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{self.webhook_id}.{timestamp}.".encode() + self.body
        mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(entry == f"v1,{mac}" for entry in self.headers["webhook-signature"].split(" "))


@dataclass
class Receiver:
    """Where the webhooks go: ``url``; what came: ``deliveries``."""

    url: str
    statuses: list[int] = field(default_factory=list)
    # Statuses to answer first to the deliveries of one asset (its data.assetId).
    failing: dict[str, list[int]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    # Where a 3xx answer points (its Location).
    location: str = "/elsewhere"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: bytes) -> int:
        try:
            asset_id = json.loads(body).get("data", {}).get("assetId")
        except ValueError:
            asset_id = None
        with self.lock:
            if self.failing.get(asset_id):
                return self.failing[asset_id].pop(0)
            return self.statuses.pop(0) if self.statuses else 200

    def of(self, asset_id: str, detail_type: str | None = None) -> list[Delivery]:
        """The deliveries of one asset's events (of one detail-type)."""
        with self.lock:
            return [
                d
                for d in self.deliveries
                if d.payload["data"].get("assetId") == asset_id
                and (detail_type is None or d.payload["type"] == detail_type)
            ]

    def wait_for(self, count: int, within: float = 30.0) -> list[Delivery]:
        """The deliveries, once there are at least ``count`` (fails after ``within`` s)."""
        deadline = time.monotonic() + within
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, f"{len(self.deliveries)} of {count} came"
            time.sleep(0.1)
        return list(self.deliveries)


@contextmanager
def webhook_receiver(*statuses: int, path: str = "/hooks/mediaport") -> Iterator[Receiver]:
    """A receiver on a free loopback port, answering ``statuses`` in turn, then 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = receiver.answer(body)
            with receiver.lock:
                receiver.deliveries.append(
                    Delivery(
                        self.path,
                        {name.lower(): value for name, value in self.headers.items()},
                        body,
                        status,
                        time.monotonic(),
                    )
                )
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}{path}")
    receiver.statuses.extend(statuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
