"""Image operations on demand: one resize, crop or optimize of a verified image, as bytes.

Pure: bytes in, bytes out. ``VariantSpec`` (``mediaport.model.variants``) decided the
size from the recorded, oriented width and height; this module makes exactly that size.

- Geometry is worked out on the image as displayed (after its EXIF orientation), then
  done on the pixels as stored: the region is cut or resampled there and only the
  result is turned upright, so a large original is never rotated.
- Colour: the output is 8-bit sRGB (``color.to_srgb`` applies an embedded ICC profile),
  written untagged like every variant: the web reads untagged images as sRGB.
- Nothing of the original's metadata is written: no EXIF (so no GPS), XMP, ICC profile
  or comment.
- Encoding: WebP at libwebp's default effort (4, as the thumbnails); AVIF at speed 7
  (``AVIF_SPEED``); JPEG optimized and progressive, transparency flattened on white;
  PNG optimized, alpha kept. PNG is lossless, so ``quality`` does not apply to it and
  is ignored.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from PIL import Image

from mediaport.color import to_srgb
from mediaport.imaging import (
    EXIF_ORIENTATION,
    TRANSPOSING_ORIENTATIONS,
    UPRIGHT,
    UnreadableImage,
    open_image,
)
from mediaport.model.variants import Fit, Operation, OutputFormat, VariantSpec
from mediaport.rendering import WEBP_METHOD

# libaom through libavif, on a 1920×1280 photo (2 vCPUs): speed 6 (libavif's default)
# 0.67 s, 7 0.45 s for 0.4 % more bytes, 8 0.36 s for 14 % more, 9 0.09 s for 47 % more.
# 7 keeps a 4096² variant within a few seconds of one Lambda vCPU at near-default size.
AVIF_SPEED = 7
# Box-reduce by whole factors first, leaving at least 1.4× the target to Lanczos (as
# rendering does: a third to a half of the time, 1-2/255 RMS from Lanczos all the way).
REDUCING_GAP = 1.4
# A JPEG is decoded at 1/2, 1/4 or 1/8 scale (DCT scaling) only while the region stays at
# least this many times the target, so the final Lanczos step still has detail to work
# with (the same margin libvips' shrink-on-load keeps).
DRAFT_MARGIN = 2
WHITE = (255, 255, 255)
TRANSPARENT = (0, 0, 0, 0)
_ALPHA_FORMATS = {OutputFormat.WEBP, OutputFormat.AVIF, OutputFormat.PNG}
# Where a point (x, y) of the displayed image (w × h) is in the stored one, by orientation.
_STORED_POINT: dict[int, Callable[[float, float, float, float], tuple[float, float]]] = {
    1: lambda x, y, w, h: (x, y),
    2: lambda x, y, w, h: (w - x, y),
    3: lambda x, y, w, h: (w - x, h - y),
    4: lambda x, y, w, h: (x, h - y),
    5: lambda x, y, w, h: (y, x),
    6: lambda x, y, w, h: (y, w - x),
    7: lambda x, y, w, h: (h - y, w - x),
    8: lambda x, y, w, h: (h - y, x),
}

Box = tuple[float, float, float, float]
Size = tuple[int, int]


@dataclass(frozen=True)
class Transformed:
    data: bytes
    width: int
    height: int
    format: OutputFormat


@dataclass(frozen=True)
class Geometry:
    """What an operation does to the displayed image: take ``box`` of it, scale that to
    ``size``, and centre it on a ``canvas`` (larger than ``size`` only for contain)."""

    box: Box
    size: Size
    canvas: Size

    @property
    def resamples(self) -> bool:
        """False when the pixels are taken as they are (a crop, an optimize)."""
        left, top, right, bottom = self.box
        return (right - left, bottom - top) != self.size or not all(
            float(edge).is_integer() for edge in self.box
        )


def transform_image(
    file: IO[bytes], media_type: str, spec: VariantSpec, max_pixels: int
) -> Transformed:
    """Make the variant ``spec`` asks for, of exactly ``spec.output_size`` pixels.

    A corrupt image raises ``UnreadableImage``; a crop outside it ``OutsideImage``.
    """
    image = open_image(file, media_type, max_pixels)
    with _decoding():  # PNG's getexif() decodes the image to find a late eXIf chunk
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    if orientation not in _STORED_POINT:
        orientation = 1
    width, height = image.size
    if orientation in TRANSPOSING_ORIENTATIONS:
        width, height = height, width
    geometry = plan(spec, width, height)
    with _decoding():
        pixels = _stored_region(image, geometry, orientation, (width, height))
    if orientation in UPRIGHT:
        pixels = pixels.transpose(UPRIGHT[orientation])
    pixels = _pad(pixels, geometry, spec.format)
    return Transformed(_encode(pixels, spec), pixels.width, pixels.height, spec.format)


@contextmanager
def _decoding() -> Iterator[None]:
    """Pillow's errors while decoding, raised as ``UnreadableImage``."""
    try:
        yield
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise UnreadableImage(False, f"the image data is corrupt or truncated ({error})") from error


