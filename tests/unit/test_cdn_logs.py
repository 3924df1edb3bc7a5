"""Reading CloudFront standard log files for the bytes each asset served (no I/O)."""

from __future__ import annotations

import pytest

from mediaport.cdn_logs import NotALogFile, Served, asset_of_key, read_log, served_bytes
from tests.cloudfront_logs import HEADER, Request, log_file, log_text

A = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
B = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def test_bytes_are_summed_per_asset_over_its_original_and_variants() -> None:
    text = log_text(
        Request(f"/media/alice/{A}/photo.jpg", 120_380),
        Request(f"/derived/alice/{A}/abc123/512.webp", 9_380),
        Request(f"/derived/alice/{A}/abc123/512.webp", 9_380, result="Hit"),
        Request(f"/released/bob/{B}/cv.png", 1_000),
    )

    assert served_bytes(text) == [
        Served(B, "2026-11", 1_000),
        Served(A, "2026-11", 120_380 + 2 * 9_380),
    ]


def test_a_gzip_log_file_reads_as_its_text() -> None:
    data = log_file(Request(f"/media/alice/{A}/photo.jpg", 500))

    assert served_bytes(read_log(data)) == [Served(A, "2026-11", 500)]


def test_only_gets_answered_with_a_body_count() -> None:
    text = log_text(
        Request(f"/media/alice/{A}/a.jpg", 300, status=304),
        Request(f"/media/alice/{A}/a.jpg", 520, status=403),
        Request(f"/media/alice/{A}/a.jpg", 520, status=404),
        Request(f"/media/alice/{A}/a.jpg", 380, method="HEAD"),
        Request(f"/media/alice/{A}/a.jpg", 1_000, status=206),
        Request(f"/media/alice/{A}/a.jpg", 2_000),
    )

    assert served_bytes(text) == [Served(A, "2026-11", 3_000)]


def test_requests_are_counted_in_the_month_of_their_own_date() -> None:
    # A file may hold entries delivered late, from the month before.
    text = log_text(
        Request(f"/media/alice/{A}/a.jpg", 100, date="2026-10-31"),
        Request(f"/media/alice/{A}/a.jpg", 200, date="2026-11-01"),
    )

    assert served_bytes(text) == [Served(A, "2026-10", 100), Served(A, "2026-11", 200)]


def test_the_stem_is_url_decoded() -> None:
    text = log_text(Request(f"/media/alice/{A}/a%2Djpg.jpg", 100))

    assert served_bytes(text) == [Served(A, "2026-11", 100)]


def test_paths_that_are_not_our_keys_count_nothing() -> None:
    text = log_text(
        Request("/", 700),
        Request("/favicon.ico", 700),
        Request("/media/alice/not-an-asset/a.jpg", 700),
        Request(f"/media/alice/{A}", 700),
        Request(f"/uploads/alice/{A}/a.jpg", 700),
        Request(f"/derived/alice/{A}/512.webp", 700),
    )

    assert served_bytes(text) == []


def test_the_fields_line_decides_the_columns() -> None:
    text = (
        "#Version: 1.0\n"
        "#Fields: cs-uri-stem sc-status cs-method sc-bytes date\n"
        f"/media/alice/{A}/a.jpg\t200\tGET\t4321\t2026-11-02\n"
    )

    assert served_bytes(text) == [Served(A, "2026-11", 4321)]


def test_a_file_whose_fields_lack_the_bytes_is_not_a_log() -> None:
    with pytest.raises(NotALogFile):
        served_bytes("#Version: 1.0\n#Fields: date time cs-uri-stem\n")


def test_a_file_that_is_not_gzip_after_all_is_not_a_log() -> None:
    with pytest.raises(NotALogFile):
        read_log(b"\x1f\x8bnot really gzip")


def test_a_log_without_requests_counts_nothing() -> None:
    assert served_bytes(HEADER) == []


def test_keys_name_their_asset() -> None:
    assert asset_of_key(f"media/alice/{A}/a.jpg") == A
    assert asset_of_key(f"released/alice/{A}/a.jpg") == A
    assert asset_of_key(f"derived/alice/{A}/abc/512.webp") == A
    assert asset_of_key(f"media/alice/{A}/x/a.jpg") is None
    assert asset_of_key("cdn-logs/E2EXAMPLE.2026-11-21-21.a1b2c3d4.gz") is None
