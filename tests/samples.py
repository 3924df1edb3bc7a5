"""Real media files, made on the fly, for tests and benchmarks."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def jpeg_bytes(
    width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 40, 40), **save: object
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=85, **save)
    return buffer.getvalue()


def png_bytes(width: int = 64, height: int = 48, mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (10, 120, 200, 128)[: len(mode)]).save(buffer, "PNG")
    return buffer.getvalue()


def gif_bytes(width: int = 32, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (width, height), 3).save(buffer, "GIF")
    return buffer.getvalue()


def webp_bytes(width: int = 48, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (0, 200, 0)).save(buffer, "WEBP")
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_file(header: bytes, data: bytes) -> bytes:
    """A PNG from its IHDR fields and its compressed image data."""
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def png_bomb(side: int = 40_000) -> bytes:
    """A tiny PNG that claims ``side``×``side`` pixels: a decompression bomb's header."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    # One compressed row of zeros repeated: kilobytes on disk, 1.6 gigapixels decoded.
    row = b"\x00" * (side + 1)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return png_file(header, data)


HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert('hi')</script></body></html>"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP3_BYTES = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200


# --- processing: realistic pixels and the awkward cases ------------------------------


def photo(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Non-flat content (gradients and noise), so codecs and resamplers do real work."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    mirrored = gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = Image.merge("RGB", (gradient, noise, mirrored))
    return image if mode == "RGB" else image.convert(mode)


def encode(image: Image.Image, fmt: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


GPS_IFD = 0x8825
ORIENTATION_TAG = 0x0112


def jpeg_with_exif(
    width: int = 600, height: int = 400, orientation: int = 1, gps: bool = False
) -> bytes:
    """A JPEG with EXIF orientation, optionally GPS coordinates, a comment and an ICC profile."""
    from PIL import ImageCms

    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        photo(width, height), "JPEG", quality=85, exif=exif, icc_profile=icc, comment=b"secret"
    )


def cmyk_jpeg(width: int = 300, height: int = 200) -> bytes:
    return encode(photo(width, height, "CMYK"), "JPEG", quality=85)


def png_16bit(width: int = 200, height: int = 100) -> bytes:
    """A 16-bit greyscale PNG whose values use the whole 0..65535 range."""
    ramp = Image.linear_gradient("L").resize((width, height)).convert("I")
    return encode(ramp.point(lambda value: value * 257).convert("I;16"), "PNG")


def palette_png_with_transparency(width: int = 64, height: int = 64) -> bytes:
    image = Image.new("P", (width, height), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, width // 2, height))
    return encode(image, "PNG", transparency=0)


def animated_gif(width: int = 80, height: int = 60) -> bytes:
    frames = [Image.new("RGB", (width, height), color) for color in ("red", "lime", "blue")]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def truncated_jpeg() -> bytes:
    data = encode(photo(800, 600), "JPEG", quality=90)
    return data[: len(data) // 2]


# --- large images that are cheap to make and to store ----------------------------------


def flat_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG of any size, compressed row by row (never held as pixels)."""
    row = b"\x00" + b"\x07" * width  # filter type 0, then one grey level
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return png_file(header, data)


def png_with_corrupt_data(width: int = 200, height: int = 100) -> bytes:
    """Every chunk CRC is right, but the zlib stream inside IDAT is garbage."""
    import struct
    import zlib

    data = bytearray(encode(photo(width, height), "PNG"))
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    data[start + 10 : start + 60] = bytes(range(50))
    crc = zlib.crc32(bytes(data[start - 4 : start + length])) & 0xFFFFFFFF
    data[start + length : start + length + 4] = struct.pack(">I", crc)
    return bytes(data)


def flat_jpeg(width: int, height: int) -> bytes:
    """A baseline greyscale JPEG (one byte per pixel while it is made)."""
    return encode(Image.new("L", (width, height), 90), "JPEG", quality=75)


def progressive_jpeg(width: int, height: int) -> bytes:
    """A progressive 4:4:4 JPEG: a decoder must hold all its DCT coefficients at once."""
    image = Image.new("RGB", (width, height), (200, 40, 40))
    return encode(image, "JPEG", quality=80, progressive=True, subsampling=0)


def lossless_webp(width: int, height: int) -> bytes:
    """A flat lossless WebP: a few KB on disk, ``width``×``height`` RGBA canvases decoded."""
    image = Image.new("RGB", (width, height), (10, 200, 30))
    return encode(image, "WEBP", lossless=True, method=0, quality=0)  # fastest: ~40 bytes


def damaged_lossless_webp(width: int = 4000, height: int = 4000) -> bytes:
    """A large lossless WebP whose chunks are intact but whose pixel data is garbage: its
    structure passes confirm's bounded check, and only a full decode finds it broken."""
    data = bytearray(lossless_webp(width, height))
    # RIFF header, VP8L chunk header, signature byte and dimensions stay; the rest is noise.
    data[25:] = b"\xff" * (len(data) - 25)
    return bytes(data)


def gif_with_frames(frames: int, width: int = 64, height: int = 64) -> bytes:
    """An animated GIF of many (alternating, so none is merged away) frames."""
    first, second = (Image.new("P", (width, height), index) for index in (1, 2))
    for frame in (first, second):
        frame.putpalette([255, 0, 0, 0, 0, 255] * 128)
    sequence = [second if index % 2 else first for index in range(1, frames)]
    return encode(first, "GIF", save_all=True, append_images=sequence, duration=20, loop=0)


def flat_gif(width: int, height: int) -> bytes:
    return encode(Image.new("P", (width, height), 3), "GIF")
