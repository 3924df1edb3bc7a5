"""What the local-stack benchmarks share (bench/confirm.py, ready.py, load.py): a stack
to run against (started here on free ports and stopped afterwards, or one already running,
given with ``--url``), dev tokens, the API calls of an upload, a photo-like JPEG of a given
size, percentiles, and a line about the machine."""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from infra.local.child import run_local_stack  # noqa: E402
from infra.local.tokens import issue_token  # noqa: E402

TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Stack:
    """The stack a benchmark talks to: its API, and the pid of its main process when this
    benchmark started it (None when attached with ``--url``)."""

    api_url: str
    pid: int | None = None
    log: Path | None = None


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=None,
        help="the API of a running local stack (e.g. http://127.0.0.1:8000, `make dev`); "
        "default: start one on free ports and stop it afterwards",
    )


@contextmanager
def local_stack(
    url: str | None, log_name: str, env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """The stack at ``url``, or a new one (``python -m infra.local`` on free ports, its
    output in a temp file, ``env`` over this environment), stopped on leaving."""
    if url:
        yield Stack(url.rstrip("/"))
        return
    log = Path(tempfile.gettempdir()) / log_name
    with run_local_stack(log, env) as running:
        yield Stack(running.config.api_url, running.process.pid, log)


def auth(user: str, tier: str | None = None) -> dict[str, str]:
    """The Authorization header of a dev token for ``user``."""
    return {"Authorization": f"Bearer {issue_token(user, tier=tier)}"}


class Api:
    """The upload routes over one keep-alive HTTP session (one per thread)."""

    def __init__(self, stack: Stack) -> None:
        self.base = stack.api_url
        self.http = requests.Session()

    def presign(
        self, user: str, data: bytes, filename: str = "photo.jpg", media_type: str = "image/jpeg"
    ) -> dict[str, Any]:
        response = self.http.post(
            f"{self.base}/media/presign",
            json={"filename": filename, "contentType": media_type, "size": len(data)},
            headers=auth(user),
            timeout=TIMEOUT_SECONDS,
        )
        _expect(response, 201)
        ticket: dict[str, Any] = response.json()
        return ticket

    def put(self, ticket: dict[str, Any], data: bytes) -> None:
        response = self.http.put(
            ticket["uploadUrl"], data=data, headers=ticket["headers"], timeout=TIMEOUT_SECONDS
        )
        _expect(response, 200)

    def confirm(self, user: str, asset_id: str) -> None:
        response = self.http.patch(
            f"{self.base}/media/{asset_id}/confirm", headers=auth(user), timeout=TIMEOUT_SECONDS
        )
        _expect(response, 204)

    def asset(self, user: str, asset_id: str) -> dict[str, Any]:
        response = self.http.get(
            f"{self.base}/media/{asset_id}", headers=auth(user), timeout=TIMEOUT_SECONDS
        )
        _expect(response, 200)
        asset: dict[str, Any] = response.json()
        return asset

    def usage(self, user: str) -> dict[str, Any]:
        response = self.http.get(
            f"{self.base}/media/usage", headers=auth(user), timeout=TIMEOUT_SECONDS
        )
        _expect(response, 200)
        summary: dict[str, Any] = response.json()
        return summary

    def upload(self, user: str, data: bytes) -> str:
        """Presign and PUT (no confirm); the asset id."""
        ticket = self.presign(user, data)
        self.put(ticket, data)
        return str(ticket["assetId"])


class UnexpectedAnswer(Exception):
    """A route answered something else than the benchmark expects."""


def _expect(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        raise UnexpectedAnswer(
            f"{response.request.method} {urlsplit(response.url).path}: "
            f"{response.status_code} {response.text[:300]}"
        )


def storage_endpoint(upload_url: str) -> str:
    """The storage endpoint (the stack's moto) a presigned URL points at."""
    parts = urlsplit(upload_url)
    return f"{parts.scheme}://{parts.netloc}"


def photo_jpeg(width: int, height: int, quality: int = 90, seed: int = 7) -> bytes:
    """A JPEG of photo-like content (gradients, a Mandelbrot channel, lines, grain), so the
    codec does real work; ``seed`` makes each one's bytes its own."""
    red = Image.linear_gradient("L").resize((width, height))
    blue = Image.radial_gradient("L").resize((width, height))
    green = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 1.0, 1.2), 60)
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    shades = random.Random(seed)
    step = max(width, height) // 20
    for i in range(0, max(width, height), step):
        shade = shades.randrange(256)
        draw.line((0, i, width, height - i), fill=(250 - shade, shade, 40), width=5)
    grain = Image.effect_noise((width, height), 14).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(image, grain, 0.12).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def jpeg_of_about(target_bytes: int, aspect: float = 4 / 3, seed: int = 7) -> bytes:
    """A photo-like JPEG within 5 % of ``target_bytes`` (its pixel count searched for)."""
    low, high = 64, 8000
    data = b""
    for _ in range(20):
        width = (low + high) // 2
        data = photo_jpeg(width, round(width / aspect), seed=seed)
        if abs(len(data) - target_bytes) <= target_bytes * 0.05:
            return data
        low, high = (width, high) if len(data) < target_bytes else (low, width)
    return data


def unique_copy(jpeg: bytes, label: str) -> bytes:
    """The same JPEG with bytes of its own: a COM segment (``label`` and a UUID) after SOI."""
    text = f"{label} {uuid.uuid4()}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` percentile (0..1) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * fraction
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    """One line: CPUs, Python, the load average now."""
    return (
        f"{os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}, "
        f"load average {load_average()}"
    )


def verdict(met: bool) -> str:
    return "yes" if met else "no"
