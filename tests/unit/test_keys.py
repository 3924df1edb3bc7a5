import re

import pytest

from mediaport.keys import (
    build_object_key,
    build_variant_key,
    parse_object_key,
    sanitize_filename,
    variant_prefix,
)

SAFE = re.compile(r"[A-Za-z0-9._-]+")


@pytest.mark.parametrize(
    ("given", "media_type", "expected"),
    [
        ("holiday photo.jpg", "image/jpeg", "holiday-photo.jpg"),
        ("Café Crème.JPEG", "image/jpeg", "Cafe-Creme.jpeg"),
        ("../../etc/passwd.png", "image/png", "passwd.png"),
        ("C:\\Users\\bob\\me.png", "image/png", "me.png"),
        ("tab\there\nnew.gif", "image/gif", "tab-here-new.gif"),
        ("日本語.pdf", "application/pdf", "file.pdf"),
        ("invoice.html", "image/png", "invoice.png"),
        ("no-extension", "video/mp4", "no-extension.mp4"),
        ("...hidden.mp3", "audio/mpeg", "hidden.mp3"),
    ],
)
def test_filenames_become_safe_key_names(given: str, media_type: str, expected: str) -> None:
    assert sanitize_filename(given, media_type) == expected


def test_a_300_character_filename_is_capped_and_keeps_its_extension() -> None:
    name = sanitize_filename("a" * 300 + ".webp", "image/webp")
    assert len(name) <= 100
    assert name.endswith(".webp")
    assert SAFE.fullmatch(name)


@pytest.mark.parametrize("hostile", ["\x00\x01\x02.png", "   .png", "/", "..", "💥💥.png"])
def test_hostile_names_still_give_a_safe_name(hostile: str) -> None:
    name = sanitize_filename(hostile, "image/png")
    assert SAFE.fullmatch(name)
    assert not name.startswith(".")
    assert name.endswith(".png")


def test_object_keys_are_built_by_the_server_and_parse_back() -> None:
    key = build_object_key("user-1", "a1b2", "photo.jpg")
    assert key == "media/user-1/a1b2/photo.jpg"
    assert parse_object_key(key) == ("user-1", "a1b2")


def test_a_user_id_with_slashes_cannot_escape_its_prefix() -> None:
    key = build_object_key("../../evil/", "a1b2", "photo.jpg")
    assert key.count("/") == 3
    assert parse_object_key(key) == ("..-..-evil-", "a1b2")


@pytest.mark.parametrize("key", ["derived/u/a/128.webp", "media/u/a", "media/u//x.jpg", "x"])
def test_keys_that_are_not_uploads_do_not_parse(key: str) -> None:
    assert parse_object_key(key) is None


def test_a_variant_key_names_the_bytes_it_was_made_from() -> None:
    key = build_variant_key("user-1", "a1b2", "9f86d081-3", "512")
    assert key == "derived/user-1/a1b2/9f86d081-3/512.webp"
    assert key.startswith(variant_prefix("user-1", "a1b2"))
    assert build_variant_key("user-1", "a1b2", "other", "512") != key
    assert parse_object_key(key) is None  # never taken for an upload


def test_a_checksum_cannot_escape_its_prefix() -> None:
    key = build_variant_key("u", "a", "../../x", "128")
    assert key.count("/") == 4
    assert key.startswith("derived/u/a/")
