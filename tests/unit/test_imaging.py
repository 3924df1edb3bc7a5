"""The variant pipeline on its own: bytes in, WebP variants and facts out."""

from __future__ import annotations

import base64
import io
import struct

import pytest
from PIL import Image, ImageChops, ImageStat
from PIL.PngImagePlugin import PngInfo

from mediaport.imaging import (
    DECODERS,
    ImageFacts,
    UnreadableImage,
    image_size,
    inspect_image,
    open_image,
)
from mediaport.model.variants import Fit, OutputFormat, VariantSpec
from mediaport.rendering import dominant_color, fit_within, render_image
from mediaport.transforms import transform_image
from tests import samples

BUDGET = 100_000_000


def render(data: bytes, media_type: str) -> dict[str, Image.Image]:
    rendition = render_image(io.BytesIO(data), media_type, BUDGET)
    return {v.name: Image.open(io.BytesIO(v.webp)) for v in rendition.variants}


def test_variants_are_webp_bounded_by_their_longest_edge() -> None:
    data = samples.encode(samples.photo(3000, 2000), "JPEG", quality=85)

    rendition = render_image(io.BytesIO(data), "image/jpeg", BUDGET)

    assert [(v.name, v.width, v.height) for v in rendition.variants] == [
        ("1024", 1024, 683),
        ("512", 512, 341),
        ("128", 128, 85),
    ]
    assert (rendition.width, rendition.height, rendition.aspect_ratio) == (3000, 2000, 1.5)
    for variant in rendition.variants:
        image = Image.open(io.BytesIO(variant.webp))
        assert (image.format, image.size) == ("WEBP", (variant.width, variant.height))


def test_a_small_image_is_never_upscaled() -> None:
    variants = render(samples.encode(samples.photo(200, 100), "PNG"), "image/png")

    assert {name: image.size for name, image in variants.items()} == {
        "1024": (200, 100),
        "512": (200, 100),
        "128": (128, 64),
    }


def test_the_placeholder_is_a_tiny_webp_data_uri() -> None:
    data = samples.encode(samples.photo(800, 600), "JPEG")

    placeholder = render_image(io.BytesIO(data), "image/jpeg", BUDGET).placeholder

    prefix = "data:image/webp;base64,"
    assert placeholder.startswith(prefix)
    assert len(placeholder) < 600
    tiny = Image.open(io.BytesIO(base64.b64decode(placeholder[len(prefix) :])))
    assert tiny.size == (16, 12)


def test_the_dominant_color_is_the_most_common_one() -> None:
    image = Image.new("RGB", (100, 100), (20, 200, 40))
    image.paste((250, 250, 250), (0, 0, 30, 100))

    assert dominant_color(image) == "#14c828"


def test_transparent_pixels_do_not_vote_for_the_dominant_color() -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 20, 20))

    assert dominant_color(image) == "#0000ff"


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_transposing_orientations_swap_width_and_height(orientation: int) -> None:
    data = samples.jpeg_with_exif(600, 400, orientation=orientation)

    rendition = render_image(io.BytesIO(data), "image/jpeg", BUDGET)

    assert (rendition.width, rendition.height) == (400, 600)
    assert rendition.variants[0].width == 400


def test_variants_carry_no_metadata() -> None:
    data = samples.jpeg_with_exif(gps=True)

    for variant in render_image(io.BytesIO(data), "image/jpeg", BUDGET).variants:
        image = Image.open(io.BytesIO(variant.webp))
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp"} & set(image.info)
        assert b"secret" not in variant.webp


def test_transparency_is_kept() -> None:
    variants = render(samples.palette_png_with_transparency(), "image/png")

    image = variants["128"]
    assert image.mode == "RGBA"
    assert image.getpixel((5, 5))[3] == 255  # the opaque half
    assert image.getpixel((60, 5))[3] == 0  # the transparent half


def test_an_rgba_png_keeps_its_alpha() -> None:
    variants = render(samples.png_bytes(64, 48, "RGBA"), "image/png")

    assert variants["128"].mode == "RGBA"
    assert variants["128"].getpixel((1, 1))[3] == 128


def test_a_cmyk_jpeg_comes_out_rgb_with_its_colours() -> None:
    source = samples.photo(300, 200)
    variants = render(samples.cmyk_jpeg(300, 200), "image/jpeg")

    image = variants["128"].convert("RGB")
    expected = ImageStat.Stat(source.resize(image.size)).mean
    assert image.mode == "RGB"
    assert all(abs(a - b) < 20 for a, b in zip(ImageStat.Stat(image).mean, expected, strict=True))


