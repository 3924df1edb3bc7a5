"""Real media files, made on the fly, for tests and benchmarks."""

from __future__ import annotations

import io

from PIL import Image


def jpeg_bytes(width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 40, 40),
               **save: object) -> bytes:
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


def png_bomb(side: int = 40_000) -> bytes:
    """A tiny PNG that claims ``side``×``side`` pixels: a decompression bomb's header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    # One compressed row of zeros repeated: kilobytes on disk, 1.6 gigapixels decoded.
    row = b"\x00" * (side + 1)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert('hi')</script></body></html>"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP3_BYTES = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
