"""Image inspection: one explicit decoder per type, our pixel budget, bounded memory."""

from __future__ import annotations

import io
import math
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import IO, TYPE_CHECKING

from PIL import Image, ImageFile
from PIL.GifImagePlugin import GifImageFile
from PIL.JpegImagePlugin import JpegImageFile

from mediaport.policy import GIF, JPEG, PNG, WEBP

if TYPE_CHECKING:
    import pyvips

# The allow-list: the one decoder that ever reads each image type. Verification, the
# thumbnails and the operations on demand all go through it, so the bytes a verdict was
# reached on are read by the same code that later decodes them, and by no other.
# PNG and WebP are libvips' (libspng, and libwebp with scaled decoding: 1.3-1.5× faster
# than Pillow's for the thumbnails, see docs/performance.md); JPEG and GIF are Pillow's.
DECODERS: dict[str, str] = {
    JPEG: "Pillow JpegImageFile",
    PNG: "libvips pngload",
    WEBP: "libvips webpload",
    GIF: "Pillow GifImageFile",
}
# Pillow's are built directly rather than through ``Image.open``: that skips Pillow's own
# bomb check, which reads the process-global ``Image.MAX_IMAGE_PIXELS`` (a warning from
# ~89.5 MP, an error from ~179 MP), so the budget that decides is the one we were given.
_IMAGE_FILES: dict[str, type[ImageFile.ImageFile]] = {
    JPEG: JpegImageFile,  # an MPO (several JPEGs) is read as its first image
    GIF: GifImageFile,
}
# libvips' loaders are named, never found by libvips sniffing the bytes.
_VIPS_LOADERS = {PNG: "pngload_source", WEBP: "webpload_source"}
VIPS_TYPES = frozenset(_VIPS_LOADERS)
_VIPS_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}  # by band count, 8 bits each
EXIF_ORIENTATION = 0x0112
TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}
# The transpose that turns the stored pixels upright, by EXIF orientation.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# How much memory the integrity check may spend decoding a first frame. Verification
# runs in the API function (confirm, 512 MB) as well as in process_upload, and must reach
# the same verdict in both, so the limit is one constant sized for the smaller: the
# interpreter with the API's imports is ~120 MB, this leaves room to spare.
INTEGRITY_DECODE_LIMIT = 192 * 1024 * 1024
# Peak bytes per pixel of a first-frame decode (peak RSS of a fresh interpreter, minus its
# baseline). WebP: 16, measured when Pillow decoded it (libwebp's animation decoder: two
# RGBA canvases, a copy handed to Python, Pillow's own image); libvips' webpload, which
# decodes WebP now, needs less, so the bound is kept as a safe upper one. A GIF frame is
# one byte per pixel plus Pillow's image. A baseline JPEG decodes at 1/8 scale (DCT scaling)
# in a few MB; a progressive one must hold every DCT coefficient first, 2 bytes per
# sample, however small it is decoded.
_WEBP_DECODE_BYTES_PER_PIXEL = 16
_GIF_DECODE_BYTES_PER_PIXEL = 2
_IO_BLOCK = 256 * 1024


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


def open_image(file: IO[bytes], media_type: str, max_pixels: int) -> Image.Image:
    """The image as Pillow sees it, read with the one decoder its type names, within the budget.

    Pillow's decoders (JPEG, GIF) open lazily, headers only, so ``draft`` can still pick
    a reduced scale. libvips' (PNG, WebP) check the header against the budget, then
    decode the first frame, 8 bits a channel, its ICC profile and EXIF in ``info``.
    Only ``max_pixels`` decides; Pillow's global ``MAX_IMAGE_PIXELS`` is never consulted
    (except inside Pillow's GIF frame parsing, which still refuses more than twice it,
    ~179 MP, whatever the budget).
    """
    if media_type in VIPS_TYPES:
        start = file.tell()
        image = vips_to_pillow(open_vips(file, media_type, max_pixels))
        if media_type == PNG and "exif" not in image.info:
            late = png_exif(file, start)
            if late is not None:
                image.info["exif"] = late
        return image
    opener = _IMAGE_FILES[media_type]
    try:
        image = opener(file)
    except Image.DecompressionBombError as error:
        raise UnreadableImage(True, f"the image has too many pixels ({error})") from error
    except (SyntaxError, OSError, ValueError, EOFError) as error:
        raise UnreadableImage(False, f"the file is not a readable {opener.format} image") from error
    _check_budget(*image.size, max_pixels)
    return image