def test_a_16_bit_png_is_scaled_not_clipped() -> None:
    variants = render(samples.png_16bit(200, 100), "image/png")

    grey = variants["128"].convert("L")
    low, high = grey.getextrema()
    assert low < 10
    assert high > 245
    assert 100 < ImageStat.Stat(grey).mean[0] < 155  # a ramp, not a white wall


def test_an_animated_gif_gives_its_first_frame() -> None:
    variants = render(samples.animated_gif(80, 60), "image/gif")

    assert variants["128"].convert("RGB").getpixel((40, 30)) == pytest.approx((255, 0, 0), abs=8)
    assert getattr(variants["128"], "n_frames", 1) == 1


def test_a_truncated_image_is_unreadable() -> None:
    with pytest.raises(UnreadableImage) as raised:
        render_image(io.BytesIO(samples.truncated_jpeg()), "image/jpeg", BUDGET)
    assert not raised.value.too_many_pixels


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(UnreadableImage) as raised:
        render_image(io.BytesIO(samples.png_bomb(40_000)), "image/png", BUDGET)
    assert raised.value.too_many_pixels


def test_only_the_named_decoder_is_used() -> None:
    png = samples.encode(samples.photo(50, 50), "PNG")

    with pytest.raises(UnreadableImage):
        render_image(io.BytesIO(png), "image/jpeg", BUDGET)


@pytest.mark.parametrize(
    ("size", "edge", "expected"),
    [((4000, 3000), 1024, (1024, 768)), ((300, 3000), 128, (13, 128)), ((100, 50), 512, (100, 50))],
)
def test_fit_within(size: tuple[int, int], edge: int, expected: tuple[int, int]) -> None:
    assert fit_within(*size, edge) == expected


# --- the pixel budget is ours, and inspection stays within bounded memory ---------------

NINETY_FIVE_MP = 9747  # 9747² ≈ 95.0 million pixels: past Pillow's own 89.5 MP warning


def test_a_95_megapixel_header_opens_within_the_default_budget() -> None:
    size = image_size(io.BytesIO(samples.png_bomb(NINETY_FIVE_MP)), "image/png", BUDGET)

    assert size == (NINETY_FIVE_MP, NINETY_FIVE_MP)


