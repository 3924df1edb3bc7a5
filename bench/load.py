"""Load: concurrent presign → PUT → confirm flows against the local stack, on loopback,
bounded in count and in time; then a check that nothing was lost or counted twice.

    PYTHONPATH=.:layers/core/python .venv/bin/python bench/load.py   # --flows 200 --users 20
    ... bench/load.py --url http://127.0.0.1:8000                     # a running stack

Starts the local stack on free ports (or uses the one at ``--url``), then runs ``--flows``
flows at once (``--concurrency``, default all of them), spread over ``--users`` users
(default 20 × 10: far inside the default tier's 10,000 files and 1 GiB), each flow
uploading its own ~100 KB JPEG: presign, PUT to the presigned URL, confirm (expects 204).
A bounded asyncio client (aiohttp, one connection pool of ``--concurrency``) drives them;
the whole run is cut off after ``--timeout`` seconds, and each request after 120 s.

Reported: throughput (completed flows / wall time from the first request to the last
answer), p50/p95/p99 of each step, and the errors (any other status, or a request that
failed). Then, per user: every confirmed asset reads READY once (``GET /media/{id}``), the
user's READY listing (``GET /media?status=READY``, every page) holds each of them exactly
once and nothing else, and ``GET /media/usage`` counts exactly their files and bytes. The
last lines are ``load_errors=<n> target=0 met=…``, ``load_lost_or_double_counted=<n>
target=0 met=…``, ``load_throughput_flows_per_s=<x> target=report met=yes`` and
``load_<step>_p95_ms=<n> target=report met=yes`` for presign, put and confirm.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from bench.localstack import (  # noqa: E402
    add_stack_options,
    auth,
    load_average,
    local_stack,
    machine,
    percentile,
    photo_jpeg,
    unique_copy,
    verdict,
)

STEPS = ("presign", "put", "confirm")
REQUEST_SECONDS = 120


@dataclass
class Flow:
    user: str
    data: bytes
    asset_id: str | None = None
    times: dict[str, float] = field(default_factory=dict)
    error: str | None = None


async def run_flow(http: aiohttp.ClientSession, api: str, flow: Flow) -> None:
    headers = auth(flow.user)
    step = "presign"
    try:
        started = time.perf_counter()
        async with http.post(
            f"{api}/media/presign",
            json={"filename": "photo.jpg", "contentType": "image/jpeg", "size": len(flow.data)},
            headers=headers,
        ) as answer:
            await _expect(answer, 201)
            ticket = await answer.json()
        flow.asset_id = ticket["assetId"]
        step = "put"
        put_started = time.perf_counter()
        # The signed headers, but Content-Length, which the client sets from the body.
        signed = {k: v for k, v in ticket["headers"].items() if k.lower() != "content-length"}
        async with http.put(
            URL(ticket["uploadUrl"], encoded=True), data=flow.data, headers=signed
        ) as answer:
            await _expect(answer, 200)
        step = "confirm"
        confirm_started = time.perf_counter()
        async with http.patch(f"{api}/media/{flow.asset_id}/confirm", headers=headers) as answer:
            await _expect(answer, 204)
        done = time.perf_counter()
        flow.times = {
            "presign": (put_started - started) * 1000,
            "put": (confirm_started - put_started) * 1000,
            "confirm": (done - confirm_started) * 1000,
        }
    except (aiohttp.ClientError, TimeoutError, UnexpectedAnswer) as problem:
        flow.error = f"{step}: {type(problem).__name__}: {problem}"


class UnexpectedAnswer(Exception):
    pass


async def _expect(answer: aiohttp.ClientResponse, status: int) -> None:
    if answer.status != status:
        raise UnexpectedAnswer(f"{answer.status} {(await answer.text())[:200]}")


async def run_all(api: str, flows: list[Flow], concurrency: int, timeout: float) -> float:
    """Run every flow, ``concurrency`` at a time at most; the wall time in seconds."""
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    client_timeout = aiohttp.ClientTimeout(total=REQUEST_SECONDS)

    async def bounded(http: aiohttp.ClientSession, flow: Flow) -> None:
        async with limit:
            await run_flow(http, api, flow)

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as http:
        started = time.perf_counter()
        tasks = [asyncio.create_task(bounded(http, flow)) for flow in flows]
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for flow, task in zip(flows, tasks, strict=True):
            if task in pending and flow.error is None:
                flow.error = f"cut off after the run's {timeout:g} s"
        return time.perf_counter() - started


async def check_user(
    http: aiohttp.ClientSession, api: str, user: str, flows: list[Flow]
) -> dict[str, Any]:
    """What the API says of one user's uploads, against what the flows did."""
    headers = auth(user)
    confirmed = {flow.asset_id: len(flow.data) for flow in flows if flow.error is None}
    not_ready = []
    for asset_id in confirmed:
        async with http.get(f"{api}/media/{asset_id}", headers=headers) as answer:
            body = await answer.json() if answer.status == 200 else {}
        if body.get("status") != "READY":
            not_ready.append((asset_id, answer.status, body.get("status")))
    listed: Counter[str] = Counter()
    cursor: str | None = None
    while True:
        params = {"status": "READY", "limit": "100", **({"cursor": cursor} if cursor else {})}
        async with http.get(f"{api}/media", params=params, headers=headers) as answer:
            page = await answer.json()
        listed.update(item["assetId"] for item in page["items"])
        cursor = page.get("nextCursor")
        if not cursor:
            break
    async with http.get(f"{api}/media/usage", headers=headers) as answer:
        usage = await answer.json()
    return {
        "user": user,
        "confirmed": len(confirmed),
        "not_ready": not_ready,
        "missing_from_listing": sorted(set(confirmed) - set(listed)),
        "listed_twice": sorted(a for a, n in listed.items() if n > 1),
        "listed_unknown": sorted(set(listed) - set(confirmed)),
        "usage_files": usage["totalFiles"],
        "usage_bytes": usage["totalBytes"],
        "expected_files": len(confirmed),
        "expected_bytes": sum(confirmed.values()),
    }