def image_size(file: IO[bytes], media_type: str, max_pixels: int) -> tuple[int, int]:
    """The stored size the header declares, read by the type's decoder, within the budget."""
    if media_type in VIPS_TYPES:
        header = open_vips(file, media_type, max_pixels)
        return header.width, header.height
    with open_image(file, media_type, max_pixels) as image:
        return image.size


@cache
def vips() -> ModuleType:
    """libvips, loaded on first use (not at import: functions that never decode skip it).

    Its operation cache is off: a warm function sees each image once, and the cache would
    keep decoded pixels of past images alive.
    """
    import pyvips

    pyvips.cache_set_max(0)
    return pyvips


def open_vips(file: IO[bytes], media_type: str, max_pixels: int, **options: object) -> pyvips.Image:
    """Open with libvips' loader for the type (headers only; pixels are decoded as they are
    read), within the budget. ``options`` go to the loader (a WebP's ``scale``)."""
    if media_type == WEBP:
        # Checked before libvips sees the file, as for every WebP decoder: libwebp
        # allocates its canvases from what the header declares.
        start = file.tell()
        size = webp_canvas_size(file.read(30))
        file.seek(start)
        if size is not None:
            _check_budget(*size, max_pixels)
    pyvips = vips()
    loader = getattr(pyvips.Image, _VIPS_LOADERS[media_type])
    if media_type == WEBP:
        options = {"n": 1, **options}  # the first frame of an animation
    try:
        # fail_on="error": a truncated or corrupt file raises instead of being padded.
        image = loader(_vips_source(file), access="sequential", fail_on="error", **options)
    except pyvips.Error as error:
        kind = media_type.split("/")[1].upper()
        raise UnreadableImage(False, f"the file is not a readable {kind} image") from error
    _check_budget(image.width, image.height, max_pixels)
    return image


def _vips_source(file: IO[bytes]) -> pyvips.Source:
    pyvips = vips()
    if isinstance(file, io.BytesIO):
        return pyvips.Source.new_from_memory(file.getvalue())
    source = pyvips.SourceCustom()
    source.on_read(file.read)
    source.on_seek(file.seek)
    return source


def vips_to_pillow(image: pyvips.Image) -> Image.Image:
    """libvips' decoded pixels as a Pillow image: 8 bits a channel (16-bit scaled, not
    clipped), grey or RGB with any alpha, the ICC profile and EXIF in ``info``."""
    pyvips = vips()
    try:
        if image.format != "uchar":
            image = image.cast("uchar", shift=True)
        mode = _VIPS_MODES[image.bands]
        # A copy Pillow owns (frombuffer would share read-only bytes that ``to_srgb``
        # then converts in place).
        pixels = Image.frombytes(mode, (image.width, image.height), image.write_to_memory())
    except pyvips.Error as error:
        raise UnreadableImage(False, "the image data is corrupt or truncated") from error
    fields = set(image.get_fields())
    for field, key in (("icc-profile-data", "icc_profile"), ("exif-data", "exif")):
        if field in fields:
            pixels.info[key] = image.get(field)
    return pixels


def vips_orientation(image: pyvips.Image, file: IO[bytes] | None = None, start: int = 0) -> int:
    """The EXIF orientation libvips read from the header (1 when there is none). Given the
    file of a PNG, an eXIf chunk after the image data counts too: libvips reads only the
    chunks before it, and the PNG format allows it anywhere before IEND."""
    if "orientation" in image.get_fields():
        orientation = image.get("orientation")
    elif file is not None and image.get("vips-loader").startswith("pngload"):
        late = png_exif(file, start)
        orientation = _exif_orientation(late) if late is not None else None
    else:
        return 1
    return orientation if orientation in UPRIGHT else 1


