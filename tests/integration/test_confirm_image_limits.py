"""Confirm stays within the media function's memory and our pixel budget, whatever the
image claims.

The memory tests run confirm in a child process whose address space is capped at the
function's configured memory (``RLIMIT_AS``: it counts every mapping, including the
canvases libwebp allocates on open, which a Lambda sandbox of that size cannot grant).
Each also proves the cap bites: the same child decoding the sample naively dies.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from mediaport.config import get_settings
from tests import samples
from tests.integration.conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def media_memory_mb() -> int:
    from infra.constants import FUNCTION_SIZES

    return FUNCTION_SIZES["media"].memory_mb


def run_capped(mode: str, sample: Path, media_type: str, memory_mb: int) -> subprocess.Popen[str]:
    """Start a child (see ``_child``) under the cap; ``communicate()`` gives its output."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers/core/python")]),
    }
    module = "tests.integration.test_confirm_image_limits"
    return subprocess.Popen(
        [sys.executable, "-m", module, mode, str(sample), media_type, str(memory_mb)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(child: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = child.communicate(timeout=120)
    return child.returncode, stdout, stderr


# name: (make the bytes, media type). Each decodes naively to more than the cap.
MEMORY_SAMPLES = {
    "lossless-webp-9000x9000": (lambda: samples.lossless_webp(9000, 9000), "image/webp"),
    "flat-png-95mp": (lambda: samples.flat_png(9500, 10_000), "image/png"),
    "flat-gif-95mp": (lambda: samples.flat_gif(9500, 10_000), "image/gif"),
}


@pytest.mark.parametrize("name", MEMORY_SAMPLES)
def test_confirm_of_a_huge_image_answers_within_the_functions_memory(
    name: str, tmp_path: Path
) -> None:
    make, media_type = MEMORY_SAMPLES[name]
    sample = tmp_path / name
    sample.write_bytes(make())
    memory_mb = media_memory_mb()

    naive = run_capped("decode", sample, media_type, memory_mb)
    confirmed = run_capped("confirm", sample, media_type, memory_mb)
    (naive_code, naive_out, naive_err), (code, out, err) = finish(naive), finish(confirmed)

    assert naive_code != 0, f"the cap did not bite: {naive_out}{naive_err[-2000:]}"
    assert code == 0, err[-3000:]
    status = int(out.split()[-1])
    assert status in (204, 422), out
    assert status == 204  # all three are valid images within the default budget


def test_confirm_of_a_gif_of_thousands_of_frames_answers_within_the_functions_memory(
    tmp_path: Path,
) -> None:
    sample = tmp_path / "frames.gif"
    sample.write_bytes(samples.gif_with_frames(3000))

    code, out, err = finish(run_capped("confirm", sample, "image/gif", media_memory_mb()))

    assert code == 0, err[-3000:]
    assert out.split()[-1] == "204"


def test_a_lower_pixel_budget_is_honoured_by_confirm(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = samples.flat_png(9500, 10_000)  # 95 MP: within the default budget of 100 MP
    monkeypatch.setenv("MEDIAPORT_MAX_IMAGE_PIXELS", "50000000")
    get_settings.cache_clear()
    ticket = stack.start_upload(data, "image/png")

    response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")

    assert response.status_code == 422
    assert response.get_json()["rejectReason"] == "IMAGE_TOO_MANY_PIXELS"
    assert stack.asset_item(ticket["assetId"])["status"] == "REJECTED"


def test_the_default_pixel_budget_lets_a_95_megapixel_image_through_confirm(
    stack: Stack,
) -> None:
    ticket = stack.start_upload(samples.flat_png(9500, 10_000), "image/png")

    response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")

    assert response.status_code == 204
    item = stack.asset_item(ticket["assetId"])
    assert (item["status"], item["width"], item["height"]) == ("READY", 9500, 10_000)


def _child(mode: str, sample: str, media_type: str, memory_mb: int) -> None:
    """Cap the address space first, then load what the function would and do one thing."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MB, memory_mb * MB))
    if mode == "decode":
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = None
        with Image.open(sample) as image:
            image.convert("RGBA")
        print("decoded")
        return

    import boto3
    from moto import mock_aws
    from werkzeug.test import Client

    from infra.local.config import LocalConfig
    from infra.local.emulator import make_dynamodb_writes_atomic
    from infra.local.gateway import Gateway
    from infra.local.provision import provision
    from infra.local.tokens import issue_token

    config = LocalConfig()
    for name, value in config.function_environment().items():
        if not name.startswith(("AWS_ENDPOINT", "AWS_ACCESS", "AWS_SECRET")):
            os.environ[name] = value
    make_dynamodb_writes_atomic()
    data = Path(sample).read_bytes()
    with mock_aws():
        provision(config)
        client = Client(Gateway(config))
        headers = {"Authorization": f"Bearer {issue_token('alice')}"}
        ticket = client.post(
            "/media/presign",
            json={"filename": "f", "contentType": media_type, "size": len(data)},
            headers=headers,
        ).get_json()
        boto3.client("s3", region_name=config.region).put_object(
            Bucket=config.bucket_name, Key=ticket["key"], Body=data, ContentType=media_type
        )
        del data
        response = client.open(
            f"/media/{ticket['assetId']}/confirm", method="PATCH", headers=headers
        )
        print(response.get_data(as_text=True))
        print(response.status_code)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
