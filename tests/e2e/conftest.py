"""End-to-end tests: the real local stack (`python -m infra.local`), started once per
session on free ports, reached over real HTTP. ``local_stack`` scans nothing;
``scanning_stack`` is a second one with the stand-in scanner on (MEDIAPORT_SCAN=local)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from infra.local.child import run_local_stack
from infra.local.config import LocalConfig
from infra.local.tokens import issue_token
from mediaport import names
from tests.e2e.browser import Demo, launch_chromium, open_demo
from tests.webhook_receiver import Receiver, webhook_receiver

ROOT = Path(__file__).resolve().parents[2]
LARGE_SCOPE = "LARGE_MEDIA"
LARGE_SCOPE_POLICY = {
    "types": ["video/mp4", "audio/mpeg", "application/pdf", "image/jpeg", "image/png"],
    "maxBytes": 2 * 1024**3,
}
ARTIFACTS = ROOT / "test-artifacts"


@dataclass(frozen=True)
class LocalStack:
    api_url: str
    aws_endpoint: str
    log: Path
    # The stack's own settings (its bucket, tables, region, scanning mode), as it runs.
    config: LocalConfig

    def auth(self, user: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(user)}"}


def _stack_env() -> dict[str, str]:
    """What every test stack's functions read beyond the defaults: scopes and tiers."""
    return {
        # The defaults stop at 100 MiB; large uploads (multipart, Uppy) go to this one.
        "MEDIAPORT_SCOPES": json.dumps({LARGE_SCOPE: LARGE_SCOPE_POLICY}),
        # The default tiers, plus the small one test_usage_race.py fills.
        "MEDIAPORT_TIERS": json.dumps(
            {
                "free": {"storageBytes": 1024**3, "maxFiles": 10_000},
                "pro": {"storageBytes": 100 * 1024**3, "maxFiles": 1_000_000},
                "race": {"storageBytes": 3_000_000, "maxFiles": 1000},
            }
        ),
    }


def _start(log_name: str, extra_env: dict[str, str]) -> Iterator[LocalStack]:
    ARTIFACTS.mkdir(exist_ok=True)
    with run_local_stack(ARTIFACTS / log_name, {**_stack_env(), **extra_env}) as running:
        config = running.config
        yield LocalStack(config.api_url, config.aws_endpoint, running.log, config)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The stack most tests share: scanning off (whatever a .env says), so an asset is
    served as soon as it is READY."""
    yield from _start("local-stack.log", {"MEDIAPORT_SCAN": "off"})


@pytest.fixture(scope="session")
def scanning_stack() -> Iterator[LocalStack]:
    """A second stack with the stand-in scanner on (MEDIAPORT_SCAN=local: EICAR only) and
    scan errors blocking, on ports of its own; started only by the tests that ask for it."""
    yield from _start(
        "local-stack-scanning.log",
        {"MEDIAPORT_SCAN": "local", "MEDIAPORT_SCAN_ERROR_POLICY": "block"},
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one for every browser test of the run."""
    yield from launch_chromium()


@pytest.fixture
def demo(browser: Browser, local_stack: LocalStack) -> Iterator[Demo]:
    """The demo page in a fresh browser context (its own storage), closed after the test."""
    demo = open_demo(browser, local_stack.api_url)
    try:
        yield demo
    finally:
        demo.page.context.close()


# --- Webhooks (tests/e2e/test_webhooks.py) ---------------------------------------------------
# A signing secret of the tests' own (not the dev key), to show the setting reaches the
# functions: "whsec_" + base64 of 32 bytes.
E2E_WEBHOOK_SECRET = "whsec_ZTJlLXdlYmhvb2tzLXNpZ25pbmctc2VjcmV0LTMyYiE="


@dataclass(frozen=True)
class WebhookStack:
    stack: LocalStack
    receiver: Receiver


@pytest.fixture(scope="session")
def webhook_stack() -> Iterator[WebhookStack]:
    """A stack that POSTs every event to a real receiver on loopback (started here, its
    answers scripted by each test), signed with ``E2E_WEBHOOK_SECRET``, retrying 1 s, 2 s,
    4 s… apart; on ports of its own, started only by the tests that ask for it."""
    with webhook_receiver() as receiver:
        for stack in _start(
            "local-stack-webhooks.log",
            {
                "MEDIAPORT_SCAN": "off",
                # Whatever a .env says: its own emulator, its stream mapping on.
                "MEDIAPORT_EMULATOR": "embedded",
                "MEDIAPORT_LOCAL_EVENTS": "on",
                names.ENV_WEBHOOK_URL: receiver.url,
                names.ENV_WEBHOOK_SECRET: E2E_WEBHOOK_SECRET,
                "MEDIAPORT_WEBHOOK_BACKOFF_SECONDS": "1",
            },
        ):
            yield WebhookStack(stack, receiver)