def png_exif(file: IO[bytes], start: int = 0) -> bytes | None:
    """The data of a PNG's eXIf chunk, wherever it is (None when there is none, or it is
    larger than a block). Only chunk headers are read; the file's position is kept."""
    position = file.tell()
    try:
        file.seek(start + 8)  # past the signature
        while True:
            head = file.read(8)
            if len(head) < 8:
                return None
            (length,), kind = struct.unpack(">I", head[:4]), head[4:]
            if kind == b"eXIf":
                data = file.read(length) if length <= _IO_BLOCK else b""
                return data if data and len(data) == length else None
            if kind == b"IEND":
                return None
            file.seek(length + 4, io.SEEK_CUR)  # the data and its CRC
    finally:
        file.seek(position)


def _exif_orientation(data: bytes) -> int | None:
    exif = Image.Exif()
    try:
        exif.load(data)
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        return None
    orientation = exif.get(EXIF_ORIENTATION)
    return orientation if isinstance(orientation, int) else None


def _check_budget(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise UnreadableImage(
            True, f"the image is {width}×{height} pixels, over the budget of {max_pixels:,}"
        )


def webp_canvas_size(header: bytes) -> tuple[int, int] | None:
    """The canvas size a WebP file's first 30 bytes declare (RIFF, then VP8, VP8L or VP8X)."""
    if len(header) < 30 or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return None
    chunk = header[12:16]
    if chunk == b"VP8X":
        return int.from_bytes(header[24:27], "little") + 1, int.from_bytes(
            header[27:30], "little"
        ) + 1
    if chunk == b"VP8L" and header[20] == 0x2F:
        bits = int.from_bytes(header[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and header[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", header[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def inspect_image(file: IO[bytes], media_type: str, max_pixels: int) -> ImageFacts:
    """Dimensions of a well-formed image; a truncated or corrupt one raises ``UnreadableImage``.

    Memory stays bounded whatever the image claims (see ``INTEGRITY_DECODE_LIMIT``).
    """
    if media_type == PNG:
        return _inspect_png(file, max_pixels)
    if media_type == WEBP:
        return _inspect_webp(file, max_pixels)
    image = open_image(file, media_type, max_pixels)
    try:
        with image:
            width, height = image.size
            orientation = image.getexif().get(EXIF_ORIENTATION)
            _check_integrity(image, file)
    except UnreadableImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise UnreadableImage(False, f"the image data is corrupt or truncated ({error})") from error
    if orientation in TRANSPOSING_ORIENTATIONS:
        width, height = height, width
    return ImageFacts(width=width, height=height)


def _inspect_png(file: IO[bytes], max_pixels: int) -> ImageFacts:
    # libvips reads the header; the data is checked without decoding it into an image
    # (``_check_png_data``). A PNG's rare EXIF orientation (an eXIf chunk may come after
    # the data) is applied when the variants are made.
    start = file.tell()
    header = open_vips(file, PNG, max_pixels)
    width, height = header.width, header.height
    file.seek(start)
    try:
        _check_png_data(file, _PNG_FIRST_CHUNK)
    except (OSError, ValueError, EOFError, struct.error, zlib.error) as error:
        raise UnreadableImage(False, f"the image data is corrupt or truncated ({error})") from error
    return ImageFacts(width=width, height=height)


def _inspect_webp(file: IO[bytes], max_pixels: int) -> ImageFacts:
    start = file.tell()
    size = webp_canvas_size(file.read(30))
    file.seek(start)
    if size is not None and size[0] * size[1] * _WEBP_DECODE_BYTES_PER_PIXEL > (
        INTEGRITY_DECODE_LIMIT
    ):
        # Never handed to libwebp: its canvases are allocated from the declared size.
        _check_budget(*size, max_pixels)
        try:
            return _inspect_webp_structure(file, *size)
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
            raise UnreadableImage(False, f"the WebP file is corrupt ({error})") from error
    image = open_vips(file, WEBP, max_pixels)
    width, height = image.width, image.height
    try:
        image.avg()  # decodes the first frame (every byte of it), keeps none of it
    except vips().Error as error:
        raise UnreadableImage(False, "the image data is corrupt or truncated") from error
    if vips_orientation(image) in TRANSPOSING_ORIENTATIONS:
        width, height = height, width
    return ImageFacts(width=width, height=height)


def integrity_decode_bytes(image: Image.Image) -> int:
    """What decoding this image's first frame would cost the integrity check, in bytes."""
    pixels = image.width * image.height
    if image.format == "GIF":
        return pixels * _GIF_DECODE_BYTES_PER_PIXEL
    if image.format == "JPEG" and image.info.get("progressive"):
        return 2 * _jpeg_samples(image)
    return 0  # baseline JPEG: 1/8 scale


def _jpeg_samples(image: Image.Image) -> int:
    # Components with their sampling factors (id, h, v, table), as in the SOF segment.
    layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
    h_max = max(h for _, h, _, _ in layers)
    v_max = max(v for _, _, v, _ in layers)
    return sum(
        _ceil(image.width * h / h_max) * _ceil(image.height * v / v_max) for _, h, v, _ in layers
    )


def _check_integrity(image: Image.Image, file: IO[bytes]) -> None:
    # Every byte is read; pixels are decoded only within INTEGRITY_DECODE_LIMIT.
    # JPEG: decoded at 1/8 scale (DCT scaling). GIF: the first frame is decoded. Past the
    # limit (a progressive JPEG of many megapixels) the check is structural: its segments
    # are walked to its EOI, and its pixels are decoded when the variants are made.
    # (PNG and WebP: ``_inspect_png``, ``_inspect_webp``.)
    if integrity_decode_bytes(image) > INTEGRITY_DECODE_LIMIT:
        if image.format == "JPEG":
            _check_jpeg_segments(file)
    else:
        if image.format == "JPEG":
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_PNG_FILTERS = 5  # filter types 0..4 start each row
_PNG_FIRST_CHUNK = 8  # after the signature: every chunk's CRC is checked, IHDR's too


def _check_png_data(file: IO[bytes], first_chunk: int) -> None:
    """Check every chunk's CRC from ``first_chunk`` on, and inflate the image data in
    pieces: every row must be there and start with a valid filter type."""
    file.seek(0)
    header = file.read(33)
    width, height, bit_depth, colour_type, _, _, interlace = struct.unpack(
        ">IIBBBBB", header[16:29]
    )
    bits_per_pixel = bit_depth * _PNG_CHANNELS.get(colour_type, 1)
    rows = _png_row_starts(width, height, bits_per_pixel, interlace == 1)
    next_row = next(rows, None)
    inflater = zlib.decompressobj()
    produced = 0
    file.seek(first_chunk)
    while True:
        length_and_type = file.read(8)
        if len(length_and_type) < 8:
            raise UnreadableImage(False, "the PNG file is truncated (no IEND chunk)")
        (length,), kind = struct.unpack(">I", length_and_type[:4]), length_and_type[4:]
        if not kind.isalpha():
            raise UnreadableImage(False, f"the PNG file is corrupt (chunk {kind!r})")
        crc = zlib.crc32(kind)
        remaining = length
        while remaining:
            piece = file.read(min(remaining, _IO_BLOCK))
            if not piece:
                raise UnreadableImage(False, "the PNG file is truncated")
            remaining -= len(piece)
            crc = zlib.crc32(piece, crc)
            if kind == b"IDAT":
                while piece:
                    data = inflater.decompress(piece, _IO_BLOCK)
                    piece = inflater.unconsumed_tail
                    end = produced + len(data)
                    while next_row is not None and next_row < end:
                        if data[next_row - produced] >= _PNG_FILTERS:
                            raise UnreadableImage(False, "the PNG image data is corrupt")
                        next_row = next(rows, None)
                    produced = end
        if file.read(4) != struct.pack(">I", crc):
            raise UnreadableImage(False, f"the PNG file is corrupt (bad checksum in {kind!r})")
        if kind == b"IEND":
            break
    if next_row is not None or produced < _png_data_length(
        width, height, bits_per_pixel, interlace == 1
    ):
        raise UnreadableImage(False, "the PNG image data is truncated")


def _png_passes(width: int, height: int, interlaced: bool) -> Iterator[tuple[int, int]]:
    """(width, height) of each pass: one for a plain PNG, Adam7's seven for an interlaced."""
    if not interlaced:
        yield width, height
        return
    for x0, y0, dx, dy in _ADAM7:
        pass_width, pass_height = _ceil_div(width - x0, dx), _ceil_div(height - y0, dy)
        if pass_width > 0 and pass_height > 0:
            yield pass_width, pass_height


def _png_row_starts(
    width: int, height: int, bits_per_pixel: int, interlaced: bool
) -> Iterator[int]:
    position = 0
    for pass_width, pass_height in _png_passes(width, height, interlaced):
        stride = 1 + _ceil_div(pass_width * bits_per_pixel, 8)
        for _ in range(pass_height):
            yield position
            position += stride


def _png_data_length(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> int:
    return sum(
        pass_height * (1 + _ceil_div(pass_width * bits_per_pixel, 8))
        for pass_width, pass_height in _png_passes(width, height, interlaced)
    )


# A marker inside entropy-coded data: 0xFF then neither a stuffed 0x00, RST0-7 nor fill.
_JPEG_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length
_JPEG_SOS, _JPEG_EOI = 0xDA, 0xD9


def _check_jpeg_segments(file: IO[bytes]) -> None:
    """Walk a JPEG's segments and scans from SOI to EOI: nothing truncated or cut short."""
    file.seek(0)
    if file.read(2) != b"\xff\xd8":
        raise UnreadableImage(False, "the JPEG file does not start with SOI")
    while True:
        byte = file.read(1)
        if byte != b"\xff":
            raise UnreadableImage(False, "the JPEG file is corrupt or truncated")
        marker = 0xFF
        while marker == 0xFF:  # fill bytes may precede a marker
            code = file.read(1)
            if not code:
                raise UnreadableImage(False, "the JPEG file is truncated")
            marker = code[0]
        if marker == _JPEG_EOI:
            return
        if marker in _JPEG_STANDALONE:
            continue
        length_bytes = file.read(2)
        if len(length_bytes) < 2 or struct.unpack(">H", length_bytes)[0] < 2:
            raise UnreadableImage(False, "the JPEG file is corrupt or truncated")
        file.seek(struct.unpack(">H", length_bytes)[0] - 2, io.SEEK_CUR)
        if marker == _JPEG_SOS:
            _skip_entropy_coded_data(file)


def _skip_entropy_coded_data(file: IO[bytes]) -> None:
    """Leave ``file`` at the first marker after a scan's entropy-coded data."""
    carry = b""
    while True:
        start = file.tell() - len(carry)
        block = carry + file.read(_IO_BLOCK)
        if len(block) <= len(carry):
            raise UnreadableImage(False, "the JPEG file is truncated (a scan has no end)")
        found = _JPEG_MARKER_IN_SCAN.search(block)
        if found:
            file.seek(start + found.start())
            return
        carry = block[-1:] if block.endswith(b"\xff") else b""


def _ceil(value: float) -> int:
    return max(1, math.ceil(value))


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


_WEBP_IMAGE_CHUNKS = {b"VP8 ", b"VP8L", b"ANMF"}


def _inspect_webp_structure(file: IO[bytes], width: int, height: int) -> ImageFacts:
    """Walk a WebP's RIFF chunks to the end of the file without decoding: every chunk
    whole, an image chunk present; the EXIF orientation read from its EXIF chunk."""
    file.seek(0)
    riff = file.read(12)
    riff_end = 8 + struct.unpack("<I", riff[4:8])[0]
    position, kinds, orientation = 12, set(), None
    while position < riff_end:
        chunk_header = file.read(8)
        if len(chunk_header) < 8:
            raise UnreadableImage(False, "the WebP file is truncated")
        kind, (length,) = chunk_header[:4], struct.unpack("<I", chunk_header[4:])
        position += 8 + length + (length & 1)
        if position > riff_end:
            raise UnreadableImage(False, f"the WebP file is truncated (chunk {kind!r})")
        kinds.add(kind)
        if kind == b"EXIF" and length <= _IO_BLOCK:
            exif = Image.Exif()
            exif.load(file.read(length))
            orientation = exif.get(EXIF_ORIENTATION)
        file.seek(position)
    end = file.seek(0, io.SEEK_END)
    if end < riff_end or not kinds & _WEBP_IMAGE_CHUNKS:
        raise UnreadableImage(False, "the WebP file is truncated or has no image")
    if orientation in TRANSPOSING_ORIENTATIONS:
        width, height = height, width
    return ImageFacts(width=width, height=height)
