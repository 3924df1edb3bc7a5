"""The local stack in a child process on free ports, for the benchmarks and the e2e tests."""

from __future__ import annotations

import dataclasses
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.local.config import LocalConfig

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 120
STOP_SECONDS = 15


@dataclass(frozen=True)
class RunningStack:
    config: LocalConfig
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def run_local_stack(log: Path, extra_env: dict[str, str] | None = None) -> Iterator[RunningStack]:
    """`python -m infra.local` on free ports, its output in ``log``, stopped on leaving.

    The child reads its settings from this process's environment (with a `.env` the
    Makefile exported) and ``extra_env`` over it, as `make dev` does; only the ports are
    chosen here, so ``config`` is what the child really uses (``extra_env`` included: e.g.
    ``MEDIAPORT_SCAN``, or the scopes and tiers the functions read). With
    ``MEDIAPORT_EMULATOR=external`` the emulator's port is the one given: the child uses
    the emulator already listening there, which outlives it (a stack restarted on it finds
    its data, streams and queues as they were).
    """
    settings = {**os.environ, **(extra_env or {})}
    config = LocalConfig.from_environment(settings)
    external = config.emulator == "external"
    config = dataclasses.replace(
        config,
        api_port=_free_port(config.host),
        aws_port=config.aws_port if external else _free_port(config.host),
    )
    env = {
        **settings,
        "MEDIAPORT_API_PORT": str(config.api_port),
        "MEDIAPORT_AWS_PORT": str(config.aws_port),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers/core/python'}",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    stack = RunningStack(config, process, log)
    try:
        _wait_until_up(stack)
        yield stack
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(stack: RunningStack) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"the local stack exited:\n{stack.log.read_text()}")
        if _is_healthy(stack.config):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the local stack did not come up:\n{stack.log.read_text()}")


def _is_healthy(config: LocalConfig) -> bool:
    connection = http.client.HTTPConnection(config.host, config.api_port, timeout=5)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
