"""The variant pipeline: decode a verified image once, then make its WebP variants, a
placeholder and its dominant colour, in sRGB. Metadata never reaches a variant."""

from __future__ import annotations

import base64
import io
import math
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from PIL import Image

from mediaport.color import converts_colour, to_srgb
from mediaport.imaging import (
    EXIF_ORIENTATION,
    TRANSPOSING_ORIENTATIONS,
    UPRIGHT,
    VIPS_TYPES,
    UnreadableImage,
    open_image,
    open_vips,
    vips,
    vips_orientation,
    vips_to_pillow,
    webp_canvas_size,
)
from mediaport.model.variants import THUMBNAIL_QUALITY, THUMBNAIL_SIZES
from mediaport.policy import WEBP

if TYPE_CHECKING:
    import pyvips

# Thumbnail sizes: name → the longest edge in pixels. Largest first: each is made from
# the one before it, so the full-size image is resampled only once.
VARIANT_SIZES: dict[str, int] = THUMBNAIL_SIZES
PLACEHOLDER_EDGE = 16
WEBP_QUALITY = THUMBNAIL_QUALITY
WEBP_METHOD = 4  # libwebp's default effort: the speed/size balance libvips uses too
_PLACEHOLDER_QUALITY = 40
# The placeholder (16 px from the 128 px variant) is made by Pillow: a box reduce by a
# whole factor while at least this many times the target remains, then Lanczos.
REDUCING_GAP = 1.4


@dataclass(frozen=True)
class RenderedVariant:
    name: str
    width: int
    height: int
    webp: bytes


@dataclass(frozen=True)
class Rendition:
    """What the variant pipeline makes of one image: its facts and its WebP variants."""

    width: int  # as displayed, after EXIF orientation
    height: int
    dominant_color: str  # "#rrggbb"
    placeholder: str  # a data: URI of a tiny WebP
    variants: tuple[RenderedVariant, ...]

    @property
    def aspect_ratio(self) -> float:
        return round(self.width / self.height, 4)


def render_image(
    file: IO[bytes], media_type: str, max_pixels: int, sizes: dict[str, int] = VARIANT_SIZES
) -> Rendition:
    """Decode once (as small as the largest variant allows), then make every WebP variant.

    An ICC-tagged image is converted to sRGB before it is resized (``color.to_srgb``).
    Metadata never reaches a variant: EXIF (with GPS), XMP, the ICC profile (once applied)
    and comments are dropped. A corrupt image raises ``UnreadableImage``.
    """
    largest = max(sizes.values())
    source, orientation = _decode(file, media_type, max_pixels, largest)
    stored_width, stored_height = source.stored_size
    width, height = (
        (stored_height, stored_width)
        if orientation in TRANSPOSING_ORIENTATIONS
        else (stored_width, stored_height)
    )
    pixels = source.pixels
    # libwebp releases the GIL: with a second CPU each variant is encoded on a worker thread
    # while the next, smaller one is resized from it on this one. On one CPU the encodes
    # run inline: a hand-off between threads would only add waits for the scheduler.
    with ThreadPoolExecutor(max_workers=2) if _cpus() > 1 else _Inline() as encoder:
        encoded: list[tuple[str, Image.Image, Future[bytes]]] = []
        smallest: Image.Image | None = None
        first = True
        for name, edge in sorted(sizes.items(), key=lambda item: -item[1]):
            target = fit_within(width, height, edge)
            if first:
                # Resize in stored orientation, then turn the (small) result upright.
                stored_target = (
                    (target[1], target[0]) if orientation in TRANSPOSING_ORIENTATIONS else target
                )
                pixels = _upright(_first_resize(pixels, stored_target), orientation)
                first = False
            else:
                pixels = _resize_vips(pixels, target)
            variant = _to_pillow(pixels)
            encoded.append((name, variant, encoder.submit(_encode_webp, variant, WEBP_QUALITY)))
            smallest = variant
        assert smallest is not None
        tiny = _resize(smallest, fit_within(width, height, PLACEHOLDER_EDGE))
        tiny = tiny.copy() if tiny is smallest else tiny
        placeholder = "data:image/webp;base64," + base64.b64encode(
            _encode_webp(tiny, _PLACEHOLDER_QUALITY)
        ).decode("ascii")
        color = dominant_color(smallest)
        variants = tuple(
            RenderedVariant(name, *image.size, future.result()) for name, image, future in encoded
        )
    return Rendition(
        width=width,
        height=height,
        dominant_color=color,
        placeholder=placeholder,
        variants=variants,
    )


