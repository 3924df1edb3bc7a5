"""Thumbnail benchmark: Mediaport's pipeline against naive Pillow and libvips (pyvips).

    make bench            (or: PYTHONPATH=.:layers/core/python python bench/thumbnails.py)

Generates a corpus (12 MP and 24 MP JPEGs, a large PNG, a WebP) with photo-like,
non-flat content, then times, in this one process, per image:

  (a) mediaport  ``render_image``: decode (JPEG DCT-scaled), the three WebP variants
                 (1024/512/128, each from the previous one), the placeholder, the
                 dominant colour and the facts — everything the event path does
                 between reading the bytes and writing the variants;
  (b) naive      Pillow as usually written: full decode, EXIF transpose, and each
                 variant resized from the full-size original;
  (c) libvips    ``pyvips.Image.thumbnail_buffer`` to the largest size (shrink-on-load,
                 autorotate), then ``thumbnail_image`` from each size to the next: the
                 same three WebP variants, metadata stripped.

All three encode WebP at the same quality (80) and effort (4). Our placeholder and
dominant colour are counted on our side; libvips makes only the three variants.

The script runs the comparison twice, each time in a child process of its own: on one
vCPU (``taskset -c 0``, ``VIPS_CONCURRENCY=1``: what ``process_upload`` gets at its
memory size) and on two (``taskset -c 0,1``, libvips' default concurrency). Reported per
configuration: the median of ``--runs`` runs per image and pipeline; then the peak RSS
of a fresh interpreter that runs only (a) on the 24 MP JPEG, and the unzipped size of
the dependency layer when it is built (``make layers``). Ratios are the sum of (a)'s
per-image medians divided by the other's (lower is better). It ends with:

    ratio_vs_libvips=<x> ratio_vs_naive=<y> peak_rss_mb=<z>      (two vCPUs)
    thumbnails_ratio_vs_libvips_1cpu=<x> target=<=1.00 met=yes|no
    thumbnails_ratio_vs_libvips_2cpu=<x> target=<=0.90 met=yes|no
    layer_unzipped_mb=<n> target=<100 met=yes|no
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps, features

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from mediaport.rendering import VARIANT_SIZES, WEBP_METHOD, WEBP_QUALITY, render_image  # noqa: E402

BUDGET = 100_000_000
TARGET_1CPU = 1.00
TARGET_2CPU = 0.90
LAYER_LIMIT_MB = 100
# name: (CPUs to pin to, extra environment)
CONFIGURATIONS = {
    "1cpu": ("0", {"VIPS_CONCURRENCY": "1"}),
    "2cpu": ("0,1", {}),
}
SIZES = sorted(VARIANT_SIZES.values(), reverse=True)
CORPUS = {
    # name: (width, height, Pillow format, media type, save options)
    "jpeg-12mp": (4000, 3000, "JPEG", "image/jpeg", {"quality": 88}),
    "jpeg-24mp": (6000, 4000, "JPEG", "image/jpeg", {"quality": 88}),
    "png-12mp": (4000, 3000, "PNG", "image/png", {"compress_level": 6}),
    "webp-6mp": (3000, 2000, "WEBP", "image/webp", {"quality": 85}),
}


def photo_like(width: int, height: int, seed: int = 7) -> Image.Image:
    """Gradients, shapes, edges and grain: something codecs and resamplers work on."""
    red = Image.linear_gradient("L").resize((width, height))
    blue = Image.radial_gradient("L").resize((width, height))
    green = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 1.0, 1.2), 80)
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    step = max(width, height) // 24
    for i in range(0, max(width, height), step):
        shade = (i * 37 + seed) % 255
        draw.ellipse(
            (i, i // 2, i + step * 3, i // 2 + step * 2), outline=(shade, 80, 200), width=9
        )
        draw.line((0, i, width, height - i), fill=(250 - shade, shade, 40), width=5)
    grain = Image.effect_noise((width, height), 18).convert("RGB")
    return Image.blend(image, grain, 0.18)


def make_corpus() -> dict[str, tuple[bytes, str]]:
    corpus = {}
    for name, (width, height, fmt, media_type, options) in CORPUS.items():
        buffer = io.BytesIO()
        photo_like(width, height).save(buffer, fmt, **options)
        corpus[name] = (buffer.getvalue(), media_type)
    return corpus


def run_mediaport(data: bytes, media_type: str) -> list[bytes]:
    rendition = render_image(io.BytesIO(data), media_type, BUDGET)
    return [variant.webp for variant in rendition.variants]


def run_naive(data: bytes, media_type: str) -> list[bytes]:
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    out = []
    for edge in SIZES:
        scale = min(1.0, edge / max(image.size))
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        buffer = io.BytesIO()
        image.resize(size, Image.Resampling.LANCZOS).save(
            buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD
        )
        out.append(buffer.getvalue())
    return out


def run_libvips(data: bytes, media_type: str) -> list[bytes]:
    import pyvips

    # The fastest libvips idiom for several sizes: one shrink-on-load decode to the largest
    # (autorotated), held in memory, each smaller size made from the one before.
    image = pyvips.Image.thumbnail_buffer(data, SIZES[0], height=SIZES[0], size="down")
    out = []
    for edge in SIZES:
        if edge != SIZES[0]:
            image = image.thumbnail_image(edge, height=edge, size="down")
        image = image.copy_memory()
        out.append(image.webpsave_buffer(Q=WEBP_QUALITY, effort=WEBP_METHOD, keep="none"))
    return out


def median_seconds(
    pipelines: dict[str, Callable[[bytes, str], list[bytes]]], data: bytes, kind: str, n: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall time and median CPU time (every thread of the process) per pipeline;
    runs interleave, so background load hits all alike. On a loaded machine the CPU time
    is the steadier measure of the work done; the wall time is what the targets are."""
    for run in pipelines.values():
        run(data, kind)  # warm-up: imports, codec tables, page faults
    times: dict[str, list[float]] = {label: [] for label in pipelines}
    cpu: dict[str, list[float]] = {label: [] for label in pipelines}
    for _ in range(n):
        for label, run in pipelines.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run(data, kind)
            times[label].append(time.perf_counter() - start)
            cpu[label].append(time.process_time() - start_cpu)
    return (
        {label: statistics.median(values) for label, values in times.items()},
        {label: statistics.median(values) for label, values in cpu.items()},
    )


