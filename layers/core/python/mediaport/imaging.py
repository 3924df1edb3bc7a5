"""Image inspection with Pillow: explicit decoders, a pixel budget, no decode of bombs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from mediaport.policy import GIF, JPEG, PNG, WEBP

# The only decoders Mediaport ever lets Pillow use, by media type.
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", GIF: "GIF"}
_EXIF_ORIENTATION = 0x0112
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}


class UnreadableImage(Exception):
    """The bytes do not make an image Mediaport will accept."""

    def __init__(self, too_many_pixels: bool, detail: str) -> None:
        super().__init__(detail)
        self.too_many_pixels = too_many_pixels
        self.detail = detail


@dataclass(frozen=True)
class ImageFacts:
    width: int  # as displayed, after EXIF orientation
    height: int
    format: str


def open_image(file: IO[bytes], media_type: str, max_pixels: int) -> Image.Image:
    """Open (headers only) with the one decoder the media type names, within the pixel budget."""
    pillow_format = PILLOW_FORMATS[media_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file, formats=[pillow_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnreadableImage(True, f"the image has too many pixels ({error})") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UnreadableImage(False, f"the file is not a readable {pillow_format} image") from error
    width, height = image.size
    if width * height > max_pixels:
        raise UnreadableImage(
            True, f"the image is {width}×{height} pixels, over the budget of {max_pixels:,}"
        )
    return image


def inspect_image(file: IO[bytes], media_type: str, max_pixels: int) -> ImageFacts:
    """Dimensions of a well-formed image; a truncated or corrupt one raises ``UnreadableImage``."""
    image = open_image(file, media_type, max_pixels)
    try:
        with image:
            width, height = image.size
            # PNG's verify() must come straight after open; its rare EXIF orientation is
            # applied when variants are made.
            orientation = None if image.format == "PNG" else image.getexif().get(_EXIF_ORIENTATION)
            _check_integrity(image)
    except UnreadableImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise UnreadableImage(False, f"the image data is corrupt or truncated ({error})") from error
    if orientation in _TRANSPOSING_ORIENTATIONS:
        width, height = height, width
    return ImageFacts(width=width, height=height, format=PILLOW_FORMATS[media_type])


def _check_integrity(image: Image.Image) -> None:
    # Cheapest check that still reads every byte: PNG's chunk CRCs need no inflate;
    # a JPEG decodes at 1/8 scale via DCT scaling; GIF and WebP decode their first frame.
    if image.format == "PNG":
        image.verify()
    else:
        if image.format == "JPEG":
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()


def apply_orientation(image: Image.Image) -> Image.Image:
    """The image as it should be displayed (EXIF orientation applied)."""
    return ImageOps.exif_transpose(image)
