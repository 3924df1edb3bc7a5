"""Image operations on demand, and colour: bytes in, a variant of exactly the size asked
for out, in sRGB, with nothing of the original's metadata."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat

from mediaport.imaging import UnreadableImage
from mediaport.model.variants import Fit, Operation, OutputFormat, VariantSpec
from mediaport.rendering import render_image
from mediaport.transforms import Transformed, transform_image
from tests import samples

BUDGET = 100_000_000
RED, GREEN, BLUE, YELLOW, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255,) * 3
PILLOW_FORMAT = {
    OutputFormat.WEBP: "WEBP",
    OutputFormat.AVIF: "AVIF",
    OutputFormat.JPEG: "JPEG",
    OutputFormat.PNG: "PNG",
}
# Debian's icc-profiles-free (``make icc`` installs it): a profile with Adobe RGB (1998)'s
# primaries, white point and gamma, whose gamut reaches well past sRGB's in the greens.
ADOBE_RGB_PROFILE = Path("/usr/share/color/icc/compatibleWithAdobeRGB1998.icc")
GREY_PROFILE = Path("/usr/share/color/icc/Gray.icc")
SRGB_PROFILE = Path("/usr/share/color/icc/sRGB.icc")


# --- images made for the checks ----------------------------------------------------------


def stripes(width: int = 400, height: int = 200) -> Image.Image:
    """Red on the left quarter, blue on the right quarter, green in the middle half."""
    image = Image.new("RGB", (width, height), GREEN)
    image.paste(RED, (0, 0, width // 4, height))
    image.paste(BLUE, (width * 3 // 4, 0, width, height))
    return image


def quadrants(width: int = 300, height: int = 200) -> Image.Image:
    """Red, green / blue, yellow: any turn or mirror moves a colour to another corner."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    image.paste(BLUE, (0, height // 2, width // 2, height))
    image.paste(YELLOW, (width // 2, height // 2, width, height))
    return image


def png(image: Image.Image, **save: object) -> bytes:
    return samples.encode(image, "PNG", **save)


def resize(
    width: int | None,
    height: int | None,
    fit: Fit | None = None,
    output: OutputFormat = OutputFormat.PNG,
) -> VariantSpec:
    return VariantSpec(Operation.RESIZE, output, quality=90, width=width, height=height, fit=fit)


def crop(x: int, y: int, width: int, height: int) -> VariantSpec:
    return VariantSpec(Operation.CROP, OutputFormat.PNG, x=x, y=y, width=width, height=height)


def make(data: bytes, spec: VariantSpec, media_type: str = "image/png") -> Image.Image:
    variant = transform_image(io.BytesIO(data), media_type, spec, BUDGET)
    image = Image.open(io.BytesIO(variant.data))
    assert image.size == (variant.width, variant.height)
    return image


def near(actual: Sequence[float], expected: Sequence[float], tolerance: float = 8) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def rgba(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    pixel = image.convert("RGBA").getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


def rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    return rgba(image, xy)[:3]


def alpha(image: Image.Image, xy: tuple[int, int]) -> int:
    return rgba(image, xy)[3]


# --- fit modes ---------------------------------------------------------------------------


def test_cover_fills_the_box_and_crops_the_overflow_evenly() -> None:
    image = make(png(stripes()), resize(100, 100, Fit.COVER))

    assert image.size == (100, 100)
    # The centred 200×200 of the 400×200 image: both outer quarters are cut off.
    for xy in [(1, 50), (50, 1), (50, 50), (98, 50), (50, 98)]:
        assert near(rgb(image, xy), GREEN), xy


def test_contain_fits_the_whole_image_and_pads_it_with_transparency() -> None:
    image = make(png(stripes()), resize(100, 100, Fit.CONTAIN))

    assert image.size == (100, 100)
    assert image.mode == "RGBA"
    assert alpha(image, (50, 10)) == 0
    assert alpha(image, (50, 90)) == 0
    assert alpha(image, (50, 50)) == 255
    assert near(rgb(image, (5, 50)), RED)
    assert near(rgb(image, (50, 50)), GREEN)
    assert near(rgb(image, (95, 50)), BLUE)


def test_contain_pads_a_jpeg_with_white() -> None:
    image = make(png(stripes()), resize(100, 100, Fit.CONTAIN, OutputFormat.JPEG))

    assert image.size == (100, 100)
    assert near(rgb(image, (50, 8)), WHITE)
    assert near(rgb(image, (50, 92)), WHITE)
    assert near(rgb(image, (5, 50)), RED, 20)


def test_fill_stretches_the_whole_image_to_the_box() -> None:
    image = make(png(stripes()), resize(100, 100, Fit.FILL))

    assert image.size == (100, 100)
    # Every row, top to bottom, has the three stripes: nothing cut, nothing padded.
    for y in (2, 50, 97):
        assert near(rgb(image, (10, y)), RED)
        assert near(rgb(image, (50, y)), GREEN)
        assert near(rgb(image, (90, y)), BLUE)


def test_inside_keeps_the_aspect_as_large_as_fits() -> None:
    image = make(png(stripes()), resize(100, 100, Fit.INSIDE))

    assert image.size == (100, 50)
    assert near(rgb(image, (10, 25)), RED)
    assert near(rgb(image, (90, 25)), BLUE)


@pytest.mark.parametrize(("width", "height"), [(100, None), (None, 50)])
def test_one_side_keeps_the_aspect(width: int | None, height: int | None) -> None:
    image = make(png(stripes()), resize(width, height))

    assert image.size == (100, 50)
    assert near(rgb(image, (10, 25)), RED)


def test_a_resize_may_enlarge() -> None:
    assert make(png(stripes(40, 20)), resize(400, None)).size == (400, 200)


# --- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize("output", list(OutputFormat))
@pytest.mark.parametrize(
    "operation", [Operation.RESIZE, Operation.CROP, Operation.OPTIMIZE], ids=str
)
def test_every_format_decodes_as_itself_at_the_planned_size(
    output: OutputFormat, operation: Operation
) -> None:
    spec = {
        Operation.RESIZE: VariantSpec(operation, output, width=120, height=90, fit=Fit.COVER),
        Operation.CROP: VariantSpec(operation, output, x=10, y=20, width=70, height=50),
        Operation.OPTIMIZE: VariantSpec(operation, output),
    }[operation]
    data = samples.encode(samples.photo(300, 200), "JPEG", quality=90)

    variant = transform_image(io.BytesIO(data), "image/jpeg", spec, BUDGET)

    image = Image.open(io.BytesIO(variant.data))
    image.load()
    assert image.format == PILLOW_FORMAT[output]
    assert image.size == (variant.width, variant.height) == spec.output_size(300, 200)
    assert variant == Transformed(variant.data, *image.size, output)


def test_transparency_is_kept_where_the_format_has_alpha() -> None:
    data = samples.palette_png_with_transparency(64, 64)  # left half blue, right transparent

    for output in (OutputFormat.WEBP, OutputFormat.AVIF, OutputFormat.PNG):
        image = make(data, resize(32, None, output=output))
        assert alpha(image, (4, 16)) == 255, output
        assert alpha(image, (28, 16)) == 0, output


def test_transparency_is_flattened_on_white_in_a_jpeg() -> None:
    data = samples.palette_png_with_transparency(64, 64)  # the transparent half is red

    image = make(data, resize(32, None, output=OutputFormat.JPEG))

    assert image.mode == "RGB"
    assert near(rgb(image, (4, 16)), BLUE, 20)
    assert near(rgb(image, (28, 16)), WHITE)


# --- crop and orientation ----------------------------------------------------------------


def test_a_crop_takes_exactly_the_pixels_asked_for() -> None:
    source = quadrants(200, 100)

    corner = make(png(source), crop(100, 0, 100, 50))
    straddling = make(png(source), crop(50, 25, 100, 50))

    assert corner.size == (100, 50)
    assert corner.convert("RGB").getcolors() == [(100 * 50, GREEN)]
    assert ImageChops.difference(straddling, source.crop((50, 25, 150, 75))).getbbox() is None


# The transpose that stores a displayed image so that ``orientation`` shows it upright.
_STORE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented_jpeg(displayed: Image.Image, orientation: int) -> bytes:
    """A JPEG stored turned or mirrored, whose EXIF orientation shows it as ``displayed``."""
    stored = displayed
    if orientation in _STORE_FOR_ORIENTATION:
        stored = displayed.transpose(_STORE_FOR_ORIENTATION[orientation])
    exif = Image.Exif()
    exif[samples.ORIENTATION_TAG] = orientation
    return samples.encode(stored, "JPEG", quality=95, subsampling=0, exif=exif)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_crop_of_an_exif_rotated_image_is_in_displayed_coordinates(orientation: int) -> None:
    data = oriented_jpeg(quadrants(300, 200), orientation)

    # 100..250 × 50..150 of the displayed image: its centre, quadrant borders at 50, 50.
    image = make(data, crop(100, 50, 150, 100), "image/jpeg")

    assert image.size == (150, 100)
    assert near(rgb(image, (25, 25)), RED)
    assert near(rgb(image, (100, 25)), GREEN)
    assert near(rgb(image, (25, 75)), BLUE)
    assert near(rgb(image, (100, 75)), YELLOW)


@pytest.mark.parametrize("orientation", [3, 6, 7, 8])
def test_a_resize_of_an_exif_rotated_image_comes_out_upright(orientation: int) -> None:
    data = oriented_jpeg(quadrants(300, 200), orientation)

    image = make(data, resize(90, 90, Fit.COVER), "image/jpeg")

    assert image.size == (90, 90)
    assert near(rgb(image, (15, 15)), RED)
    assert near(rgb(image, (75, 15)), GREEN)
    assert near(rgb(image, (15, 75)), BLUE)
    assert near(rgb(image, (75, 75)), YELLOW)


def test_a_crop_outside_the_image_is_refused() -> None:
    from mediaport.model.variants import OutsideImage

    with pytest.raises(OutsideImage):
        make(png(quadrants(200, 100)), crop(150, 0, 100, 50))


# --- optimize and metadata ---------------------------------------------------------------


@pytest.mark.parametrize("output", list(OutputFormat))
def test_optimize_keeps_the_size_and_drops_exif_gps_icc_and_comments(
    output: OutputFormat,
) -> None:
    data = samples.jpeg_with_exif(600, 400, gps=True)  # EXIF with GPS, an ICC, a comment

    variant = transform_image(
        io.BytesIO(data), "image/jpeg", VariantSpec(Operation.OPTIMIZE, output), BUDGET
    )

    image = Image.open(io.BytesIO(variant.data))
    assert image.size == (600, 400)
    assert not image.getexif()
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
    assert b"secret" not in variant.data
    assert b"Exif\x00" not in variant.data


def test_optimize_of_an_exif_rotated_image_stores_it_upright() -> None:
    data = samples.jpeg_with_exif(600, 400, orientation=6)

    image = make(data, VariantSpec(Operation.OPTIMIZE, OutputFormat.JPEG), "image/jpeg")

    assert image.size == (400, 600)
    assert samples.ORIENTATION_TAG not in image.getexif()


def test_a_jpeg_made_much_smaller_loses_no_quality_to_reduced_scale_decoding() -> None:
    source = quadrants(2400, 1600)
    source.paste(
        samples.photo(1200, 800).resize((2400, 1600)), (0, 0), Image.new("L", (2400, 1600), 96)
    )
    data = samples.encode(source, "JPEG", quality=92)
    reference = Image.open(io.BytesIO(data)).resize((300, 200), Image.Resampling.LANCZOS)

    image = make(data, resize(300, None), "image/jpeg")

    rms = ImageStat.Stat(ImageChops.difference(image.convert("RGB"), reference)).rms
    assert max(rms) < 2.5


# --- the awkward inputs ------------------------------------------------------------------


def test_a_cmyk_jpeg_comes_out_rgb_with_its_colours() -> None:
    source = samples.photo(300, 200)

    image = make(samples.cmyk_jpeg(300, 200), resize(150, None), "image/jpeg")

    expected = ImageStat.Stat(source.resize(image.size)).mean
    assert image.mode == "RGB"
    assert all(abs(a - b) < 20 for a, b in zip(ImageStat.Stat(image).mean, expected, strict=True))


def test_a_16_bit_png_is_scaled_not_clipped() -> None:
    image = make(samples.png_16bit(200, 100), crop(0, 0, 200, 100)).convert("L")

    low, high = ImageStat.Stat(image).extrema[0]
    assert low < 10
    assert high > 245


def test_an_animated_gif_gives_its_first_frame() -> None:
    image = make(samples.animated_gif(80, 60), resize(40, None), "image/gif")

    assert image.format == "PNG"
    assert near(rgb(image, (20, 15)), RED)


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (samples.truncated_jpeg(), "image/jpeg"),
        (samples.png_with_corrupt_data(), "image/png"),
        (b"not an image at all", "image/webp"),
    ],
    ids=["truncated-jpeg", "corrupt-png", "garbage"],
)
def test_a_corrupt_image_is_unreadable(data: bytes, media_type: str) -> None:
    with pytest.raises(UnreadableImage):
        transform_image(io.BytesIO(data), media_type, resize(50, None), BUDGET)


# --- colour ------------------------------------------------------------------------------

# A saturated yellow-green, well inside both gamuts, that Adobe RGB and sRGB number apart.
ADOBE_RGB_COLOUR = (150, 220, 110)
# Adobe RGB (1998) → CIE XYZ (D65): the normalized primary matrix of Adobe's
# specification (Adobe RGB (1998) Color Image Encoding, version 2005-05, §4.3.4.1);
# gamma 563/256 (2.19921875).
ADOBE_RGB_TO_XYZ = (
    (0.57667, 0.18556, 0.18823),
    (0.29734, 0.62736, 0.07529),
    (0.02703, 0.07069, 0.99134),
)
ADOBE_RGB_GAMMA = 563 / 256
# CIE XYZ (D65) → linear sRGB: IEC 61966-2-1. Both spaces are D65, so no adaptation.
XYZ_TO_LINEAR_SRGB = (
    (3.2406, -1.5372, -0.4986),
    (-0.9689, 1.8758, 0.0415),
    (0.0557, -0.2040, 1.0570),
)


def adobe_rgb_to_srgb(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    """The sRGB numbers of an Adobe RGB (1998) colour, from the two published standards."""
    linear = [(value / 255) ** ADOBE_RGB_GAMMA for value in colour]
    xyz = [sum(m * c for m, c in zip(row, linear, strict=True)) for row in ADOBE_RGB_TO_XYZ]
    srgb = [sum(m * c for m, c in zip(row, xyz, strict=True)) for row in XYZ_TO_LINEAR_SRGB]
    assert all(0 < value < 1 for value in srgb), "inside sRGB's gamut, so nothing is clipped"
    encoded = [12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055 for c in srgb]
    red, green, blue = (value * 255 for value in encoded)
    return red, green, blue


EXPECTED_SRGB = adobe_rgb_to_srgb(ADOBE_RGB_COLOUR)  # ≈ (107, 221, 102)


def adobe_rgb_profile() -> bytes:
    assert ADOBE_RGB_PROFILE.is_file(), (
        f"{ADOBE_RGB_PROFILE} is missing: install Debian's icc-profiles-free (make icc)"
    )
    return ADOBE_RGB_PROFILE.read_bytes()


def tagged_adobe_rgb(fmt: str = "PNG", mode: str = "RGB", **save: object) -> bytes:
    """A flat image of ``ADOBE_RGB_COLOUR`` in Adobe RGB, its profile embedded."""
    colour = ADOBE_RGB_COLOUR + ((128,) if mode == "RGBA" else ())
    image = Image.new(mode, (200, 120), colour)
    return samples.encode(image, fmt, icc_profile=adobe_rgb_profile(), **save)


def test_the_expected_colour_is_far_from_the_numbers_taken_as_srgb() -> None:
    # Dropping the profile would keep the numbers: 43 levels off in red, which every
    # colour assertion below (tolerance 2-5) refuses.
    assert max(abs(a - e) for a, e in zip(ADOBE_RGB_COLOUR, EXPECTED_SRGB, strict=True)) > 40


@pytest.mark.parametrize(
    ("output", "tolerance"),
    [(OutputFormat.PNG, 2), (OutputFormat.WEBP, 4), (OutputFormat.AVIF, 4), (OutputFormat.JPEG, 4)],
)
def test_a_wide_gamut_image_becomes_its_srgb_colour(output: OutputFormat, tolerance: int) -> None:
    image = make(tagged_adobe_rgb(), resize(100, None, output=output))

    assert near(rgb(image, (50, 30)), EXPECTED_SRGB, tolerance)
    assert not near(rgb(image, (50, 30)), ADOBE_RGB_COLOUR, 3 * tolerance)
    assert "icc_profile" not in image.info


def test_a_crop_of_a_wide_gamut_jpeg_is_in_srgb() -> None:
    data = tagged_adobe_rgb("JPEG", quality=95, subsampling=0)

    image = make(data, crop(20, 20, 60, 40), "image/jpeg")

    assert near(rgb(image, (30, 20)), EXPECTED_SRGB, 4)


def test_a_wide_gamut_image_keeps_its_transparency() -> None:
    image = make(tagged_adobe_rgb(mode="RGBA"), resize(100, None))

    assert near(rgb(image, (50, 30)), EXPECTED_SRGB, 2)
    assert alpha(image, (50, 30)) == 128


@pytest.mark.parametrize(
    ("fmt", "media_type", "save"),
    [
        ("JPEG", "image/jpeg", {"quality": 95, "subsampling": 0}),
        ("PNG", "image/png", {}),  # decoded by libvips, converted by Little CMS
        ("WEBP", "image/webp", {"lossless": True}),
    ],
)
def test_the_thumbnails_of_a_wide_gamut_image_are_in_srgb(
    fmt: str, media_type: str, save: dict[str, object]
) -> None:
    data = tagged_adobe_rgb(fmt, **save)

    rendition = render_image(io.BytesIO(data), media_type, BUDGET)

    for variant in rendition.variants:
        image = Image.open(io.BytesIO(variant.webp))
        assert near(rgb(image, (image.width // 2, image.height // 2)), EXPECTED_SRGB, 5)
        assert "icc_profile" not in image.info
    dominant = bytes.fromhex(rendition.dominant_color[1:])
    assert near(tuple(dominant), EXPECTED_SRGB, 5)


@pytest.mark.parametrize("profile", ["little-cms", "debian"])
def test_an_srgb_tagged_image_keeps_its_numbers(profile: str) -> None:
    srgb = (
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        if profile == "little-cms"
        else SRGB_PROFILE.read_bytes()  # a profile of its own, not the one we convert to
    )
    data = png(Image.new("RGB", (64, 64), ADOBE_RGB_COLOUR), icc_profile=srgb)

    image = make(data, resize(32, None))

    assert rgb(image, (16, 16)) == ADOBE_RGB_COLOUR


@pytest.mark.parametrize("icc", [b"not a profile", "debian-srgb"])
def test_the_thumbnails_of_a_png_whose_profile_changes_nothing_keep_its_numbers(
    icc: bytes | str,
) -> None:
    profile = SRGB_PROFILE.read_bytes() if icc == "debian-srgb" else icc
    data = png(Image.new("RGB", (2048, 1024), ADOBE_RGB_COLOUR), icc_profile=profile)

    rendition = render_image(io.BytesIO(data), "image/png", BUDGET)

    for variant in rendition.variants:
        image = Image.open(io.BytesIO(variant.webp))
        assert near(rgb(image, (image.width // 2, image.height // 2)), ADOBE_RGB_COLOUR, 3)
        assert "icc_profile" not in image.info


def test_a_grey_profile_gives_neutral_grey() -> None:
    data = png(Image.new("L", (64, 64), 128), icc_profile=GREY_PROFILE.read_bytes())

    red, green, blue = rgb(make(data, resize(32, None)), (16, 16))

    assert red == green == blue


def test_an_unreadable_profile_is_ignored() -> None:
    data = png(Image.new("RGB", (64, 64), ADOBE_RGB_COLOUR), icc_profile=b"not a profile")

    image = make(data, resize(32, None))

    assert rgb(image, (16, 16)) == ADOBE_RGB_COLOUR