def peak_rss_mb(path: Path, media_type: str) -> float:
    """Peak RSS of a fresh interpreter that reads the file and runs only our pipeline."""
    # The child reports its own VmHWM: getrusage(RUSAGE_CHILDREN) would count this large
    # parent too, as Linux carries the pre-exec high-water mark of a forked child over.
    child = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--rss-child", str(path), media_type],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return float(child.stdout.strip().splitlines()[-1])


def rss_child(path: str, media_type: str) -> None:
    run_mediaport(Path(path).read_bytes(), media_type)
    status = Path("/proc/self/status").read_text()
    high_water_kb = next(
        int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")
    )
    print(f"{high_water_kb / 1024:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rss-child", nargs=2, metavar=("PATH", "TYPE"), help=argparse.SUPPRESS)
    parser.add_argument("--measure", metavar="CORPUS_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    if args.measure:
        measure(Path(args.measure), args.runs)
        return

    corpus = make_corpus()
    ratios: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    two_cpu_line = ""
    with tempfile.TemporaryDirectory(prefix="bench-thumbnails-") as scratch:
        corpus_dir = Path(scratch)
        for name, (data, _) in corpus.items():
            (corpus_dir / name).write_bytes(data)
        (corpus_dir / "corpus.json").write_text(
            json.dumps({name: media_type for name, (_, media_type) in corpus.items()})
        )
        for config, (cpus, env) in CONFIGURATIONS.items():
            totals, note = run_configuration(config, cpus, env, corpus_dir, args.runs)
            notes[config] = note
            ratios[config] = totals["mediaport"] / totals["libvips"] if totals else None
            if totals and config == "2cpu":
                two_cpu_line = (
                    f"ratio_vs_libvips={totals['mediaport'] / totals['libvips']:.2f} "
                    f"ratio_vs_naive={totals['mediaport'] / totals['naive']:.2f}"
                )
        rss = peak_rss_mb(corpus_dir / "jpeg-24mp", "image/jpeg")
    print(f"peak RSS, mediaport on jpeg-24mp in a fresh interpreter: {rss:.0f} MB")
    print(f"load average after the runs: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if two_cpu_line:
        print(f"{two_cpu_line} peak_rss_mb={rss:.0f}")
    for config, target in (("1cpu", TARGET_1CPU), ("2cpu", TARGET_2CPU)):
        ratio = ratios[config]
        if ratio is None:
            print(
                f"thumbnails_ratio_vs_libvips_{config}=n/a target=<={target:.2f} met=no "
                f"reason={notes[config]}"
            )
        else:
            print(
                f"thumbnails_ratio_vs_libvips_{config}={ratio:.2f} target=<={target:.2f} "
                f"met={'yes' if round(ratio, 2) <= target else 'no'}"
            )
    print(layer_line())


def run_configuration(
    config: str, cpus: str, env: dict[str, str], corpus_dir: Path, runs: int
) -> tuple[dict[str, float], str]:
    """Run ``measure`` in a child pinned to ``cpus``; its per-pipeline totals in seconds."""
    taskset = shutil.which("taskset")
    wanted = {int(cpu) for cpu in cpus.split(",")}
    if taskset is None:
        return {}, "taskset-unavailable"
    if not wanted <= os.sched_getaffinity(0):
        return {}, f"cpus-{cpus}-unavailable(have-{len(os.sched_getaffinity(0))})"
    child_env = {k: v for k, v in os.environ.items() if k != "VIPS_CONCURRENCY"} | env
    print(f"== {config}: taskset -c {cpus} {' '.join(f'{k}={v}' for k, v in env.items())}")
    sys.stdout.flush()
    command = [taskset, "-c", cpus, sys.executable, __file__, "--measure", str(corpus_dir)]
    child = subprocess.run(  # noqa: S603 - our own interpreter and script
        [*command, "--runs", str(runs)],
        check=True,
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
    )
    *table, last = child.stdout.strip().splitlines()
    print("\n".join(table))
    return json.loads(last), ""


def measure(corpus_dir: Path, runs: int) -> None:
    """Time the three pipelines on the corpus in ``corpus_dir``; the last line is JSON."""
    import pyvips

    pyvips.cache_set_max(0)  # no run reuses another's result (ours has it off too)
    print(f"python {platform.python_version()} on {platform.machine()}, {_cpu()}")
    print(
        f"Pillow {Image.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}, "
        f"libwebp {features.version('webp')}), libvips {pyvips.version(0)}.{pyvips.version(1)}."
        f"{pyvips.version(2)} (concurrency {pyvips.concurrency_get()}), runs={runs}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    kinds = json.loads((corpus_dir / "corpus.json").read_text())
    pipelines = {"mediaport": run_mediaport, "naive": run_naive, "libvips": run_libvips}
    totals = dict.fromkeys(pipelines, 0.0)
    cpu_totals = dict.fromkeys(pipelines, 0.0)
    print(
        f"{'image':<10} {'bytes':>10} {'mediaport':>10} {'naive':>10} {'libvips':>10} "
        f"{'ratio':>6}   CPU ms: {'mediaport':>9} {'libvips':>8} {'ratio':>6}  (wall ms)"
    )
    for name, media_type in kinds.items():
        data = (corpus_dir / name).read_bytes()
        row, cpu = median_seconds(pipelines, data, media_type, runs)
        for label in pipelines:
            totals[label] += row[label]
            cpu_totals[label] += cpu[label]
        print(
            f"{name:<10} {len(data):>10} "
            + " ".join(f"{row[label] * 1000:>10.0f}" for label in pipelines)
            + f" {row['mediaport'] / row['libvips']:>6.2f}   CPU ms: "
            + f"{cpu['mediaport'] * 1000:>9.0f} {cpu['libvips'] * 1000:>8.0f} "
            + f"{cpu['mediaport'] / cpu['libvips']:>6.2f}"
        )
    print(
        f"{'total':<10} {'':>10} "
        + " ".join(f"{totals[k] * 1000:>10.0f}" for k in pipelines)
        + f" {totals['mediaport'] / totals['libvips']:>6.2f}   CPU ms: "
        + f"{cpu_totals['mediaport'] * 1000:>9.0f} {cpu_totals['libvips'] * 1000:>8.0f} "
        + f"{cpu_totals['mediaport'] / cpu_totals['libvips']:>6.2f}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(totals))


def layer_line() -> str:
    """The dependency layer's unzipped size, when the layer built from today's
    requirements.txt is there (``make layers`` builds it; this does not download)."""
    sys.path.insert(0, str(ROOT / "layers"))
    from build_dependencies import (  # type: ignore[import-not-found]
        DEPENDENCIES_LAYER,
        STAMP,
        requirements_digest,
        unzipped_size,
    )

    built = STAMP.is_file() and STAMP.read_text().strip() == requirements_digest()
    if not built or not DEPENDENCIES_LAYER.is_dir():
        return (
            f"layer_unzipped_mb=n/a target=<{LAYER_LIMIT_MB} met=no "
            "reason=layer-not-built-for-this-requirements.txt(run-make-layers)"
        )
    size = unzipped_size(DEPENDENCIES_LAYER) / 1_000_000
    met = "yes" if size < LAYER_LIMIT_MB else "no"
    return f"layer_unzipped_mb={size:.1f} target=<{LAYER_LIMIT_MB} met={met}"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ×{_cores()}"
    except OSError:
        pass
    return f"{_cores()} cores"


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