def plan(spec: VariantSpec, width: int, height: int) -> Geometry:
    """The geometry of ``spec`` on a displayed ``width`` × ``height`` image."""
    out = spec.output_size(width, height)
    whole: Box = (0, 0, width, height)
    if spec.operation is Operation.CROP:
        x, y = spec.x or 0, spec.y or 0
        return Geometry((x, y, x + out[0], y + out[1]), out, out)
    both_sides = spec.operation is Operation.RESIZE and spec.width and spec.height
    fit = spec.fit or Fit.COVER  # sharp's and libvips' default when both sides are given
    if both_sides and fit is Fit.COVER:
        return Geometry(_centred_box(width, height, out), out, out)
    if both_sides and fit is Fit.CONTAIN:
        scale = min(out[0] / width, out[1] / height)
        inner = (max(1, round(width * scale)), max(1, round(height * scale)))
        return Geometry(whole, inner, out)
    return Geometry(whole, out, out)  # fill, inside, one side given, optimize


def _centred_box(width: int, height: int, out: Size) -> Box:
    """The largest centred box of the image with the output's aspect (cover's crop)."""
    scale = max(out[0] / width, out[1] / height)
    box_width, box_height = min(width, out[0] / scale), min(height, out[1] / scale)
    left, top = (width - box_width) / 2, (height - box_height) / 2
    return (left, top, left + box_width, top + box_height)


def stored_box(box: Box, orientation: int, displayed: Size) -> Box:
    """The box of the stored pixels that shows as ``box`` once the orientation is applied."""
    to_stored = _STORED_POINT[orientation]
    x0, y0 = to_stored(box[0], box[1], *displayed)
    x1, y1 = to_stored(box[2], box[3], *displayed)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _stored_region(
    image: Image.Image, geometry: Geometry, orientation: int, displayed: Size
) -> Image.Image:
    """The geometry's region of the stored pixels, at its (stored) size, in sRGB."""
    box = stored_box(geometry.box, orientation, displayed)
    size = geometry.size
    if orientation in TRANSPOSING_ORIENTATIONS:
        size = (size[1], size[0])
    if not geometry.resamples:
        image.load()  # the first frame of an animation
        whole = (0, 0, *image.size)
        # Colour conversion is per pixel: only the pixels kept are converted.
        return to_srgb(image if box == whole else image.crop(_int_box(box)))
    if image.format == "JPEG":
        box = _draft(image, box, size)
    image.load()
    # In sRGB before resampling (as the thumbnails): each output pixel averages colours
    # as a colour-managed viewer shows them, out-of-gamut ones already clipped.
    return to_srgb(image).resize(size, Image.Resampling.LANCZOS, box, REDUCING_GAP)


def _draft(image: Image.Image, box: Box, size: Size) -> Box:
    """Let libjpeg decode at a reduced scale when that keeps ``DRAFT_MARGIN``; the box in
    the coordinates of the image as it will be decoded."""
    stored_width, stored_height = image.size
    scale = min(
        1.0,
        max(
            DRAFT_MARGIN * size[0] / (box[2] - box[0]),
            DRAFT_MARGIN * size[1] / (box[3] - box[1]),
        ),
    )
    if scale > 0.5:
        return box
    image.draft(None, (_ceil(stored_width * scale), _ceil(stored_height * scale)))
    x_ratio, y_ratio = image.width / stored_width, image.height / stored_height
    return (box[0] * x_ratio, box[1] * y_ratio, box[2] * x_ratio, box[3] * y_ratio)


def _pad(pixels: Image.Image, geometry: Geometry, output: OutputFormat) -> Image.Image:
    """Contain's padding: transparent where the format has alpha, white for JPEG."""
    if geometry.canvas == pixels.size:
        return pixels
    if output in _ALPHA_FORMATS:
        canvas = Image.new("RGBA", geometry.canvas, TRANSPARENT)
    else:
        canvas, pixels = Image.new("RGB", geometry.canvas, WHITE), _flatten(pixels)
    offset = (
        (geometry.canvas[0] - pixels.width) // 2,
        (geometry.canvas[1] - pixels.height) // 2,
    )
    canvas.paste(pixels, offset)
    return canvas


def _encode(pixels: Image.Image, spec: VariantSpec) -> bytes:
    # Pillow's PNG, JPEG and AVIF writers fall back to ``info`` for EXIF, XMP, ICC and
    # comments: with it empty, nothing of the original is written.
    pixels.info.clear()
    buffer = io.BytesIO()
    if spec.format is OutputFormat.WEBP:
        pixels.save(buffer, "WEBP", quality=spec.quality, method=WEBP_METHOD)
    elif spec.format is OutputFormat.AVIF:
        pixels.save(buffer, "AVIF", quality=spec.quality, speed=AVIF_SPEED)
    elif spec.format is OutputFormat.JPEG:
        _flatten(pixels).save(buffer, "JPEG", quality=spec.quality, optimize=True, progressive=True)
    else:
        pixels.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _flatten(pixels: Image.Image) -> Image.Image:
    """RGB, transparency composited on white (JPEG has no alpha)."""
    if pixels.mode != "RGBA":
        return pixels
    flat = Image.new("RGB", pixels.size, WHITE)
    flat.paste(pixels, mask=pixels.getchannel("A"))
    return flat


def _int_box(box: Box) -> tuple[int, int, int, int]:
    left, top, right, bottom = (round(edge) for edge in box)
    return (left, top, right, bottom)


def _ceil(value: float) -> int:
    return max(1, math.ceil(value))
