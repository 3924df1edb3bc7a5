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

All three encode WebP at the same quality (80) and effort (4). Reported: the median of
``--runs`` runs per image and pipeline, and the peak RSS of a child process that runs
only (a) on the 24 MP JPEG. The last line is
``ratio_vs_libvips=<x> ratio_vs_naive=<y> peak_rss_mb=<z>``, each ratio being the sum of
(a)'s per-image medians divided by the other's (lower is better).
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps, features

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from mediaport.rendering import VARIANT_SIZES, WEBP_METHOD, WEBP_QUALITY, render_image  # noqa: E402

BUDGET = 100_000_000
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
) -> dict[str, float]:
    """Median wall time per pipeline; runs interleave, so background load hits all alike."""
    for run in pipelines.values():
        run(data, kind)  # warm-up: imports, codec tables, page faults
    times: dict[str, list[float]] = {label: [] for label in pipelines}
    for _ in range(n):
        for label, run in pipelines.items():
            start = time.perf_counter()
            run(data, kind)
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


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
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return

    import pyvips

    print(f"python {platform.python_version()} on {platform.machine()}, {_cpu()}")
    print(
        f"Pillow {Image.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}, "
        f"libwebp {features.version('webp')}), libvips {pyvips.version(0)}.{pyvips.version(1)}."
        f"{pyvips.version(2)} (concurrency {pyvips.concurrency_get()}), runs={args.runs}"
    )
    corpus = make_corpus()
    pipelines = {"mediaport": run_mediaport, "naive": run_naive, "libvips": run_libvips}
    totals = dict.fromkeys(pipelines, 0.0)
    print(f"{'image':<10} {'bytes':>10} {'mediaport':>10} {'naive':>10} {'libvips':>10}  (ms)")
    for name, (data, media_type) in corpus.items():
        row = median_seconds(pipelines, data, media_type, args.runs)
        for label in pipelines:
            totals[label] += row[label]
        print(
            f"{name:<10} {len(data):>10} "
            + " ".join(f"{row[label] * 1000:>10.0f}" for label in pipelines)
        )
    print(f"{'total':<10} {'':>10} " + " ".join(f"{totals[k] * 1000:>10.0f}" for k in pipelines))

    big = Path(ROOT / ".bench-24mp.jpg")
    big.write_bytes(corpus["jpeg-24mp"][0])
    try:
        rss = peak_rss_mb(big, "image/jpeg")
    finally:
        big.unlink()
    print(f"peak RSS, mediaport on jpeg-24mp in a fresh interpreter: {rss:.0f} MB")
    print(
        f"ratio_vs_libvips={totals['mediaport'] / totals['libvips']:.2f} "
        f"ratio_vs_naive={totals['mediaport'] / totals['naive']:.2f} peak_rss_mb={rss:.0f}"
    )


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
