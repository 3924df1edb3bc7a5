"""Media type detection from a file's first bytes (its signature), never from its name."""

from __future__ import annotations

from mediaport.policy import GIF, JPEG, MP4, MPEG_AUDIO, PDF, PNG, WEBP

# Enough for every signature below, and for skipping an HTML document's leading blanks.
SNIFF_LENGTH = 64

# ISO base media brands that are MP4 video; others (QuickTime, HEIF, M4A…) are named apart.
_MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"dash",
        b"mmp4",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"MSNV",
        b"NDAS",
        b"f4v ",
    }
)
_OTHER_BRANDS = {
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
}


def sniff_media_type(head: bytes) -> str | None:
    """The media type a file's first bytes announce, or None when they announce none we know."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return MP4 if brand in _MP4_BRANDS else _OTHER_BRANDS.get(brand, "application/octet-stream")
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return MPEG_AUDIO
    if _looks_like_html(head):
        return "text/html"
    return None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    # An MPEG audio frame header: 11 sync bits, a valid version, a layer, a bitrate and
    # a sample rate that are not the reserved values. AAC's ADTS has layer 0 and fails.
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0 and bitrate not in (0, 0xF) and sample_rate != 0b11


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<script", b"<body"))