class _Inline:
    """An executor that runs each task at once, on the calling thread."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def submit(self, task: Callable[[Image.Image, int], bytes], *args: Any) -> Future[bytes]:
        future: Future[bytes] = Future()
        future.set_result(task(*args))
        return future


def _cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


@dataclass(frozen=True)
class _Decoded:
    pixels: pyvips.Image  # 8-bit sRGB, RGB or RGBA, in stored orientation, maybe reduced
    stored_size: tuple[int, int]  # of the full image, in stored orientation


def _decode(
    file: IO[bytes], media_type: str, max_pixels: int, largest: int
) -> tuple[_Decoded, int]:
    """The pixels in sRGB, as small as still covers ``largest``, and the EXIF orientation."""
    if media_type in VIPS_TYPES:
        return _decode_vips(file, media_type, max_pixels, largest)
    image = open_image(file, media_type, max_pixels)
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        stored_size = image.size
        if image.format == "JPEG":
            # DCT scaling: libjpeg decodes straight to 1/2, 1/4 or 1/8 size when that
            # still covers the largest variant. Memory and time drop by the same factor.
            scale = min(1.0, largest / max(stored_size))
            image.draft(None, (_ceil(stored_size[0] * scale), _ceil(stored_size[1] * scale)))
        image.load()  # the first frame of an animation
        pixels = _from_pillow(to_srgb(image))
    except UnreadableImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise UnreadableImage(False, f"the image data is corrupt or truncated ({error})") from error
    return _Decoded(pixels, stored_size), orientation if orientation in UPRIGHT else 1


def _decode_vips(
    file: IO[bytes], media_type: str, max_pixels: int, largest: int
) -> tuple[_Decoded, int]:
    start = file.tell()
    declared = webp_canvas_size(file.read(30)) if media_type == WEBP else None
    file.seek(start)
    # A WebP larger than the largest variant: libwebp decodes straight to that size (its
    # scaled decoding). The budget is checked on the size the header declares.
    scale = largest / max(declared) if declared and max(declared) > largest else None
    image = open_vips(file, media_type, max_pixels, **({"scale": scale} if scale else {}))
    stored_size = declared if declared and scale else (image.width, image.height)
    orientation = vips_orientation(image, file, start)
    fields = image.get_fields()
    icc = image.get("icc-profile-data") if "icc-profile-data" in fields else None
    pyvips = vips()
    try:
        if icc is not None and converts_colour(icc, image.bands):
            # A profile that changes colours: Little CMS through ``to_srgb``, before the
            # resize, on the full-size pixels, as for every other image.
            if scale:
                file.seek(start)
                image = open_vips(file, media_type, max_pixels)
            pixels = _from_pillow(to_srgb(vips_to_pillow(image)))
        else:
            # Not materialised: decoded as the first resize reads it (in strips).
            pixels = _displayable_vips(image)
    except pyvips.Error as error:
        raise UnreadableImage(False, "the image data is corrupt or truncated") from error
    return _Decoded(pixels, stored_size), orientation


def _displayable_vips(image: pyvips.Image) -> pyvips.Image:
    """8-bit RGB or RGBA, metadata dropped (16-bit scaled, grey spread to RGB)."""
    if image.format != "uchar":
        image = image.cast("uchar", shift=True)
    if image.bands < 3:
        grey = image[0]
        image = grey.bandjoin([grey, grey, *([image[1]] if image.bands == 2 else [])])
    return _bare(image)


def _bare(image: pyvips.Image) -> pyvips.Image:
    """The pixels alone: no profile, EXIF or orientation left for a later step to act on."""
    image = image.copy(interpretation="srgb")
    for field in image.get_fields():
        if field in _VIPS_METADATA or field.startswith(("exif-", "png-comment", "xmp")):
            image.remove(field)
    return image


_VIPS_METADATA = {"icc-profile-data", "orientation", "exif-data", "xmp-data", "gif-comment"}


def _from_pillow(image: Image.Image) -> pyvips.Image:
    return (
        vips()
        .Image.new_from_memory(
            image.tobytes(), image.width, image.height, len(image.getbands()), "uchar"
        )
        .copy(interpretation="srgb")
    )


def _to_pillow(image: pyvips.Image) -> Image.Image:
    mode = "RGBA" if image.bands == 4 else "RGB"
    return Image.frombuffer(
        mode, (image.width, image.height), image.write_to_memory(), "raw", mode, 0, 1
    )


def _first_resize(image: pyvips.Image, size: tuple[int, int]) -> pyvips.Image:
    """The first resize, which is where libvips decodes a PNG or WebP (as it reads it)."""
    try:
        return _resize_vips(image, size)
    except vips().Error as error:
        raise UnreadableImage(False, "the image data is corrupt or truncated") from error


def _resize_vips(image: pyvips.Image, size: tuple[int, int]) -> pyvips.Image:
    """Exactly ``size``, in memory, resampled as libvips' own thumbnails are: a box shrink
    by a whole factor while at least twice the target remains, then Lanczos 3 (a smaller
    gap, e.g. 1.4, measured slower: libvips' box shrink costs more than its vectorised
    Lanczos). Alpha is premultiplied while resampling, so transparent pixels lend no
    colour to their neighbours."""
    if (image.width, image.height) == size:
        return image.copy_memory()
    hscale, vscale = size[0] / image.width, size[1] / image.height
    if image.bands == 4:
        resized = image.premultiply().resize(hscale, vscale=vscale).unpremultiply()
        resized = resized.cast("uchar")
    else:
        resized = image.resize(hscale, vscale=vscale)
    if (resized.width, resized.height) != size:  # rounding: at most a pixel either way
        resized = resized.gravity("centre", *size, extend="copy")
    return resized.copy_memory()


def _upright(image: pyvips.Image, orientation: int) -> pyvips.Image:
    if orientation == 1:
        return image
    tagged = image.copy()
    tagged.set_type(vips().GValue.gint_type, "orientation", orientation)
    return tagged.autorot().copy_memory()


def fit_within(width: int, height: int, edge: int) -> tuple[int, int]:
    """The size with the longest side at most ``edge``, aspect kept, never upscaled."""
    longest = max(width, height)
    if longest <= edge:
        return width, height
    scale = edge / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def dominant_color(image: Image.Image) -> str:
    """The most common colour of an (already small) image, as ``#rrggbb``.

    Transparent pixels do not vote; a fully transparent image answers white.
    """
    if max(image.size) > 48:  # median cut on ~2000 pixels is plenty and takes no time
        image = image.resize(fit_within(*image.size, 48), Image.Resampling.BOX)
    rgb = image.convert("RGB")
    mask = (
        image.getchannel("A").point(lambda alpha: 255 if alpha >= 128 else 0)
        if (image.mode == "RGBA")
        else None
    )
    if mask is not None and not mask.getbbox():
        return "#ffffff"
    palette_image = rgb.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    counts = palette_image.histogram(mask=mask)[:8]
    index = max(range(len(counts)), key=counts.__getitem__)
    palette = palette_image.getpalette() or [255, 255, 255]
    red, green, blue = palette[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    # Box-reduce by an integer factor first (cheap: each output pixel averages a k×k
    # block), keeping at least 1.4× the target, then Lanczos the rest. Against Lanczos
    # all the way the difference is 1-2/255 RMS, at a third to a half of the time.
    factor = int(min(image.width / size[0], image.height / size[1]) / REDUCING_GAP)
    if factor >= 2:
        image = image.reduce(factor)
    return image.resize(size, Image.Resampling.LANCZOS)


def _encode_webp(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # No exif=, icc_profile= or xmp= is passed, so nothing of the source is written.
    image.save(buffer, "WEBP", quality=quality, method=WEBP_METHOD)
    return buffer.getvalue()


def _ceil(value: float) -> int:
    return max(1, math.ceil(value))
