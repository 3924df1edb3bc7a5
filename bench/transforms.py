"""Transforms benchmark: resize and crop a 24 MP JPEG to WebP and AVIF, against libvips.

``mediaport.transforms`` and libvips (pyvips) do the same work, side by side in one run.

    make bench            (or: PYTHONPATH=.:layers/core/python python bench/transforms.py)

Generates a 6000×4000 photo-like JPEG (the thumbnail benchmark's content: gradients, a
Mandelbrot channel, shapes, edges, grain; quality 88), twice: untagged (sRGB), and tagged
with an Adobe RGB (1998) profile (Debian's icc-profiles-free, ``make icc``), as a camera
set to Adobe RGB writes it. For each, four operations at quality 80:

  resize  to 1920 px wide (1920×1280, aspect kept)
  crop    the centred 1920×1080 pixels

each to WebP (effort 4) and to AVIF (libaom, speed 7 = libvips effort 2), metadata
stripped, and from the tagged file converted to sRGB (perceptual intent). The two sides:

  mediaport  ``transform_image``: the event path's work between reading the original's
             bytes and writing the variant's;
  libvips    resize: ``thumbnail_buffer`` (shrink-on-load, autorotate; with
             ``export_profile="srgb"`` when the file is tagged); crop: ``new_from_buffer``
             (sequential), ``autorot``, ``crop``, and ``icc_transform`` to sRGB when
             tagged; then ``webpsave_buffer`` / ``heifsave_buffer`` with ``keep="none"``.

The two make the same size (checked). Runs interleave, so background load hits both
alike; libvips' operation cache is off, so no run reuses another's result. Reported: the
median of ``--runs`` runs (after one warm-up) of each, and ``name=value`` lines closing
the report: each case's ratio (ours / libvips, lower is better; the issue sets no
target, so there is none) and the ratio of the sums.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, features

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers/core/python")]

from bench.thumbnails import _cpu, photo_like  # noqa: E402
from mediaport.model.variants import Operation, OutputFormat, VariantSpec  # noqa: E402
from mediaport.rendering import WEBP_METHOD  # noqa: E402
from mediaport.transforms import AVIF_SPEED, transform_image  # noqa: E402

WIDTH, HEIGHT = 6000, 4000
QUALITY = 80
RESIZE_WIDTH = 1920
CROP = (2040, 1460, 1920, 1080)  # x, y, width, height: the centre of the image
ADOBE_RGB_PROFILE = Path("/usr/share/color/icc/compatibleWithAdobeRGB1998.icc")
BUDGET = 100_000_000


@dataclass(frozen=True)
class Case:
    source: str  # "untagged" or "adobe-rgb"
    operation: Operation
    output: OutputFormat

    @property
    def name(self) -> str:
        return f"{self.source}_{self.operation.value}_{self.output.value}"

    def spec(self) -> VariantSpec:
        if self.operation is Operation.RESIZE:
            return VariantSpec(self.operation, self.output, QUALITY, width=RESIZE_WIDTH)
        x, y, width, height = CROP
        return VariantSpec(self.operation, self.output, QUALITY, width, height, x=x, y=y)


def make_sources() -> dict[str, bytes]:
    image = photo_like(WIDTH, HEIGHT)
    sources = {}
    for name, icc in (("untagged", None), ("adobe-rgb", ADOBE_RGB_PROFILE.read_bytes())):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=88, **({"icc_profile": icc} if icc else {}))
        sources[name] = buffer.getvalue()
    return sources


def run_mediaport(case: Case, data: bytes) -> tuple[bytes, tuple[int, int]]:
    variant = transform_image(io.BytesIO(data), "image/jpeg", case.spec(), BUDGET)
    return variant.data, (variant.width, variant.height)


def run_libvips(case: Case, data: bytes) -> tuple[bytes, tuple[int, int]]:
    import pyvips

    tagged = case.source != "untagged"
    if case.operation is Operation.RESIZE:
        width, height = case.spec().output_size(WIDTH, HEIGHT)
        # Only a tagged file is colour-managed, as ours: export_profile on an untagged
        # one would make libvips import it as sRGB and export it again, for nothing.
        options = {"export_profile": "srgb", "intent": "perceptual"} if tagged else {}
        image = pyvips.Image.thumbnail_buffer(data, width, height=height, **options)
    else:
        x, y, width, height = CROP
        image = pyvips.Image.new_from_buffer(data, "", access="sequential").autorot()
        image = image.crop(x, y, width, height)
        if tagged:
            image = image.icc_transform("srgb", embedded=True, intent="perceptual")
    if case.output is OutputFormat.WEBP:
        encoded = image.webpsave_buffer(Q=QUALITY, effort=WEBP_METHOD, keep="none")
    else:
        # libvips' effort is 9 - libaom's speed; 4:2:0 below Q 90, as Pillow.
        encoded = image.heifsave_buffer(
            Q=QUALITY, compression="av1", effort=9 - AVIF_SPEED, keep="none"
        )
    return encoded, (image.width, image.height)


Pipeline = Callable[[Case, bytes], tuple[bytes, tuple[int, int]]]


def median_seconds(
    pipelines: dict[str, Pipeline], case: Case, data: bytes, runs: int
) -> tuple[dict[str, float], dict[str, int]]:
    """Median wall time per pipeline (runs interleaved) and each one's output bytes."""
    sizes, lengths = {}, {}
    for label, run in pipelines.items():  # warm-up: imports, codec tables, page faults
        encoded, sizes[label] = run(case, data)
        lengths[label] = len(encoded)
    if len(set(sizes.values())) != 1:
        raise RuntimeError(f"{case.name}: the pipelines made different sizes: {sizes}")
    times: dict[str, list[float]] = {label: [] for label in pipelines}
    for _ in range(runs):
        for label, run in pipelines.items():
            start = time.perf_counter()
            run(case, data)
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}, lengths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each case")
    args = parser.parse_args()

    import pyvips

    pyvips.cache_set_max(0)
    print(f"python {platform.python_version()} on {platform.machine()}, {_cpu()}")
    print(
        f"Pillow {Image.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}, "
        f"libwebp {features.version('webp')}, libavif {features.version('avif')}), "
        f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} "
        f"(concurrency {pyvips.concurrency_get()}), runs={args.runs}"
    )
    sources = make_sources()
    pipelines: dict[str, Pipeline] = {"mediaport": run_mediaport, "libvips": run_libvips}
    print(
        f"{'case':<24} {'mediaport':>10} {'libvips':>10} {'ratio':>6}"
        f" {'bytes ours':>11} {'bytes vips':>11}  (ms)"
    )
    ratios: dict[str, float] = {}
    totals = dict.fromkeys(pipelines, 0.0)
    for source, data in sources.items():
        for operation in (Operation.RESIZE, Operation.CROP):
            for output in (OutputFormat.WEBP, OutputFormat.AVIF):
                case = Case(source, operation, output)
                seconds, lengths = median_seconds(pipelines, case, data, args.runs)
                for label in pipelines:
                    totals[label] += seconds[label]
                ratios[case.name] = seconds["mediaport"] / seconds["libvips"]
                print(
                    f"{case.name:<24} {seconds['mediaport'] * 1000:>10.0f} "
                    f"{seconds['libvips'] * 1000:>10.0f} {ratios[case.name]:>6.2f} "
                    f"{lengths['mediaport']:>11} {lengths['libvips']:>11}",
                    flush=True,
                )
    print(f"{'total':<24} {totals['mediaport'] * 1000:>10.0f} {totals['libvips'] * 1000:>10.0f}")
    for name, ratio in ratios.items():
        print(f"ratio_{name.replace('-', '_')}={ratio:.2f}")
    print(f"ratio_total={totals['mediaport'] / totals['libvips']:.2f}")


if __name__ == "__main__":
    main()
