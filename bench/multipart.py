"""Multipart upload benchmark: a 1 GiB file through Mediaport's routes against a plain
boto3 multipart upload of the same file, both to the local stack's moto.

    make bench            (or: PYTHONPATH=.:layers/core/python python bench/multipart.py)

Starts the local stack (``python -m infra.local``: moto, the API gateway and the workers
in one process) on free ports, writes a 1 GiB file that sniffs as MP4 to a temp
directory, then, ``--runs`` times, alternating which goes first:

  (a) mediaport  initiate → sign the part URLs (≤ 100 per call) → PUT the parts straight
                 to storage, 4 at a time → complete (which verifies: READY);
  (b) boto3      ``upload_file`` with a ``TransferConfig`` of the same part size (the one
                 initiate planned) and the same concurrency, to a key outside ``media/``
                 (no event, no verification), checksums off as our client sends none.

Reported: the median wall time of each, their ratio (a)/(b) (target ≤ 1.3), and the
local stack's peak RSS (``VmHWM``, reset through ``/proc/<pid>/clear_refs`` before each
phase) at rest, during each kind of run, and during (a)'s part uploads alone. moto keeps
the bytes in this same process, so the peaks of (a) and (b) include moto assembling the
object; what the API itself adds is their difference. The last line is
``ratio=<x> mediaport_s=<a> boto3_s=<b> rss_rest_mb=… rss_mediaport_mb=… rss_boto3_mb=…``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from infra.local.child import RunningStack, run_local_stack  # noqa: E402
from infra.local.config import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY  # noqa: E402
from infra.local.tokens import issue_token  # noqa: E402

MIB = 1024 * 1024
SCOPE = "BENCH_LARGE"
SCOPES = {SCOPE: {"types": ["video/mp4"], "maxBytes": 4 * 1024 * MIB}}
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
SIGN_BATCH = 100


def write_test_file(path: Path, size: int) -> None:
    """An MP4 head, then a repeated pseudo-random block (no run of zeros to shortcut)."""
    block = os.urandom(8 * MIB)
    with path.open("wb") as out:
        written = 0
        while written < size:
            chunk = block[: min(len(block), size - written)]
            if written == 0:
                chunk = MP4_HEAD + chunk[len(MP4_HEAD) :]
            out.write(chunk)
            written += len(chunk)


class PeakRss:
    """The local stack's peak RSS (VmHWM), reset before each phase."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def reset(self) -> None:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def peak_mb(self) -> float:
        status = Path(f"/proc/{self.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return kb / 1024


@dataclass
class Run:
    seconds: float
    peak_mb: float
    # Ours only: the peak while the parts went up, and how long complete (verify) took.
    parts_peak_mb: float | None = None
    complete_seconds: float | None = None


class Mediaport:
    """Our routes, as a client would drive them: initiate, sign, PUT parts, complete."""

    def __init__(
        self, stack: RunningStack, path: Path, size: int, parallel: int, rss: PeakRss
    ) -> None:
        self.stack = stack
        self.path = path
        self.size = size
        self.parallel = parallel
        self.rss = rss
        self.auth = {"Authorization": f"Bearer {issue_token('bench-user')}"}
        self.part_size = 0
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def _api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._session().request(
            method, self.stack.config.api_url + path, json=body, headers=self.auth, timeout=300
        )
        if not response.ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def upload(self) -> tuple[Run, str, str]:
        """One upload; returns the run, the asset id and the object key."""
        self.rss.reset()
        start = time.perf_counter()
        plan = self._api(
            "POST",
            "/media/upload/multipart/initiate",
            {
                "filename": "bench.mp4",
                "contentType": "video/mp4",
                "size": self.size,
                "scope": SCOPE,
            },
        )
        asset_id, part_size, count = plan["assetId"], plan["partSize"], plan["partCount"]
        self.part_size = part_size
        urls: dict[int, str] = {}
        for first in range(1, count + 1, SIGN_BATCH):
            numbers = list(range(first, min(count, first + SIGN_BATCH - 1) + 1))
            signed = self._api(
                "POST",
                "/media/upload/multipart/part",
                {"assetId": asset_id, "partNumbers": numbers},
            )
            urls |= {int(number): url for number, url in signed["urls"].items()}
        with self.path.open("rb") as file, ThreadPoolExecutor(self.parallel) as pool:
            fd = file.fileno()

            def put(number: int) -> tuple[int, str]:
                offset = (number - 1) * part_size
                data = os.pread(fd, min(part_size, self.size - offset), offset)
                response = self._session().put(urls[number], data=data, timeout=300)
                if response.status_code != 200:
                    raise RuntimeError(f"part {number}: {response.status_code} {response.text}")
                return number, response.headers["ETag"]

            etags = list(pool.map(put, range(1, count + 1)))
        parts_peak = self.rss.peak_mb()
        completing = time.perf_counter()
        asset = self._api(
            "POST",
            "/media/upload/multipart/complete",
            {"assetId": asset_id, "parts": [{"partNumber": n, "etag": e} for n, e in etags]},
        )
        end = time.perf_counter()
        if asset["status"] != "READY" or asset["size"] != self.size:
            raise RuntimeError(f"not READY: {asset}")
        run = Run(end - start, self.rss.peak_mb(), parts_peak, end - completing)
        return run, asset_id, plan["key"]

    def settle(self, asset_id: str) -> None:
        """Wait for the S3 event's processing, so that it does not overlap the next run."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            asset = self._api("GET", f"/media/{asset_id}")
            if asset.get("processing") in (None, "DONE", "SKIPPED", "FAILED"):
                return
            time.sleep(0.5)


def boto3_client(stack: RunningStack) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=stack.config.aws_endpoint,
        region_name=stack.config.region,
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        # Our client sends no checksums either: the same bytes on the wire, the same work
        # for moto.
        config=Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=16,
        ),
    )


def boto3_upload(
    s3: Any, stack: RunningStack, path: Path, part_size: int, parallel: int, rss: PeakRss
) -> tuple[Run, str]:
    key = f"bench/{uuid.uuid4()}.mp4"
    transfer = TransferConfig(
        multipart_threshold=part_size,
        multipart_chunksize=part_size,
        max_concurrency=parallel,
        use_threads=True,
    )
    rss.reset()
    start = time.perf_counter()
    s3.upload_file(str(path), stack.config.bucket_name, key, Config=transfer)
    seconds = time.perf_counter() - start
    return Run(seconds, rss.peak_mb()), key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    size = args.size_mib * MIB

    with tempfile.TemporaryDirectory(prefix="mediaport-bench-") as temp:
        path = Path(temp) / "bench.mp4"
        write_test_file(path, size)
        log = Path(temp) / "local-stack.log"
        # With a scope that takes the file.
        with run_local_stack(log, {"MEDIAPORT_SCOPES": json.dumps(SCOPES)}) as stack:
            rss = PeakRss(stack.process.pid)
            s3 = boto3_client(stack)
            ours = Mediaport(stack, path, size, args.parallel, rss)
            # Warm-up, not timed: imports, connections, first table writes (a small upload
            # of ours), and the local stack's first full-size object (a boto3 upload: the
            # first one in a fresh process is a third slower, whoever sends it).
            warm = Path(temp) / "warm.mp4"
            write_test_file(warm, 24 * MIB)
            warm_ours = Mediaport(stack, warm, 24 * MIB, args.parallel, rss)
            _run, warm_id, warm_key = warm_ours.upload()
            warm_ours.settle(warm_id)
            _warm, warm_boto_key = boto3_upload(
                s3, stack, path, warm_ours.part_size, args.parallel, rss
            )
            for key in (warm_key, warm_boto_key):
                s3.delete_object(Bucket=stack.config.bucket_name, Key=key)
            time.sleep(1)
            rss.reset()
            time.sleep(0.5)
            at_rest = rss.peak_mb()
            print(
                f"{args.size_mib} MiB, part size {warm_ours.part_size // MIB} MiB, "
                f"{args.parallel} in parallel, runs={args.runs}; local stack at rest "
                f"{at_rest:.0f} MB"
            )

            results: dict[str, list[Run]] = {"mediaport": [], "boto3": []}

            def run_ours() -> None:
                run, asset_id, key = ours.upload()
                results["mediaport"].append(run)
                ours.settle(asset_id)
                s3.delete_object(Bucket=stack.config.bucket_name, Key=key)

            def run_boto3() -> None:
                run, key = boto3_upload(
                    s3, stack, path, ours.part_size or warm_ours.part_size, args.parallel, rss
                )
                results["boto3"].append(run)
                s3.delete_object(Bucket=stack.config.bucket_name, Key=key)

            order: list[Callable[[], None]] = [run_ours, run_boto3]
            for index in range(args.runs):
                for step in order if index % 2 == 0 else reversed(order):
                    step()
                last_ours, last_boto = results["mediaport"][-1], results["boto3"][-1]
                print(
                    f"run {index + 1}: mediaport {last_ours.seconds:6.2f} s "
                    f"(complete {last_ours.complete_seconds:.2f} s; peak {last_ours.peak_mb:.0f} "
                    f"MB, {last_ours.parts_peak_mb:.0f} MB during parts)   "
                    f"boto3 {last_boto.seconds:6.2f} s (peak {last_boto.peak_mb:.0f} MB)"
                )
            rss.reset()
            time.sleep(0.5)
            after = rss.peak_mb()

    ours_s = statistics.median(run.seconds for run in results["mediaport"])
    boto_s = statistics.median(run.seconds for run in results["boto3"])
    ours_peak = max(run.peak_mb for run in results["mediaport"])
    parts_peak = max(run.parts_peak_mb or 0 for run in results["mediaport"])
    boto_peak = max(run.peak_mb for run in results["boto3"])
    complete_s = statistics.median(run.complete_seconds or 0 for run in results["mediaport"])
    print(
        f"median: mediaport {ours_s:.2f} s (of which complete {complete_s:.2f} s), "
        f"boto3 {boto_s:.2f} s"
    )
    print(
        f"local stack RSS: at rest {at_rest:.0f} MB; peak during mediaport runs "
        f"{ours_peak:.0f} MB (parts only {parts_peak:.0f} MB), during boto3 runs "
        f"{boto_peak:.0f} MB; at rest after {after:.0f} MB"
    )
    print(
        f"ratio={ours_s / boto_s:.2f} mediaport_s={ours_s:.2f} boto3_s={boto_s:.2f} "
        f"rss_rest_mb={at_rest:.0f} rss_mediaport_mb={ours_peak:.0f} "
        f"rss_mediaport_parts_mb={parts_peak:.0f} rss_boto3_mb={boto_peak:.0f} "
        f"rss_after_mb={after:.0f}"
    )


if __name__ == "__main__":
    main()
