import pytest

from mediaport.sniff import sniff_media_type
from tests import samples


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (samples.jpeg_bytes(8, 8), "image/jpeg"),
        (samples.png_bytes(), "image/png"),
        (samples.gif_bytes(), "image/gif"),
        (samples.webp_bytes(), "image/webp"),
        (samples.PDF_BYTES, "application/pdf"),
        (samples.MP3_BYTES, "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 60, "audio/mpeg"),
        (samples.MP4_BYTES, "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (samples.HTML_BYTES, "text/html"),
        (b"\xef\xbb\xbf  <html><body>", "text/html"),
    ],
)
def test_the_type_comes_from_the_signature(head: bytes, expected: str) -> None:
    assert sniff_media_type(head[:64]) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello, plain text",
        b"\xff\xf1\x50\x80" + b"\x00" * 20,  # AAC (ADTS): MPEG sync bits, but layer 0
        b"\xff\xfb\xf0\x64",  # MPEG frame header with the reserved bitrate index
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"PK\x03\x04",
    ],
)
def test_unknown_or_lookalike_bytes_are_not_recognized(head: bytes) -> None:
    assert sniff_media_type(head) is None
