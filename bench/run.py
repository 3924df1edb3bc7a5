"""`make bench`: every benchmark, one after the other, then one line per target.

Each benchmark prints its own tables and, for each target it measures, a line
``name=value target=… met=yes|no``. Those lines are repeated at the end, together, so
the answer to "which targets are met" is the last thing on the screen. The run fails
only when a benchmark fails; a missed target is a finding, written up in
docs/performance.md, not an error.

    python bench/run.py                      # all of them
    python bench/run.py cold_init confirm    # some, by name
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# In the order they run: the quick, CPU-bound ones first, the local-stack ones after.
BENCHMARKS = (
    "cold_init",
    "thumbnails",
    "transforms",
    "confirm",
    "ready",
    "load",
    "multipart",
    "library",
)
TARGET_LINE = re.compile(r"^\S+=\S+ target=\S+ met=(yes|no)$")


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    targets: list[str] = []
    failed: list[str] = []
    for name in chosen:
        print(f"\n=== bench/{name}.py ===", flush=True)
        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, our own script)
            [sys.executable, str(HERE / f"{name}.py")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if TARGET_LINE.match(line.strip()):
                targets.append(line.strip())
        if process.wait() != 0:
            failed.append(name)
        print(f"=== bench/{name}.py: {time.monotonic() - started:.0f} s ===", flush=True)
    print("\n=== targets ===")
    print("\n".join(targets) if targets else "(no target lines)")
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