async def check_all(api: str, flows: list[Flow]) -> list[dict[str, Any]]:
    by_user: dict[str, list[Flow]] = {}
    for flow in flows:
        by_user.setdefault(flow.user, []).append(flow)
    connector = aiohttp.TCPConnector(limit=8)
    timeout = aiohttp.ClientTimeout(total=REQUEST_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        return list(
            await asyncio.gather(*(check_user(http, api, u, fs) for u, fs in by_user.items()))
        )


def discrepancies(row: dict[str, Any]) -> int:
    """Assets lost or counted twice in one user's row (0 when all is exact)."""
    return (
        len(row["not_ready"])
        + len(row["missing_from_listing"])
        + len(row["listed_twice"])
        + len(row["listed_unknown"])
        + abs(row["usage_files"] - row["expected_files"])
        + (1 if row["usage_bytes"] != row["expected_bytes"] else 0)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=200, help="flows in all (default 200)")
    parser.add_argument("--users", type=int, default=20, help="users they spread over (20)")
    parser.add_argument(
        "--concurrency", type=int, default=0, help="flows at once (default: all of them)"
    )
    parser.add_argument("--timeout", type=float, default=180, help="the run's bound (180 s)")
    add_stack_options(parser)
    args = parser.parse_args()
    concurrency = args.concurrency or args.flows

    photo = photo_jpeg(800, 600, quality=90)
    run_id = uuid.uuid4().hex[:8]
    users = [f"load-{run_id}-{n:02d}" for n in range(args.users)]
    flows = [
        Flow(users[n % args.users], unique_copy(photo, f"mediaport bench load {n}"))
        for n in range(args.flows)
    ]
    print(f"# {machine()}")
    print(
        f"# {args.flows} flows ({args.users} users), {concurrency} at once, "
        f"JPEG 800x600 ~{len(photo):,} bytes each; bounded to {args.timeout:g} s"
    )
    with local_stack(args.url, "mediaport-bench-load.log") as stack:
        wall = asyncio.run(run_all(stack.api_url, flows, concurrency, args.timeout))
        load_after = load_average()
        rows = asyncio.run(check_all(stack.api_url, flows))

    completed = [flow for flow in flows if flow.error is None]
    errors = [flow for flow in flows if flow.error is not None]
    throughput = len(completed) / wall
    print(f"# load average after the run: {load_after}")
    print()
    print(f"{len(completed)} of {len(flows)} flows completed in {wall:.1f} s")
    print()
    print("| step | p50 | p95 | p99 | max |")
    print("|---|---:|---:|---:|---:|")
    for step in STEPS:
        values = [flow.times[step] for flow in completed]
        print(
            f"| {step} | {percentile(values, 0.5):.0f} ms | {percentile(values, 0.95):.0f} ms "
            f"| {percentile(values, 0.99):.0f} ms | {max(values, default=float('nan')):.0f} ms |"
        )
    for kind, count in Counter(flow.error.split(":")[0] for flow in errors if flow.error).items():
        print(f"errors at {kind}: {count}")
    for flow in errors[:5]:
        print(f"  e.g. {flow.user} {flow.asset_id}: {flow.error}")
    print()
    wrong = 0
    for row in sorted(rows, key=lambda r: r["user"]):
        off = discrepancies(row)
        wrong += off
        if off:
            print(f"MISMATCH {row}")
    print(
        f"checked {len(rows)} users: READY once each, listed once each, usage "
        f"{sum(r['usage_files'] for r in rows)} files / {sum(r['usage_bytes'] for r in rows):,} "
        f"bytes against {sum(r['expected_files'] for r in rows)} / "
        f"{sum(r['expected_bytes'] for r in rows):,} confirmed"
    )
    print()
    print(f"load_errors={len(errors)} target=0 met={verdict(not errors)}")
    print(f"load_lost_or_double_counted={wrong} target=0 met={verdict(wrong == 0)}")
    print(f"load_throughput_flows_per_s={throughput:.2f} target=report met=yes")
    for step in STEPS:
        values = [flow.times[step] for flow in completed]
        print(f"load_{step}_p50_ms={percentile(values, 0.5):.0f}")
        print(f"load_{step}_p95_ms={percentile(values, 0.95):.0f} target=report met=yes")
        print(f"load_{step}_p99_ms={percentile(values, 0.99):.0f}")


if __name__ == "__main__":
    main()
