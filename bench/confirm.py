"""Confirm against its floor: the time of ``PATCH /media/{id}/confirm`` of a fresh 1 MB
JPEG upload, beside HEAD + GET + a full Pillow decode of the same object from the same
storage endpoint (the least any verification of those bytes can do).

    PYTHONPATH=.:layers/core/python .venv/bin/python bench/confirm.py   # --runs 25
    ... bench/confirm.py --url http://127.0.0.1:8000                     # a running stack

Starts the local stack on free ports (or uses the one at ``--url``), generates a 1 MB
photo-like JPEG, then ``--runs`` times: presign + PUT a fresh copy (its own bytes), then
time, in an order that alternates from run to run, (a) the confirm, as a client sees it
(one keep-alive HTTP session, the 204 read), and (b) the floor: HEAD, GET and
``Image.load()`` of that object with boto3 against the stack's moto (the endpoint the
presigned URL names). The upload's S3 event reaches the event worker meanwhile, as it does
on AWS: whichever of the two settles first decides. Reported: the medians, p95s, and the
ratio of the medians (target ≤ 2.00). The last line is
``confirm_ratio_vs_floor=<x.xx> target=<=2.00 met=yes|no``.
"""

from __future__ import annotations

import argparse
import functools
import io
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from bench.localstack import (  # noqa: E402
    Api,
    add_stack_options,
    jpeg_of_about,
    local_stack,
    machine,
    percentile,
    storage_endpoint,
    unique_copy,
    verdict,
)
from infra.local.config import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY  # noqa: E402

TARGET_RATIO = 2.0
FILE_BYTES = 1_000_000


def storage_client(endpoint: str) -> object:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def floor(s3: object, bucket: str, key: str) -> None:
    """HEAD, GET and a full decode of one object: what verifying its bytes needs at least."""
    s3.head_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]  # type: ignore[attr-defined]
    data = body.read()
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="fresh uploads timed (default 25)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed uploads first (default 3)")
    add_stack_options(parser)
    args = parser.parse_args()

    photo = jpeg_of_about(FILE_BYTES)
    with Image.open(io.BytesIO(photo)) as image:
        size = image.size
    print(f"# {machine()}")
    print(f"# JPEG {size[0]}x{size[1]}, {len(photo):,} bytes; {args.runs} runs")
    with local_stack(args.url, "mediaport-bench-confirm.log") as stack:
        api = Api(stack)
        user = f"bench-confirm-{uuid.uuid4().hex[:8]}"
        s3: object | None = None
        confirms: list[float] = []
        floors: list[float] = []
        for run in range(args.warmup + args.runs):
            # Each upload its own bytes (a different comment), as each user's photo is.
            data = unique_copy(photo, f"mediaport bench confirm {run}")
            ticket = api.presign(user, data)
            api.put(ticket, data)
            if s3 is None:
                s3 = storage_client(storage_endpoint(ticket["uploadUrl"]))
            bucket, key = _bucket_and_key(ticket["uploadUrl"])
            measure_confirm = functools.partial(api.confirm, user, ticket["assetId"])
            measure_floor = functools.partial(floor, s3, bucket, key)
            if run % 2:
                floor_ms, confirm_ms = timed(measure_floor), timed(measure_confirm)
            else:
                confirm_ms, floor_ms = timed(measure_confirm), timed(measure_floor)
            if run >= args.warmup:
                confirms.append(confirm_ms)
                floors.append(floor_ms)

    confirm_median = statistics.median(confirms)
    floor_median = statistics.median(floors)
    ratio = confirm_median / floor_median
    print(f"# load average after: {machine().rsplit('load average ', 1)[1]}")
    print()
    print("| measured (1 MB JPEG) | median | p95 | min |")
    print("|---|---:|---:|---:|")
    for name, values in (("confirm", confirms), ("floor: HEAD + GET + decode", floors)):
        print(
            f"| {name} | {statistics.median(values):.1f} ms | "
            f"{percentile(values, 0.95):.1f} ms | {min(values):.1f} ms |"
        )
    print()
    print(f"confirm_median_ms={confirm_median:.1f}")
    print(f"floor_median_ms={floor_median:.1f}")
    print(
        f"confirm_ratio_vs_floor={ratio:.2f} target=<={TARGET_RATIO:.2f} "
        f"met={verdict(ratio <= TARGET_RATIO)}"
    )


def _bucket_and_key(upload_url: str) -> tuple[str, str]:
    path = unquote(urlsplit(upload_url).path).lstrip("/")
    bucket, _, key = path.partition("/")
    return bucket, key


if __name__ == "__main__":
    main()
