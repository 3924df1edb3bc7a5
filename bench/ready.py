"""Time to READY with variants: from the end of the PUT of a 12 MP JPEG until
``GET /media/{id}`` says ``processing: DONE``, on the local stack.

    PYTHONPATH=.:layers/core/python .venv/bin/python bench/ready.py   # --runs 20 --poll-ms 15
    ... bench/ready.py --url http://127.0.0.1:8000                     # a running stack

Starts the local stack on free ports (or uses the one at ``--url``), generates a 4000×3000
photo-like JPEG, then ``--runs`` times, one upload at a time: presign, PUT a copy with
bytes of its own, and poll ``GET /media/{id}`` every ``--poll-ms`` (default 15 ms) from the
moment the PUT's answer is read, noting when the asset is first seen READY (settled by the
S3 event) and when its processing is first seen DONE (variants written and recorded). No
confirm is sent: the event path alone makes the asset ready. A time is known to within one
poll: the interval plus one GET (its median is printed).

Where the time goes: when this benchmark started the stack, the upload worker's log lines
give each batch's time waiting in the queue (SentTimestamp → received) and in
process_upload; beside them, the benchmark times the steps of process_upload it can run
itself against the same moto: GET of the original (download), ``render_image`` (render)
and the three variant PUTs (writes). The last lines are
``ready_p50_ms=<n> target=report met=yes`` and ``ready_p95_ms=<n> target=report met=yes``.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from bench.confirm import storage_client  # noqa: E402
from bench.localstack import (  # noqa: E402
    Api,
    add_stack_options,
    load_average,
    local_stack,
    machine,
    percentile,
    photo_jpeg,
    storage_endpoint,
    unique_copy,
)
from mediaport.rendering import render_image  # noqa: E402

DEADLINE_SECONDS = 60
BATCH_LINE = re.compile(
    r"process_upload: batch of (\d+), queued (\d+) ms \(longest\), handled in (\d+) ms"
)


def wait_until_done(
    api: Api, user: str, asset_id: str, poll_seconds: float
) -> tuple[float, float, list[float]]:
    """(ms until READY was seen, ms until processing DONE was seen, each poll's ms)."""
    start = time.perf_counter()
    ready_ms: float | None = None
    polls: list[float] = []
    while time.perf_counter() - start < DEADLINE_SECONDS:
        asked = time.perf_counter()
        asset = api.asset(user, asset_id)
        polls.append((time.perf_counter() - asked) * 1000)
        seen_ms = (time.perf_counter() - start) * 1000
        if ready_ms is None and asset["status"] == "READY":
            ready_ms = seen_ms
        if asset.get("processing") == "DONE":
            return ready_ms or seen_ms, seen_ms, polls
        if asset["status"] not in ("PENDING", "READY"):
            raise RuntimeError(f"asset {asset_id} is {asset['status']}: {asset}")
        time.sleep(poll_seconds)
    raise RuntimeError(f"asset {asset_id} not DONE after {DEADLINE_SECONDS} s")


def component_times(photo: bytes, endpoint: str, bucket: str, runs: int) -> dict[str, float]:
    """Medians of the steps of process_upload the benchmark can run itself (ms)."""
    s3 = storage_client(endpoint)
    key = f"bench/ready/{uuid.uuid4()}.jpg"  # outside media/: no event, no asset
    s3.put_object(Bucket=bucket, Key=key, Body=photo)  # type: ignore[attr-defined]
    times: dict[str, list[float]] = {"download": [], "render": [], "writes": []}
    try:
        for _ in range(runs):
            started = time.perf_counter()
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[attr-defined]
            downloaded = time.perf_counter()
            rendition = render_image(io.BytesIO(data), "image/jpeg", 100_000_000)
            rendered = time.perf_counter()
            for variant in rendition.variants:
                s3.put_object(  # type: ignore[attr-defined]
                    Bucket=bucket, Key=f"{key}.{variant.name}.webp", Body=variant.webp
                )
            written = time.perf_counter()
            times["download"].append((downloaded - started) * 1000)
            times["render"].append((rendered - downloaded) * 1000)
            times["writes"].append((written - rendered) * 1000)
    finally:
        for suffix in ("", *(f".{name}.webp" for name in ("1024", "512", "128"))):
            s3.delete_object(Bucket=bucket, Key=key + suffix)  # type: ignore[attr-defined]
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="uploads timed (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed uploads first (default 2)")
    parser.add_argument("--poll-ms", type=float, default=15, help="poll interval (default 15)")
    add_stack_options(parser)
    args = parser.parse_args()

    photo = photo_jpeg(4000, 3000, quality=88)
    print(f"# {machine()}")
    print(f"# JPEG 4000x3000, {len(photo):,} bytes; {args.runs} runs; poll {args.poll_ms:g} ms")
    with local_stack(args.url, "mediaport-bench-ready.log") as stack:
        api = Api(stack)
        user = f"bench-ready-{uuid.uuid4().hex[:8]}"
        ready: list[float] = []
        done: list[float] = []
        polls: list[float] = []
        endpoint = bucket = ""
        for run in range(args.warmup + args.runs):
            data = unique_copy(photo, f"mediaport bench ready {run}")
            ticket = api.presign(user, data)
            api.put(ticket, data)  # the clock starts when the PUT's answer is read
            ready_ms, done_ms, poll_ms = wait_until_done(
                api, user, ticket["assetId"], args.poll_ms / 1000
            )
            endpoint = storage_endpoint(ticket["uploadUrl"])
            bucket = unquote(urlsplit(ticket["uploadUrl"]).path).lstrip("/").split("/")[0]
            if run >= args.warmup:
                ready.append(ready_ms)
                done.append(done_ms)
                polls += poll_ms
        batches = _worker_batches(stack.log, args.warmup)
        components = component_times(photo, endpoint, bucket, runs=5)

    print(f"# load average after: {load_average()}")
    print()
    print("| 12 MP JPEG, end of PUT → | p50 | p95 | max |")
    print("|---|---:|---:|---:|")
    for name, values in (("READY seen (settled)", ready), ("processing DONE seen", done)):
        print(
            f"| {name} | {percentile(values, 0.5):.0f} ms | {percentile(values, 0.95):.0f} ms "
            f"| {max(values):.0f} ms |"
        )
    print()
    poll_get = statistics.median(polls)
    print(f"poll: every {args.poll_ms:g} ms + one GET /media/{{id}} (median {poll_get:.0f} ms)")
    print()
    print("| where the time goes (medians) | ms |")
    print("|---|---:|")
    if batches:
        queued = statistics.median(b[0] for b in batches)
        handled = statistics.median(b[1] for b in batches)
        print(f"| in the upload queue (sent → received by the worker) | {queued:.0f} |")
        print(f"| process_upload (verify, settle, variants, record) | {handled:.0f} |")
    else:
        print("| queue and process_upload | (attached with --url: the worker's log is not read) |")
    for name, label in (
        ("download", "of which: GET of the original, timed here"),
        ("render", "of which: render_image (decode + 3 WebP + placeholder), timed here"),
        ("writes", "of which: 3 variant PUTs, timed here"),
    ):
        print(f"| {label} | {components[name]:.0f} |")
    print()
    print(f"ready_settled_p50_ms={percentile(ready, 0.5):.0f}")
    print(f"ready_p50_ms={percentile(done, 0.5):.0f} target=report met=yes")
    print(f"ready_p95_ms={percentile(done, 0.95):.0f} target=report met=yes")


def _worker_batches(log: Path | None, skip: int) -> list[tuple[float, float]]:
    """(queued ms, handled ms) of each process_upload batch the stack's log names."""
    if log is None or not log.exists():
        return []
    found = [
        (float(match.group(2)), float(match.group(3)))
        for match in BATCH_LINE.finditer(log.read_text(errors="replace"))
        if match.group(1) == "1"
    ]
    return found[skip + 1 :]  # the first: S3's test event, at start


if __name__ == "__main__":
    main()
