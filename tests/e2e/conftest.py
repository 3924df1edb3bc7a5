"""End-to-end tests: the real local stack (`python -m infra.local`), started once per
session on free ports, reached over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser

from infra.local.tokens import issue_token
from tests.e2e.browser import Demo, launch_chromium, open_demo

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

    def auth(self, user: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(user)}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    api_port, aws_port = _free_port(), _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "local-stack.log"
    env = {
        **os.environ,
        "MEDIAPORT_API_PORT": str(api_port),
        "MEDIAPORT_AWS_PORT": str(aws_port),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers/core/python'}",
        "PYTHONUNBUFFERED": "1",
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
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    stack = LocalStack(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}", log)
    try:
        _wait_until_up(stack, process)
        yield stack
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(stack: LocalStack, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited:\n{stack.log.read_text()}")
        try:
            if requests.get(f"{stack.api_url}/health", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the local stack did not come up:\n{stack.log.read_text()}")


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
