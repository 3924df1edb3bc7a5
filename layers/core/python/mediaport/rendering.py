"""The variant pipeline: decode a verified image once, then make its WebP variants, a
placeholder and its dominant colour, in sRGB. Metadata never reaches a variant."""

from __future__ import annotations

import base64
import io
import math
from concurrent.futures import Future, ThreadPoolExecutor
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
from mediaport.model.variants import THUMBNAIL_QUALITY, THUMBNAIL_SIZES

# Thumbnail sizes: name → the longest edge in pixels. Largest first: each is made from
# the one before it, so the full-size image is resampled only once.
VARIANT_SIZES: dict[str, int] = THUMBNAIL_SIZES
PLACEHOLDER_EDGE = 16
WEBP_QUALITY = THUMBNAIL_QUALITY
WEBP_METHOD = 4  # libwebp's default effort: the speed/size balance libvips uses too
_PLACEHOLDER_QUALITY = 40


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
    # The caller owns ``file``; the image is not closed here because, for RGB images,
    # ``source`` below is the decoded image itself (no copy of a large bitmap).
    image = open_image(file, media_type, max_pixels)
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        stored_width, stored_height = image.size
        largest = max(sizes.values())
        if image.format == "JPEG":
            # DCT scaling: libjpeg decodes straight to 1/2, 1/4 or 1/8 size when that
            # still covers the largest variant. Memory and time drop by the same factor.
            scale = min(1.0, largest / max(stored_width, stored_height))
            image.draft(None, (_ceil(stored_width * scale), _ceil(stored_height * scale)))
        image.load()  # the first frame of an animation
        source = to_srgb(image)
    except UnreadableImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise UnreadableImage(False, f"the image data is corrupt or truncated ({error})") from error

    transpose = UPRIGHT.get(orientation)
    width, height = (
        (stored_height, stored_width)
        if orientation in TRANSPOSING_ORIENTATIONS
        else (stored_width, stored_height)
    )
    # libwebp releases the GIL: each variant is encoded on a worker thread while the next,
    # smaller one is resized from it on this one. That overlap needs a second vCPU (Lambda
    # has one full vCPU at 1769 MB, two from 3538 MB); on less it costs next to nothing.
    with ThreadPoolExecutor(max_workers=2) as encoder:
        encoded: list[tuple[str, Image.Image, Future[bytes]]] = []
        previous = source
        for name, edge in sorted(sizes.items(), key=lambda item: -item[1]):
            target = fit_within(width, height, edge)
            if previous is source and transpose is not None:
                # Resize in stored orientation, then turn the (small) result upright.
                stored_target = (
                    (target[1], target[0]) if orientation in TRANSPOSING_ORIENTATIONS else target
                )
                resized = _resize(previous, stored_target).transpose(transpose)
            else:
                resized = _resize(previous, target)
            if resized is previous:
                # Never upscaled, so equal to the one before: still a separate image, as
                # Pillow's save keeps per-call state on the image object.
                resized = previous.copy()
            encoded.append(
                (name, resized, encoder.submit(_encode_webp, _strip(resized), WEBP_QUALITY))
            )
            previous = resized
        smallest = previous
        tiny = _resize(smallest, fit_within(width, height, PLACEHOLDER_EDGE))
        tiny = tiny.copy() if tiny is smallest else tiny
        placeholder = "data:image/webp;base64," + base64.b64encode(
            _encode_webp(_strip(tiny), _PLACEHOLDER_QUALITY)
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
    factor = int(min(image.width / size[0], image.height / size[1]) / 1.4)
    if factor >= 2:
        image = image.reduce(factor)
    return image.resize(size, Image.Resampling.LANCZOS)


def _strip(image: Image.Image) -> Image.Image:
    # Pillow keeps EXIF, ICC, XMP and comments in ``info``; a variant starts with none.
    image.info.clear()
    return image


def _encode_webp(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # No exif=, icc_profile= or xmp= is passed, so nothing of the source is written.
    image.save(buffer, "WEBP", quality=quality, method=WEBP_METHOD)
    return buffer.getvalue()


def _ceil(value: float) -> int:
    return max(1, math.ceil(value))