def test_a_lower_budget_refuses_the_same_header() -> None:
    with pytest.raises(UnreadableImage) as raised:
        image_size(io.BytesIO(samples.png_bomb(NINETY_FIVE_MP)), "image/png", 50_000_000)
    assert raised.value.too_many_pixels


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/gif"])
def test_pillows_global_limit_does_not_decide(
    monkeypatch: pytest.MonkeyPatch, media_type: str
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    data = {"image/jpeg": samples.flat_jpeg(100, 100), "image/gif": samples.flat_gif(100, 100)}

    image = open_image(io.BytesIO(data[media_type]), media_type, BUDGET)

    assert image.size == (100, 100)


def test_each_image_type_has_one_decoder() -> None:
    assert DECODERS == {
        "image/jpeg": "Pillow JpegImageFile",
        "image/png": "libvips pngload",
        "image/webp": "libvips webpload",
        "image/gif": "Pillow GifImageFile",
    }


def test_a_valid_95_megapixel_png_passes_inspection_within_the_default_budget() -> None:
    data = samples.flat_png(9500, 10_000)

    assert inspect_image(io.BytesIO(data), "image/png", BUDGET) == ImageFacts(9500, 10_000)
    with pytest.raises(UnreadableImage) as raised:
        inspect_image(io.BytesIO(data), "image/png", 90_000_000)
    assert raised.value.too_many_pixels


def test_rendering_honours_the_same_budget_both_ways() -> None:
    data = samples.flat_jpeg(9500, 10_000)

    rendition = render_image(io.BytesIO(data), "image/jpeg", BUDGET)

    assert (rendition.width, rendition.height) == (9500, 10_000)
    with pytest.raises(UnreadableImage) as raised:
        render_image(io.BytesIO(data), "image/jpeg", 90_000_000)
    assert raised.value.too_many_pixels


@pytest.mark.parametrize("media_type", ["image/webp", "image/gif", "image/jpeg"])
def test_inspection_refuses_from_the_header_over_the_budget(media_type: str) -> None:
    data = {
        "image/webp": samples.lossless_webp(2000, 1000),
        "image/gif": samples.flat_gif(2000, 1000),
        "image/jpeg": samples.flat_jpeg(2000, 1000),
    }[media_type]

    with pytest.raises(UnreadableImage) as raised:
        inspect_image(io.BytesIO(data), media_type, 1_999_999)
    assert raised.value.too_many_pixels


def test_a_png_whose_compressed_data_is_corrupt_is_unreadable() -> None:
    # Every chunk CRC is right: only inflating the data finds the damage.
    with pytest.raises(UnreadableImage) as raised:
        inspect_image(io.BytesIO(samples.png_with_corrupt_data()), "image/png", BUDGET)
    assert not raised.value.too_many_pixels


def test_a_png_with_missing_rows_is_unreadable() -> None:
    # The bomb's header claims 2000 rows; its data holds 64.
    with pytest.raises(UnreadableImage) as raised:
        inspect_image(io.BytesIO(samples.png_bomb(2000)), "image/png", BUDGET)
    assert not raised.value.too_many_pixels


def test_an_interlaced_png_passes_inspection() -> None:
    data = samples.encode(samples.photo(301, 97), "PNG", interlace=True)

    assert inspect_image(io.BytesIO(data), "image/png", BUDGET) == ImageFacts(301, 97)


def test_a_webp_too_large_to_decode_for_inspection_is_checked_from_its_structure() -> None:
    # 4000×4000 would take ~256 MB to decode: more than inspection may spend.
    data = samples.lossless_webp(4000, 4000)

    assert inspect_image(io.BytesIO(data), "image/webp", BUDGET) == ImageFacts(4000, 4000)
    with pytest.raises(UnreadableImage) as raised:
        inspect_image(io.BytesIO(data[:-4]), "image/webp", BUDGET)
    assert not raised.value.too_many_pixels


def test_a_progressive_jpeg_too_large_to_decode_for_inspection_is_walked_to_its_end() -> None:
    # 6000×6000 4:4:4 progressive holds 216 MB of DCT coefficients while it decodes.
    data = samples.progressive_jpeg(6000, 6000)

    assert inspect_image(io.BytesIO(data), "image/jpeg", BUDGET) == ImageFacts(6000, 6000)
    with pytest.raises(UnreadableImage) as raised:
        inspect_image(io.BytesIO(data[: len(data) // 2]), "image/jpeg", BUDGET)
    assert not raised.value.too_many_pixels


def test_a_gif_of_thousands_of_frames_is_inspected_and_rendered_from_its_first() -> None:
    data = samples.gif_with_frames(3000)

    assert inspect_image(io.BytesIO(data), "image/gif", BUDGET) == ImageFacts(64, 64)
    variant = render(data, "image/gif")["128"].convert("RGB")
    assert variant.getpixel((10, 10)) == pytest.approx((0, 0, 255), abs=8)


# --- PNG and WebP: libvips decodes them, everywhere ---------------------------------------


def animated_webp(width: int = 80, height: int = 60) -> bytes:
    frames = [Image.new("RGB", (width, height), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    return buffer.getvalue()


def test_an_animated_webp_gives_its_first_frame() -> None:
    data = animated_webp()

    assert inspect_image(io.BytesIO(data), "image/webp", BUDGET) == ImageFacts(80, 60)
    variant = render(data, "image/webp")["128"]
    assert variant.convert("RGB").getpixel((40, 30)) == pytest.approx((255, 0, 0), abs=8)
    assert getattr(variant, "n_frames", 1) == 1


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_the_exif_orientation_of_a_webp_or_png_is_applied(fmt: str) -> None:
    # Stored 300×100, left half red; orientation 6 shows it turned a quarter clockwise.
    stored = Image.new("RGB", (300, 100), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 150, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = samples.encode(
        stored, fmt, exif=exif.tobytes(), **({"lossless": True} if fmt == "WEBP" else {})
    )
    media_type = f"image/{fmt.lower()}"

    rendition = render_image(io.BytesIO(data), media_type, BUDGET)

    assert (rendition.width, rendition.height) == (100, 300)
    upright = Image.open(io.BytesIO(rendition.variants[-1].webp)).convert("RGB")
    assert upright.size == (43, 128)
    assert upright.getpixel((21, 10)) == pytest.approx((255, 0, 0), abs=12)  # the top
    assert upright.getpixel((21, 118)) == pytest.approx((0, 0, 255), abs=12)  # the bottom
    if fmt == "WEBP":  # a PNG's eXIf may follow its data: applied when the variants are made
        assert inspect_image(io.BytesIO(data), media_type, BUDGET) == ImageFacts(100, 300)


def exif_after_the_data(png: bytes) -> bytes:
    """The same PNG with its eXIf chunk moved to just before IEND (the format allows it)."""
    chunks, position = [], 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        chunks.append(png[position : position + 12 + length])
        position += 12 + length
    (exif,) = [chunk for chunk in chunks if chunk[4:8] == b"eXIf"]
    rest = [chunk for chunk in chunks if chunk is not exif]
    assert rest[-1][4:8] == b"IEND"
    assert chunks.index(exif) < 3  # Pillow wrote it before the data
    return png[:8] + b"".join(rest[:-1]) + exif + rest[-1]


def test_the_orientation_of_an_exif_chunk_after_a_pngs_data_is_applied() -> None:
    # Stored 300×100, left half red, orientation 6; its eXIf after IDAT, where libvips'
    # header read does not look
    stored = Image.new("RGB", (300, 100), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 150, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = exif_after_the_data(samples.encode(stored, "PNG", exif=exif.tobytes()))

    rendition = render_image(io.BytesIO(data), "image/png", BUDGET)
    resized = transform_image(
        io.BytesIO(data),
        "image/png",
        VariantSpec.resize(width=50, height=None, fit=Fit.COVER, format=OutputFormat.PNG),
        BUDGET,
    )

    assert (rendition.width, rendition.height) == (100, 300)
    upright = Image.open(io.BytesIO(rendition.variants[-1].webp)).convert("RGB")
    assert upright.size == (43, 128)
    assert upright.getpixel((21, 10)) == pytest.approx((255, 0, 0), abs=12)  # the top
    assert (resized.width, resized.height) == (50, 150)
    turned = Image.open(io.BytesIO(resized.data)).convert("RGB")
    assert turned.getpixel((25, 10)) == pytest.approx((255, 0, 0), abs=12)
    assert turned.getpixel((25, 140)) == pytest.approx((0, 0, 255), abs=12)


@pytest.mark.parametrize(
    ("media_type", "data"),
    [
        ("image/png", samples.encode(samples.photo(400, 300), "PNG")[:-3000]),
        ("image/webp", samples.encode(samples.photo(400, 300), "WEBP")[:-3000]),
    ],
)
def test_a_truncated_png_or_webp_is_unreadable_when_rendered(media_type: str, data: bytes) -> None:
    with pytest.raises(UnreadableImage) as raised:
        render_image(io.BytesIO(data), media_type, BUDGET)
    assert not raised.value.too_many_pixels


def test_a_large_png_is_resized_to_the_exact_sizes_with_its_alpha() -> None:
    image = samples.photo(2500, 1500).convert("RGBA")
    image.putalpha(Image.new("L", image.size, 200))

    rendition = render_image(io.BytesIO(samples.encode(image, "PNG")), "image/png", BUDGET)

    assert [(v.width, v.height) for v in rendition.variants] == [
        (1024, 614),
        (512, 307),
        (128, 77),
    ]
    variant = Image.open(io.BytesIO(rendition.variants[0].webp))
    assert variant.mode == "RGBA"
    assert variant.getpixel((500, 300))[3] == pytest.approx(200, abs=2)


def test_a_webp_is_decoded_at_a_reduced_scale_to_the_exact_sizes() -> None:
    original = samples.photo(3000, 2000)
    data = samples.encode(original, "WEBP", quality=90)

    rendition = render_image(io.BytesIO(data), "image/webp", BUDGET)

    assert [(v.width, v.height) for v in rendition.variants] == [
        (1024, 683),
        (512, 341),
        (128, 85),
    ]
    # As close to Lanczos from the original as a full decode, Lanczos and the same encode.
    reference = original.resize((1024, 683), Image.Resampling.LANCZOS)
    full = Image.open(io.BytesIO(data)).convert("RGB").resize(reference.size, Image.LANCZOS)
    naive = Image.open(io.BytesIO(samples.encode(full, "WEBP", quality=80)))
    ours = Image.open(io.BytesIO(rendition.variants[0].webp))
    for channel, (our_rms, naive_rms) in enumerate(
        zip(rms(ours, reference), rms(naive, reference), strict=True)
    ):
        assert our_rms < naive_rms + 1.5, channel


def rms(image: Image.Image, reference: Image.Image) -> list[float]:
    return ImageStat.Stat(ImageChops.difference(image.convert("RGB"), reference)).rms


def test_a_png_with_a_bad_checksum_before_its_data_is_unreadable() -> None:
    info = PngInfo()
    info.add_text("comment", "hello")
    data = bytearray(samples.encode(samples.photo(60, 40), "PNG", pnginfo=info))
    text = data.index(b"tEXt")
    data[text + 4 + len(b"comment\x00hello")] ^= 0xFF  # the first byte of its CRC

    with pytest.raises(UnreadableImage) as raised:
        inspect_image(io.BytesIO(bytes(data)), "image/png", BUDGET)
    assert not raised.value.too_many_pixels
