"""Colour: every variant is 8-bit sRGB, whatever the original's depth, colour model or
embedded ICC profile.

An ICC-tagged image is converted from its profile to sRGB with Little CMS (Pillow's
``ImageCms``): its numbers mean colours in that profile's space, and read as sRGB a
wide-gamut photo (Display P3, Adobe RGB) comes out dull and shifted. The result is written
untagged, as every variant is: the web reads an untagged image as sRGB, so an sRGB profile
would add bytes (0.5-3 KB, most of a 128 px thumbnail) and change nothing.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms

# Perceptual: what ICC recommends for photographs. A matrix-shaper profile (every RGB
# camera or phone profile) has no perceptual table, so Little CMS applies it relative
# colorimetric (in-gamut colours exact, the rest clipped); a table-based CMYK profile
# uses its perceptual table, made to bring the print gamut to a screen.
INTENT = ImageCms.Intent.PERCEPTUAL
_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_GREY_MODES = {"1", "L", "LA", "La", "P", *_SIXTEEN_BIT_MODES}
# Probe values per channel: a transform that moves none of their combinations by more
# than one level is the identity to 8 bits (an sRGB profile, under whichever name).
_PROBE_LEVELS = range(0, 256, 15)
_IDENTITY_TOLERANCE = 1


def to_srgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, or RGBA when the image has any transparency, in sRGB.

    An embedded ICC profile (RGB, grey or CMYK) is applied, never just dropped; one that
    cannot be read, or is for another colour model than the pixels', is ignored (the
    numbers are then taken as sRGB, as a browser would). An untagged RGB image is
    returned as it is, without a copy. A converted image has no profile in its ``info``.
    """
    icc = image.info.get("icc_profile")
    converted = _apply_profile(image, icc) if icc else None
    if converted is None:
        return _displayable(image)
    # Little CMS tags what it converts as sRGB; a variant carries no profile at all.
    converted.info.pop("icc_profile", None)
    return converted


def converts_colour(icc: bytes, bands: int) -> bool:
    """Whether ``to_srgb`` changes the colours of an image of ``bands`` channels (grey or
    RGB, with or without alpha) that carries this profile: False for an sRGB profile
    under another name, and for one that cannot be read or does not fit the pixels."""
    space = _colour_space(icc)
    if space == "RGB" and bands in (3, 4):
        mode = "RGBA" if bands == 4 else "RGB"
        return _transform(icc, mode, mode) is not None
    if space == "GRAY" and bands in (1, 2):
        return _transform(icc, "L", "RGB") is not None
    return False


def _apply_profile(image: Image.Image, icc: bytes) -> Image.Image | None:
    """The image converted from ``icc`` to sRGB; None when the profile does not apply."""
    space = _colour_space(icc)
    if space == "RGB":
        pixels = _displayable(image)  # RGB or RGBA; Little CMS carries alpha over
        transform = _transform(icc, pixels.mode, pixels.mode)
        if transform is not None:
            # In place: ``pixels`` is a conversion or the decoded image the caller
            # opened, and a full-size copy would double the memory of a large one.
            transform.apply_in_place(pixels)
        return pixels
    if space == "CMYK" and image.mode == "CMYK":
        return _apply(image, _transform(icc, "CMYK", "RGB"))
    if space == "GRAY" and image.mode in _GREY_MODES:
        pixels = _displayable(image)  # grey values in RGB(A), 16-bit scaled to 8
        rgb = _apply(pixels.getchannel("R"), _transform(icc, "L", "RGB"))
        if rgb is not None and pixels.mode == "RGBA":
            rgb.putalpha(pixels.getchannel("A"))
        return rgb
    return None


def _apply(image: Image.Image, transform: ImageCms.ImageCmsTransform | None) -> Image.Image | None:
    return transform.apply(image) if transform is not None else None


@lru_cache(maxsize=8)
def _colour_space(icc: bytes) -> str | None:
    """The profile's colour model ("RGB", "GRAY", "CMYK"…), or None if it cannot be read."""
    try:
        return str(ImageCms.getOpenProfile(io.BytesIO(icc)).profile.xcolor_space).strip()
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


# Keyed by the profile's bytes: a warm function sees the same few profiles (a phone's
# Display P3, a camera's Adobe RGB) again and again, and linking two profiles costs
# 2-50 ms (a CMYK profile's tables). An RGB profile that is sRGB under another name gets
# None: converting would change nothing and cost ~25 ms per megapixel.
@lru_cache(maxsize=8)
def _transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    try:
        transform = ImageCms.buildTransform(
            ImageCms.getOpenProfile(io.BytesIO(icc)), _srgb(), in_mode, out_mode, INTENT
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
    if in_mode in ("RGB", "RGBA") and _is_identity(transform):
        return None
    return transform


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _is_identity(transform: ImageCms.ImageCmsTransform) -> bool:
    levels = bytes(_PROBE_LEVELS)
    count = len(levels)
    probe = Image.frombytes(
        "RGB",
        (count**3, 1),
        bytes(channel for r in levels for g in levels for b in levels for channel in (r, g, b)),
    )
    if transform.input_mode == "RGBA":
        probe = probe.convert("RGBA")
    converted = transform.apply(probe)
    return all(
        abs(before - after) <= _IDENTITY_TOLERANCE
        for before, after in zip(probe.tobytes(), converted.tobytes(), strict=True)
    )


def _displayable(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has any transparency; 16-bit and CMYK brought to 8-bit RGB."""
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        # Pillow's I→L conversion clips at 255; scale the 16-bit range down instead.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("RGB")
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode in ("P", "L", "RGB", "1") and "transparency" in image.info
    ):
        return image.convert("RGBA")
    if mode == "RGB":
        return image
    return image.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB…
