"""The media library against moto: list with filters and cursors, read, edit, delete to
the trash, restore, move and download an asset, with usage and folder counts kept in the
same writes. What is asserted is what a user gets: answers, stored items, counts, bytes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from mediaport import library
from mediaport.config import get_settings
from mediaport.services import current_services
from tests import samples
from tests.integration.conftest import Stack, count_table_calls
from tests.integration.faults import aws_fails
from tests.integration.library_helpers import (
    clone_items,
    folder_records,
    folders,
    ids,
    listed_ids,
    listing,
    page,
    pdf_of,
    pending_asset,
    read,
    ready_asset,
    really_in,
    total_usage,
    usage_rows,
)
from tests.integration.test_cleanup import derived_keys, expire_as_ttl_would
from tests.integration.test_processing import deliver, receive_all
from tests.integration.test_usage import token_for

UNKNOWN_ID = "11111111-1111-4111-8111-111111111111"
PROBLEM = "application/problem+json"


def problem_of(response: Any, status: int) -> dict[str, Any]:
    """The problem document of a refused request, checked to be one."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    problem: dict[str, Any] = response.get_json()
    assert problem["status"] == status
    return problem


def fields_of(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


def patch(stack: Stack, asset_id: str, body: Any, **headers: str) -> Any:
    return stack.call("PATCH", f"/media/{asset_id}", json=body, headers=headers)


def delete(stack: Stack, asset_id: str, user: str = "alice") -> Any:
    return stack.call("DELETE", f"/media/{asset_id}", user=user)


def move(stack: Stack, asset_id: str, folder: str | None) -> Any:
    return stack.call("POST", f"/media/{asset_id}/move", json={"folder": folder})


def restore(stack: Stack, asset_id: str, **kwargs: Any) -> Any:
    return stack.call("POST", f"/media/{asset_id}/restore", **kwargs)


def processed_image(stack: Stack, **body: Any) -> dict[str, Any]:
    """A READY photo whose three variants are rendered (the upload queue delivered)."""
    ticket = stack.start_upload(samples.jpeg_bytes(600, 400), "image/jpeg", **body)
    assert deliver(stack, receive_all(stack)) == []
    asset = read(stack, ticket["assetId"])
    assert asset["status"] == "READY"
    assert len(asset["variants"]) == 3
    return asset


# --- GET /media: a library to filter ----------------------------------------------------


def a_varied_library(stack: Stack) -> dict[str, str]:
    """Alice's assets in every state, folder, type and scope the filters tell apart (and
    one of Bob's, never listed for her), by name; created in this order."""
    made: dict[str, str] = {}
    made["report"] = ready_asset(stack, 1100, folder="trips/2026", filename="Alps Report.pdf")[
        "assetId"
    ]
    made["sunset"] = ready_asset(
        stack,
        data=samples.jpeg_bytes(),
        content_type="image/jpeg",
        folder="trips",
        filename="sunset.jpg",
    )["assetId"]
    made["avatar"] = ready_asset(
        stack,
        data=samples.png_bytes(),
        content_type="image/png",
        scope="PROFILE_AVATAR",
        filename="me.png",
    )["assetId"]
    made["notes"] = ready_asset(stack, 2200, folder="work", filename="notes.pdf")["assetId"]
    made["deep"] = ready_asset(stack, 3300, folder="trips/2026/alps", filename="deep.pdf")[
        "assetId"
    ]
    made["waiting"] = pending_asset(stack, folder="trips/2026", filename="waiting.jpg")["assetId"]
    made["binned"] = ready_asset(stack, 4400, folder="trips", filename="binned.pdf")["assetId"]
    rejected = stack.start_upload(samples.HTML_BYTES, "image/png", filename="bad.png")
    assert stack.call("PATCH", f"/media/{rejected['assetId']}/confirm").status_code == 422
    made["rejected"] = rejected["assetId"]
    ready_asset(stack, 1500, user="bob", folder="trips/2026", filename="Alps bob.pdf")

    edits = {
        "report": {"tags": ["Alps", "snow"], "caption": "Winter in the ALPS"},
        "sunset": {"tags": ["alps"], "altText": "Sunset over the Lake"},
        "notes": {"tags": [" SNOW "]},
        "binned": {"caption": "alps, binned"},
    }
    for name, body in edits.items():
        assert patch(stack, made[name], body).status_code == 200
    assert delete(stack, made["binned"]).status_code == 204
    return made


NEWEST_FIRST = ["rejected", "binned", "waiting", "deep", "notes", "avatar", "sunset", "report"]


def newest_first(*names: str) -> list[str]:
    return [name for name in NEWEST_FIRST if name in names]


EACH_FILTER_ALONE: list[tuple[dict[str, Any], list[str]]] = [
    ({}, newest_first("rejected", "waiting", "deep", "notes", "avatar", "sunset", "report")),
    ({"folder": "trips/2026"}, newest_first("waiting", "report")),
    ({"folder": "trips"}, newest_first("sunset")),
    ({"folder": "/trips/2026/"}, newest_first("waiting", "report")),
    ({"folder": "trips", "recursive": "true"}, newest_first("waiting", "deep", "sunset", "report")),
    ({"folder": "trips/2026", "recursive": "true"}, newest_first("waiting", "deep", "report")),
    ({"folder": "/"}, newest_first("rejected", "avatar")),
    ({"tag": "alps"}, newest_first("sunset", "report")),
    ({"tag": "ALPS "}, newest_first("sunset", "report")),
    ({"tag": ["alps", "snow"]}, newest_first("report")),
    ({"tag": ["snow", "work"]}, []),
    ({"tag": "snow"}, newest_first("notes", "report")),
    ({"type": "image"}, newest_first("rejected", "waiting", "avatar", "sunset")),
    ({"type": "document"}, newest_first("deep", "notes", "report")),
    ({"type": "video"}, []),
    ({"mimeType": "application/pdf"}, newest_first("deep", "notes", "report")),
    ({"mimeType": "image/jpeg"}, newest_first("sunset")),
    ({"scope": "PROFILE_AVATAR"}, newest_first("avatar")),
    (
        {"scope": "GENERIC"},
        newest_first("rejected", "waiting", "deep", "notes", "sunset", "report"),
    ),
    ({"status": "READY"}, newest_first("deep", "notes", "avatar", "sunset", "report")),
    ({"status": "PENDING"}, newest_first("waiting")),
    ({"status": "REJECTED"}, newest_first("rejected")),
    ({"status": "QUARANTINED"}, []),
    ({"q": "ALPS"}, newest_first("report")),  # filename and caption; not tags or folders
    ({"q": "lake"}, newest_first("sunset")),  # alt text
    ({"q": "winter in"}, newest_first("report")),  # caption
    ({"q": "NOTES"}, newest_first("notes")),  # filename
    ({"deleted": "true"}, newest_first("binned")),
]

COMBINED: list[tuple[dict[str, Any], list[str]]] = [
    ({"folder": "trips", "recursive": "true", "type": "image"}, newest_first("waiting", "sunset")),
    ({"folder": "trips/2026", "status": "READY"}, newest_first("report")),
    ({"folder": "trips/2026", "type": "document"}, newest_first("report")),
    ({"type": "document", "tag": "snow"}, newest_first("notes", "report")),
    ({"status": "READY", "mimeType": "image/jpeg"}, newest_first("sunset")),
    ({"type": "image", "status": "READY", "scope": "GENERIC"}, newest_first("sunset")),
    ({"folder": "trips", "recursive": "true", "tag": "alps", "q": "winter"}, ["report"]),
    ({"folder": "/", "type": "image", "status": "READY"}, newest_first("avatar")),
    ({"tag": "snow", "q": "notes", "status": "READY"}, newest_first("notes")),
    ({"deleted": "true", "folder": "trips"}, newest_first("binned")),
    ({"deleted": "true", "q": "ALPS", "type": "document"}, newest_first("binned")),
    ({"deleted": "true", "folder": "work"}, []),
    # waiting declared 10 bytes; the photo is larger than every PDF here.
    (
        {"folder": "trips", "recursive": "true", "sort": "size"},
        ["waiting", "report", "deep", "sunset"],
    ),
    ({"folder": "trips", "sort": "filename"}, ["sunset"]),
]


def mismatches(
    stack: Stack, made: dict[str, str], cases: list[tuple[dict[str, Any], list[str]]]
) -> list[str]:
    """Each case whose listing (followed to the end, 2 a page) is not the one expected."""
    names = {asset_id: name for name, asset_id in made.items()}
    wrong = []
    for query, expected in cases:
        got = [names.get(asset_id, asset_id) for asset_id in listed_ids(stack, limit=2, **query)]
        if got != expected:
            wrong.append(f"{query}: {got} != {expected}")
    return wrong


def test_each_filter_alone_lists_exactly_the_matching_assets_newest_first(stack: Stack) -> None:
    made = a_varied_library(stack)

    assert mismatches(stack, made, EACH_FILTER_ALONE) == []


def test_filters_combine_every_one_must_match(stack: Stack) -> None:
    made = a_varied_library(stack)

    assert mismatches(stack, made, COMBINED) == []


def test_a_deleted_asset_is_only_in_its_owners_trash_never_in_a_library_listing(
    stack: Stack,
) -> None:
    asset = ready_asset(stack, folder="trips", filename="gone.pdf")
    patch(stack, asset["assetId"], {"tags": ["gone"], "caption": "gone"})
    delete(stack, asset["assetId"])

    for query in [{}, {"folder": "trips"}, {"tag": "gone"}, {"q": "gone"}, {"type": "document"}]:
        for sort in ["-createdAt", "size", "filename"]:
            assert listed_ids(stack, **query, sort=sort) == [], (query, sort)
    assert listed_ids(stack, deleted="true") == [asset["assetId"]]
    assert listed_ids(stack, user="bob", deleted="true") == []


# --- GET /media: orders and pages -------------------------------------------------------

SIZES = [50, 10, 70, 30, 90, 20, 60]
FILENAMES = ["b.jpg", "Delta.jpg", "a.jpg", "c.jpg", "alpha.jpg", "E.jpg", "d.jpg"]


def assets_to_order(stack: Stack, folder: str | None = None) -> list[dict[str, Any]]:
    """Seven PENDING assets with distinct sizes and filenames, oldest first."""
    extra = {"folder": folder} if folder else {}
    return [
        pending_asset(stack, filename=name, size=size, **extra)
        for name, size in zip(FILENAMES, SIZES, strict=True)
    ]


def expected_order(made: list[dict[str, Any]], sort: str) -> list[str]:
    created = list(range(len(made)))
    keys = {
        "createdAt": lambda n: n,
        "-createdAt": lambda n: -n,
        "size": lambda n: SIZES[n],
        "-size": lambda n: -SIZES[n],
        "filename": lambda n: FILENAMES[n].casefold(),
    }
    return [made[n]["assetId"] for n in sorted(created, key=keys[sort])]


def pages_of(stack: Stack, **query: Any) -> list[list[str]]:
    """The asset ids of each page of a listing, following nextCursor to the end."""
    pages: list[list[str]] = []
    cursor = None
    while len(pages) < 100:
        body = page(stack, **query, **({"cursor": cursor} if cursor else {}))
        pages.append(ids(body["items"]))
        cursor = body["nextCursor"]
        if cursor is None:
            break
    return pages


def test_each_order_is_exact_and_its_pages_are_full_and_give_every_asset_once(
    stack: Stack,
) -> None:
    made = assets_to_order(stack)
    pending_asset(stack, user="bob")

    for sort in ["-createdAt", "createdAt", "size", "-size", "filename"]:
        pages = pages_of(stack, sort=sort, limit=3)

        assert [len(p) for p in pages] == [3, 3, 1], sort
        assert [asset_id for p in pages for asset_id in p] == expected_order(made, sort), sort
        assert ids(page(stack, sort=sort, limit=100)["items"]) == expected_order(made, sort)


def test_sizes_listed_ascending_and_descending_are_the_real_sizes(stack: Stack) -> None:
    for size in (3000, 1000, 2000):
        ready_asset(stack, size)

    assert [item["size"] for item in page(stack, sort="size")["items"]] == [1000, 2000, 3000]
    assert [item["size"] for item in page(stack, sort="-size")["items"]] == [3000, 2000, 1000]


def test_a_folder_listing_pages_through_every_asset_of_the_folder_once(stack: Stack) -> None:
    made = assets_to_order(stack, folder="album")
    pending_asset(stack, folder="album/inner")
    pending_asset(stack, folder="other")

    pages = pages_of(stack, folder="album", limit=3)

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [asset_id for p in pages for asset_id in p] == expected_order(made, "-createdAt")


def test_a_cursor_still_goes_on_after_the_asset_its_page_ended_at_moved_away(
    stack: Stack,
) -> None:
    made = expected_order(assets_to_order(stack, folder="album"), "-createdAt")
    first = page(stack, folder="album", limit=3)
    assert ids(first["items"]) == made[:3]

    # The asset the page ended at leaves the folder before the next page is asked for.
    assert move(stack, made[2], "elsewhere").status_code == 200
    second = page(stack, folder="album", limit=3, cursor=first["nextCursor"])
    third = page(stack, folder="album", limit=3, cursor=second["nextCursor"])

    assert ids(second["items"]) + ids(third["items"]) == made[3:]
    assert third["nextCursor"] is None


def test_a_page_size_of_one_walks_a_recursive_filtered_listing_without_duplicates(
    stack: Stack,
) -> None:
    inside = assets_to_order(stack, folder="album/2026")
    outside = assets_to_order(stack, folder="albums")  # a prefix, not a subfolder

    listed = listed_ids(stack, folder="album", recursive="true", limit=1, sort="size")

    assert listed == expected_order(inside, "size")
    assert not set(listed) & set(ids(outside))


OTHER_LISTINGS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"sort": "size"}, {"sort": "filename"}),
    ({"sort": "-createdAt"}, {"sort": "createdAt"}),
    ({"folder": "album"}, {"folder": "other"}),
    ({}, {"folder": "album"}),
    ({"tag": "a"}, {"tag": "b"}),
    ({"q": "jpg"}, {"q": "JPG2"}),
    ({}, {"deleted": "true"}),
    ({"folder": "album"}, {"folder": "album", "recursive": "true"}),
    ({"type": "image"}, {"type": "image", "status": "PENDING"}),
]


def test_a_cursor_from_one_listing_is_refused_by_another(stack: Stack) -> None:
    for asset in assets_to_order(stack, folder="album"):
        patch(stack, asset["assetId"], {"tags": ["a", "b"]})

    for first, second in OTHER_LISTINGS:
        cursor = page(stack, limit=1, **first)["nextCursor"]
        assert cursor is not None, first

        refused = stack.call("GET", "/media", query_string={**second, "limit": 1, "cursor": cursor})

        assert fields_of(problem_of(refused, 400)) == ["cursor"], (first, second)
        # The same listing with another page size goes on from it.
        query = {**first, "limit": 5, "cursor": cursor}
        assert stack.call("GET", "/media", query_string=query).status_code == 200


UNANSWERABLE: list[tuple[dict[str, str], str]] = [
    ({"deleted": "true", "status": "READY"}, "status"),
    ({"status": "DELETED"}, "status"),
    ({"folder": "../etc"}, "folder"),
    ({"folder": "trips//2026"}, "folder"),
    ({"folder": "/".join("a" * 9)}, "folder"),
    ({"folder": "x" * 256}, "folder"),
    ({"folder": "trips/<script>"}, "folder"),
    ({"tag": "x" * 51}, "tag"),
    ({"tag": " "}, "tag"),
    ({"type": "spreadsheet"}, "type"),
    ({"sort": "-filename"}, "sort"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
]


def test_a_listing_that_cannot_be_answered_is_a_400_naming_the_parameter(stack: Stack) -> None:
    pending_asset(stack, folder="trips")

    for query, field in UNANSWERABLE:
        response = stack.call("GET", "/media", query_string=query)

        assert fields_of(problem_of(response, 400)) == [field], query


def test_a_search_over_thousands_of_assets_is_bounded_and_its_cursors_find_the_match(
    stack: Stack,
) -> None:
    # Given the one match is Alice's oldest asset, behind 2,000 newer ones that do not
    # match (twice what one request evaluates), 1,200 of them in one folder
    needle = pending_asset(stack, filename="the needle.jpg")
    clone_items(stack, pending_asset(stack, filename="filler.jpg", folder="album")["assetId"], 1200)
    clone_items(stack, pending_asset(stack, filename="other.jpg")["assetId"], 800)

    # When she searches, each request reads a bounded part of the library...
    pages: list[list[str]] = []
    cursor: str | None = None
    while len(pages) < 10:
        queries = count_table_calls(stack, "Query")
        body = page(stack, q="NEEDLE", limit=20, **({"cursor": cursor} if cursor else {}))
        assert queries() <= 5
        pages.append(ids(body["items"]))
        cursor = body["nextCursor"]
        if cursor is None:
            break

    # ...the first page comes back empty with a cursor, and following it finds the match once.
    assert pages[0] == []
    assert [asset_id for p in pages for asset_id in p] == [needle["assetId"]]
    assert len(pages) == 3  # 1,000 assets evaluated by each request

    # A folder's page is one Query, whatever else she has.
    queries = count_table_calls(stack, "Query")
    body = page(stack, folder="album", limit=5)
    assert len(body["items"]) == 5
    assert body["nextCursor"] is not None
    assert queries() == 1


# --- GET /media/{id} ----------------------------------------------------------------------


def test_reading_an_asset_answers_its_version_as_etag_and_its_library_fields(
    stack: Stack,
) -> None:
    asset = ready_asset(stack, 1234, folder="trips/2026", filename="Plan.pdf")
    patch(stack, asset["assetId"], {"tags": ["alps"], "altText": "a plan", "caption": "Day 1"})

    response = stack.call("GET", f"/media/{asset['assetId']}")

    assert response.status_code == 200
    body = response.get_json()
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert (body["folder"], body["tags"], body["altText"], body["caption"]) == (
        "trips/2026",
        ["alps"],
        "a plan",
        "Day 1",
    )
    assert (body["usageCount"], body["lastUsedAt"], body["deletedAt"], body["purgeAt"]) == (
        0,
        None,
        None,
        None,
    )
    assert body["size"] == 1234


def test_an_asset_in_the_trash_is_read_as_deleted_with_when_it_is_purged(stack: Stack) -> None:
    asset = ready_asset(stack)
    delete(stack, asset["assetId"])

    body = read(stack, asset["assetId"])

    assert body["status"] == "DELETED"
    deleted_at = datetime.fromisoformat(body["deletedAt"])
    purge_at = datetime.fromisoformat(body["purgeAt"])
    assert abs(purge_at - deleted_at - timedelta(days=30)) < timedelta(seconds=2)


# --- PATCH /media/{id} --------------------------------------------------------------------


def test_a_patch_merges_fields_left_out_stay_and_null_clears(stack: Stack) -> None:
    asset = ready_asset(stack)
    first = patch(stack, asset["assetId"], {"altText": "alt", "caption": "cap", "tags": ["a", "b"]})
    assert first.status_code == 200

    cleared = patch(stack, asset["assetId"], {"caption": None})
    untouched = patch(stack, asset["assetId"], {})

    assert cleared.status_code == 200
    body = cleared.get_json()
    assert (body["altText"], body["caption"], body["tags"]) == ("alt", None, ["a", "b"])
    assert untouched.get_json()["version"] == body["version"]
    assert "caption" not in stack.asset_item(asset["assetId"])
    tags_cleared = patch(stack, asset["assetId"], {"tags": None, "altText": None}).get_json()
    assert (tags_cleared["tags"], tags_cleared["altText"]) == ([], None)
    assert tags_cleared["caption"] is None


def test_tags_are_trimmed_lower_cased_and_de_duplicated(stack: Stack) -> None:
    asset = ready_asset(stack)

    body = patch(stack, asset["assetId"], {"tags": ["  Alps ", "alps", "SNOW", "snow ", "Ski"]})

    assert body.get_json()["tags"] == ["alps", "snow", "ski"]
    assert stack.asset_item(asset["assetId"])["tags"] == ["alps", "snow", "ski"]


REFUSED_PATCHES: list[tuple[dict[str, Any], str]] = [
    ({"altText": "a" * 501}, "altText"),
    ({"caption": "c" * 5001}, "caption"),
    ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
    ({"tags": ["x" * 51]}, "tags"),
    ({"tags": [" "]}, "tags"),
    ({"tags": "alps"}, "tags"),
    ({"folder": "a/../b"}, "folder"),
    ({"folder": "/".join("a" * 9)}, "folder"),
    ({"status": "READY"}, "status"),
    ({"size": 1}, "size"),
    ({"usageCount": 3}, "usageCount"),
]


def test_a_patch_beyond_the_limits_or_naming_another_field_is_a_400(stack: Stack) -> None:
    asset = ready_asset(stack)

    for body, field in REFUSED_PATCHES:
        response = patch(stack, asset["assetId"], body)

        assert fields_of(problem_of(response, 400)) == [field], body
    assert read(stack, asset["assetId"])["version"] == asset["version"]


def test_a_patch_at_the_limits_is_taken(stack: Stack) -> None:
    asset = ready_asset(stack)
    body = {
        "altText": "a" * 500,
        "caption": "c" * 5000,
        # 25 given, 20 once de-duplicated; each at most 50 characters once trimmed.
        "tags": [f" {n:02d}{'x' * 48} " for n in range(20)] + ["00" + "X" * 48] * 5,
    }

    response = patch(stack, asset["assetId"], body)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["tags"]) == 20


def test_a_patch_is_taken_as_json_or_merge_patch_json(stack: Stack) -> None:
    asset = ready_asset(stack)

    for content_type in ["application/json", "application/merge-patch+json"]:
        response = stack.call(
            "PATCH",
            f"/media/{asset['assetId']}",
            data=json.dumps({"caption": content_type}),
            headers={"Content-Type": content_type},
        )

        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["caption"] == content_type


def test_if_match_with_the_current_etag_edits_and_answers_the_new_one(stack: Stack) -> None:
    asset = ready_asset(stack)
    etag = stack.call("GET", f"/media/{asset['assetId']}").headers["ETag"]

    response = patch(stack, asset["assetId"], {"caption": "mine"}, **{"If-Match": etag})

    assert response.status_code == 200, response.get_data(as_text=True)
    new_etag = response.headers["ETag"]
    assert new_etag != etag
    assert new_etag == f'"{response.get_json()["version"]}"'
    assert stack.call("GET", f"/media/{asset['assetId']}").headers["ETag"] == new_etag


def test_if_match_with_a_stale_etag_is_a_412_and_changes_nothing(stack: Stack) -> None:
    asset = ready_asset(stack)
    old = stack.call("GET", f"/media/{asset['assetId']}").headers["ETag"]
    patch(stack, asset["assetId"], {"caption": "theirs"})

    for stale in [old, f"W/{old}", '"999"', '"abc"', "3 4"]:
        response = patch(stack, asset["assetId"], {"caption": "mine"}, **{"If-Match": stale})

        assert problem_of(response, 412)["type"] == "urn:mediaport:problem:asset-changed"
    assert read(stack, asset["assetId"])["caption"] == "theirs"


def test_changing_the_folder_of_a_ready_asset_moves_its_counts(stack: Stack) -> None:
    asset = ready_asset(stack, 1100, folder="trips/2026")
    ready_asset(stack, 500, folder="trips/2026")

    response = patch(stack, asset["assetId"], {"folder": "work/2025"})

    assert response.status_code == 200
    assert response.get_json()["folder"] == "work/2025"
    assert folders(stack) == {
        "trips": (0, 0),
        "trips/2026": (1, 500),
        "work": (0, 0),
        "work/2025": (1, 1100),
    }
    rows = usage_rows(stack)
    assert (rows["folder#trips"], rows["folder#work"], rows["total"]) == (
        (500, 1),
        (1100, 1),
        (1600, 2),
    )
    # An edit that leaves the folder as it is leaves the counts alone.
    before = (folder_records(stack), usage_rows(stack))
    assert (
        patch(stack, asset["assetId"], {"caption": "x", "folder": "/work/2025/"}).status_code == 200
    )
    assert (folder_records(stack), usage_rows(stack)) == before


# --- DELETE /media/{id} -------------------------------------------------------------------


def test_deleting_puts_the_asset_in_the_trash_and_takes_it_out_of_usage_and_its_folder(
    stack: Stack,
) -> None:
    kept = ready_asset(stack, 700, folder="trips")
    asset = ready_asset(stack, 1100, folder="trips")

    response = delete(stack, asset["assetId"])

    assert response.status_code == 204
    assert response.get_data() == b""
    item = stack.asset_item(asset["assetId"])
    assert item["status"] == "DELETED"
    assert item["deletedAt"]
    assert listed_ids(stack) == [kept["assetId"]]
    assert listed_ids(stack, deleted="true") == [asset["assetId"]]
    assert total_usage(stack) == (700, 1)
    assert usage_rows(stack)["folder#trips"] == (700, 1)
    assert usage_rows(stack)["type#document"] == (700, 1)
    assert folders(stack) == {"trips": (1, 700)}
    # The bytes stay while it is restorable.
    assert stack.object_exists(item["key"])


def test_a_deleted_asset_is_no_longer_served(stack: Stack) -> None:
    asset = processed_image(stack)
    assert asset["url"]

    delete(stack, asset["assetId"])

    body = read(stack, asset["assetId"])
    assert (body["url"], body["variants"], body["publicUrl"]) == (None, {}, None)
    trashed = page(stack, deleted="true")["items"][0]
    assert (trashed["url"], trashed["variants"]) == (None, {})
    download = stack.call("GET", f"/media/{asset['assetId']}/download")
    assert problem_of(download, 404)["type"] == "urn:mediaport:problem:asset-not-found"
    assert "Location" not in download.headers


def test_deleting_twice_is_204_and_counts_once(stack: Stack) -> None:
    ready_asset(stack, 700)
    asset = ready_asset(stack, 1100)

    assert delete(stack, asset["assetId"]).status_code == 204
    assert delete(stack, asset["assetId"]).status_code == 204

    assert total_usage(stack) == (700, 1)


def test_deleting_a_pending_asset_is_a_409(stack: Stack) -> None:
    ticket = pending_asset(stack)

    problem = problem_of(delete(stack, ticket["assetId"]), 409)

    assert problem["type"] == "urn:mediaport:problem:asset-not-ready"
    assert stack.asset_item(ticket["assetId"])["status"] == "PENDING"


# --- POST /media/{id}/restore ---------------------------------------------------------------


def test_restoring_brings_the_asset_back_with_its_counts(stack: Stack) -> None:
    asset = ready_asset(stack, 1100, folder="trips/2026")
    delete(stack, asset["assetId"])

    response = restore(stack, asset["assetId"])

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["deletedAt"], body["purgeAt"]) == ("READY", None, None)
    assert body["url"]
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert total_usage(stack) == (1100, 1)
    assert usage_rows(stack)["folder#trips"] == (1100, 1)
    assert folders(stack)["trips/2026"] == (1, 1100)
    assert listed_ids(stack) == [asset["assetId"]]
    assert listed_ids(stack, deleted="true") == []
    assert "expiresAt" not in stack.asset_item(asset["assetId"])
    # Restoring again changes nothing.
    assert restore(stack, asset["assetId"]).status_code == 200
    assert total_usage(stack) == (1100, 1)


def test_restoring_an_asset_not_in_the_trash_is_a_409(stack: Stack) -> None:
    ticket = pending_asset(stack)

    assert problem_of(restore(stack, ticket["assetId"]), 409)["type"].endswith("asset-not-deleted")


def test_an_asset_whose_trash_time_is_up_cannot_be_restored_even_before_the_purge(
    stack: Stack,
) -> None:
    asset = ready_asset(stack, 1100)
    delete(stack, asset["assetId"])
    stack.dynamodb.Table(stack.table).update_item(
        Key={"assetId": asset["assetId"]},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": int(datetime.now().timestamp()) - 60},
    )

    problem = problem_of(restore(stack, asset["assetId"]), 409)

    assert problem["type"] == "urn:mediaport:problem:asset-purged"
    assert total_usage(stack) == (0, 0)


def test_a_purged_asset_takes_its_files_with_it_and_restore_says_it_was_purged(
    stack: Stack,
) -> None:
    kept = ready_asset(stack, 1100, folder="trips")
    asset = processed_image(stack, folder="trips")
    variants = derived_keys(stack, asset["assetId"])
    key = stack.asset_item(asset["assetId"])["key"]
    assert len(variants) == 3
    delete(stack, asset["assetId"])

    expire_as_ttl_would(stack, days_from_now=31)

    assert not stack.object_exists(key)
    assert derived_keys(stack, asset["assetId"]) == []
    problem = problem_of(restore(stack, asset["assetId"]), 409)
    assert problem["type"] == "urn:mediaport:problem:asset-purged"
    assert problem_of(stack.call("GET", f"/media/{asset['assetId']}"), 404)
    assert listed_ids(stack) == [kept["assetId"]]
    assert listed_ids(stack, deleted="true") == []
    assert listed_ids(stack, folder="trips") == [kept["assetId"]]
    # A READY asset is never purged.
    assert stack.object_exists(stack.asset_item(kept["assetId"])["key"])
    assert total_usage(stack) == (1100, 1)
    assert folders(stack) == {"trips": (1, 1100)}


@pytest.fixture
def tiny_tier(monkeypatch: pytest.MonkeyPatch, stack: Stack) -> Stack:
    """The stack with a tier "tiny": 10,000 bytes, 3 files."""
    tiers = {
        "free": {"storageBytes": 1024**3, "maxFiles": 10_000},
        "tiny": {"storageBytes": 10_000, "maxFiles": 3},
    }
    monkeypatch.setenv("MEDIAPORT_TIERS", json.dumps(tiers))
    get_settings.cache_clear()
    return stack


def tiny_ready(stack: Stack, size: int) -> str:
    ticket = stack.call(
        "POST",
        "/media/presign",
        user=None,
        headers=token_for("alice", "tiny"),
        json={"filename": "a.pdf", "contentType": "application/pdf", "size": size},
    ).get_json()
    stack.upload(ticket, pdf_of(size))
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204
    return str(ticket["assetId"])


def test_restoring_when_the_tier_has_no_room_is_a_403_and_leaves_it_in_the_trash(
    tiny_tier: Stack,
) -> None:
    stack = tiny_tier
    first = tiny_ready(stack, 6000)
    delete(stack, first)
    tiny_ready(stack, 6000)

    response = restore(stack, first, user=None, headers=token_for("alice", "tiny"))

    problem = problem_of(response, 403)
    assert problem["type"] == "urn:mediaport:problem:quota-exceeded"
    assert (problem["limitBytes"], problem["usedBytes"], problem["remainingBytes"]) == (
        10_000,
        6000,
        4000,
    )
    assert read(stack, first)["status"] == "DELETED"
    assert total_usage(stack) == (6000, 1)


# --- POST /media/{id}/move ------------------------------------------------------------------


def test_moving_an_asset_moves_its_counts(stack: Stack) -> None:
    asset = ready_asset(stack, 1100, folder="trips")

    response = move(stack, asset["assetId"], "work")

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["folder"] == "work"
    assert response.headers["ETag"] == f'"{response.get_json()["version"]}"'
    assert folders(stack) == {"trips": (0, 0), "work": (1, 1100)}
    rows = usage_rows(stack)
    assert (rows["folder#trips"], rows["folder#work"]) == ((0, 0), (1100, 1))
    assert listed_ids(stack, folder="work") == [asset["assetId"]]
    assert listed_ids(stack, folder="trips") == []


def test_moving_into_a_missing_nested_folder_creates_it_and_those_above(stack: Stack) -> None:
    asset = ready_asset(stack, 1100)

    response = move(stack, asset["assetId"], "trips/2026/alps")

    assert response.status_code == 200
    assert folders(stack) == {"trips": (0, 0), "trips/2026": (0, 0), "trips/2026/alps": (1, 1100)}


def test_moving_a_pending_asset_creates_the_folder_but_counts_nothing(stack: Stack) -> None:
    ticket = pending_asset(stack)

    assert move(stack, ticket["assetId"], "later/on").status_code == 200

    assert folders(stack) == {"later": (0, 0), "later/on": (0, 0)}
    assert listed_ids(stack, folder="later/on") == [ticket["assetId"]]


def test_moving_to_null_takes_the_asset_out_of_every_folder(stack: Stack) -> None:
    asset = ready_asset(stack, 1100, folder="trips/2026")

    response = move(stack, asset["assetId"], None)

    assert response.status_code == 200
    assert response.get_json()["folder"] is None
    assert folders(stack) == {"trips": (0, 0), "trips/2026": (0, 0)}
    assert usage_rows(stack)["folder#trips"] == (0, 0)
    assert usage_rows(stack)["folder#"] == (1100, 1)
    assert listed_ids(stack, folder="/") == [asset["assetId"]]


def test_moving_to_an_empty_folder_name_takes_it_out_too(stack: Stack) -> None:
    # The contract: `null` or "" = no folder.
    asset = ready_asset(stack, 1100, folder="trips")

    response = move(stack, asset["assetId"], "")

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["folder"] is None
    assert folders(stack) == {"trips": (0, 0)}


def test_a_move_to_a_bad_folder_is_a_400(stack: Stack) -> None:
    asset = ready_asset(stack, 1100, folder="trips")

    for body in [{"folder": "a/../b"}, {"folder": "/".join("a" * 9)}, {"folder": 7}, {}]:
        response = stack.call("POST", f"/media/{asset['assetId']}/move", json=body)

        assert fields_of(problem_of(response, 400)) == ["folder"], body
    assert folders(stack) == {"trips": (1, 1100)}


def test_moving_a_deleted_asset_keeps_it_in_the_trash_and_counts_nothing(stack: Stack) -> None:
    asset = ready_asset(stack, 1100, folder="trips")
    delete(stack, asset["assetId"])

    response = move(stack, asset["assetId"], "work")

    assert response.status_code == 200
    assert response.get_json()["status"] == "DELETED"
    assert folders(stack) == {"trips": (0, 0), "work": (0, 0)}
    assert listed_ids(stack, deleted="true", folder="work") == [asset["assetId"]]
    # Restored, it counts where it is now.
    assert restore(stack, asset["assetId"]).status_code == 200
    assert folders(stack) == {"trips": (0, 0), "work": (1, 1100)}
    assert usage_rows(stack)["folder#work"] == (1100, 1)


# --- GET /media/{id}/download -----------------------------------------------------------------


def test_download_redirects_to_a_url_that_downloads_the_bytes_as_an_attachment(
    stack: Stack,
) -> None:
    data = pdf_of(1500)
    asset = ready_asset(stack, data=data, filename="report.pdf")

    response = stack.call("GET", f"/media/{asset['assetId']}/download")

    assert response.status_code == 302
    fetched = requests.get(response.headers["Location"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == data
    disposition = fetched.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert 'filename="report.pdf"' in disposition


def test_download_as_json_answers_the_url_filename_and_expiry(stack: Stack) -> None:
    asset = ready_asset(stack, 1500, filename="report.pdf")
    before = datetime.now().astimezone()

    response = stack.call(
        "GET", f"/media/{asset['assetId']}/download", headers={"Accept": "application/json"}
    )

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"url", "filename", "expiresAt"}
    assert body["filename"] == "report.pdf"
    expires = datetime.fromisoformat(body["expiresAt"])
    assert before + timedelta(minutes=59) < expires <= before + timedelta(minutes=61)
    assert requests.get(body["url"], timeout=10).content == pdf_of(1500)


def test_a_non_ascii_filename_is_downloaded_under_its_exact_name(stack: Stack) -> None:
    original = "Été à Zürich.jpg"
    photo = samples.jpeg_bytes()
    asset = ready_asset(stack, data=photo, content_type="image/jpeg", filename=original)

    location = stack.call("GET", f"/media/{asset['assetId']}/download").headers["Location"]

    query = parse_qs(urlsplit(location).query)
    asked = query["response-content-disposition"][0]
    assert f"filename*=UTF-8''{quote(original, safe='')}" in asked
    fetched = requests.get(location, timeout=10)
    assert fetched.content == photo
    disposition = fetched.headers["Content-Disposition"].encode("latin-1").decode()
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(original, safe='')}" in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii()
    assert fallback.endswith(".jpg")
    assert fetched.headers["Content-Type"] == "image/jpeg"


def test_downloading_a_pending_a_strangers_or_an_unknown_asset_is_refused(stack: Stack) -> None:
    asset = ready_asset(stack)
    ticket = pending_asset(stack)

    assert problem_of(stack.call("GET", f"/media/{ticket['assetId']}/download"), 409)
    assert problem_of(stack.call("GET", f"/media/{asset['assetId']}/download", user="mallory"), 403)
    assert problem_of(stack.call("GET", f"/media/{UNKNOWN_ID}/download"), 404)


# --- Concurrency ------------------------------------------------------------------------------


def test_concurrent_moves_between_two_folders_keep_both_folders_counts_exact(
    stack: Stack,
) -> None:
    assets = [ready_asset(stack, 1000 + n, folder="left") for n in range(6)]
    # Ten moves at once; four assets are moved twice, to different folders.
    moves = [(assets[n % 6]["assetId"], ("right", "left")[n // 6]) for n in range(10)]
    moves[6] = (assets[0]["assetId"], "right")  # and one is moved to right twice

    def moved(asset_id_and_folder: tuple[str, str]) -> int:
        asset_id, folder = asset_id_and_folder
        return int(move(stack, asset_id, folder).status_code)

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(moved, moves))

    assert set(statuses) <= {200, 409}, statuses
    stored = folders(stack)
    assert stored["left"] == really_in(stack, "left")
    assert stored["right"] == really_in(stack, "right")
    assert stored["left"][0] + stored["right"][0] == 6
    rows = usage_rows(stack)
    assert rows["folder#left"] == (stored["left"][1], stored["left"][0])
    assert rows["folder#right"] == (stored["right"][1], stored["right"][0])
    assert total_usage(stack) == (sum(1000 + n for n in range(6)), 6)


def test_a_patch_racing_a_delete_ends_in_one_consistent_state(stack: Stack) -> None:
    for _round in range(4):
        a_patch_races_a_delete(stack)


def a_patch_races_a_delete(stack: Stack) -> None:
    asset = ready_asset(stack, 1100, folder="left")
    start = threading.Barrier(2)

    def patched() -> Any:
        start.wait()
        return patch(stack, asset["assetId"], {"caption": "edited", "folder": "right"})

    def deleted() -> Any:
        start.wait()
        return delete(stack, asset["assetId"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        editing, deleting = pool.submit(patched), pool.submit(deleted)
        edit, removal = editing.result(timeout=60), deleting.result(timeout=60)

    assert edit.status_code in (200, 409), edit.get_data(as_text=True)
    assert removal.status_code in (204, 409), removal.get_data(as_text=True)
    # Whichever comes first wins: both losing would leave the asset as if nobody asked.
    assert (edit.status_code, removal.status_code) != (409, 409), "neither won the race"
    final = read(stack, asset["assetId"])
    assert final["status"] == ("DELETED" if removal.status_code == 204 else "READY")
    if edit.status_code == 200:
        assert (final["caption"], final["folder"]) == ("edited", "right")
    else:
        assert (final["caption"], final["folder"]) == (None, "left")
    # Counts are what is really there: nothing in the trash counts.
    stored = folders(stack)
    for folder in ("left", "right"):
        assert stored.get(folder, (0, 0)) == really_in(stack, folder), folder
        assert usage_rows(stack).get(f"folder#{folder}", (0, 0)) == (
            stored.get(folder, (0, 0))[1],
            stored.get(folder, (0, 0))[0],
        )
    ready = listing(stack, status="READY")
    assert total_usage(stack) == (sum(item["size"] for item in ready), len(ready))


def just_before_the_next_transaction(action: Callable[[], object]) -> Any:
    """Run ``action`` (another request's change) once, just before the asset table's next
    transaction is sent: the race decided, not left to thread timing."""
    client = current_services().assets.record._get_connection().connection.client
    fired: list[bool] = []

    def first_time(_request: dict[str, Any]) -> None:
        if not fired:
            fired.append(True)
            action()

    return aws_fails(client, "TransactWriteItems", when=lambda _: False, before=first_time)


def test_a_move_overtaken_by_a_delete_is_applied_to_the_trashed_asset_counting_nothing(
    stack: Stack,
) -> None:
    asset = ready_asset(stack, 1100, folder="left")
    deleting = partial(library.delete_asset, current_services(), "alice", asset["assetId"])

    with just_before_the_next_transaction(partial(deleting, detach=False)):
        response = move(stack, asset["assetId"], "right")

    assert response.status_code == 200, response.get_data(as_text=True)
    final = read(stack, asset["assetId"])
    assert (final["status"], final["folder"]) == ("DELETED", "right")
    assert folders(stack) == {"left": (0, 0), "right": (0, 0)}
    assert total_usage(stack) == (0, 0)
    assert usage_rows(stack)["folder#left"] == (0, 0)
    assert usage_rows(stack).get("folder#right", (0, 0)) == (0, 0)


def test_a_delete_overtaken_by_a_move_takes_the_asset_out_of_its_new_folder(
    stack: Stack,
) -> None:
    asset = ready_asset(stack, 1100, folder="left")
    moving = partial(library.move_asset, current_services(), "alice", asset["assetId"], "right")

    with just_before_the_next_transaction(moving):
        assert delete(stack, asset["assetId"]).status_code == 204

    final = read(stack, asset["assetId"])
    assert (final["status"], final["folder"]) == ("DELETED", "right")
    assert folders(stack) == {"left": (0, 0), "right": (0, 0)}
    assert usage_rows(stack)["folder#left"] == (0, 0)
    assert usage_rows(stack)["folder#right"] == (0, 0)
    assert total_usage(stack) == (0, 0)


def test_a_delete_whose_write_fails_changes_neither_the_asset_nor_its_counts(
    stack: Stack,
) -> None:
    asset = ready_asset(stack, 1100, folder="trips")
    client = current_services().assets.record._get_connection().connection.client

    with aws_fails(client, "TransactWriteItems", code="InternalServerError") as hit:
        response = delete(stack, asset["assetId"])

    assert hit
    assert problem_of(response, 503)
    assert read(stack, asset["assetId"])["status"] == "READY"
    assert total_usage(stack) == (1100, 1)
    assert folders(stack) == {"trips": (1, 1100)}
    # The retry deletes it, counted once.
    assert delete(stack, asset["assetId"]).status_code == 204
    assert total_usage(stack) == (0, 0)
    assert folders(stack) == {"trips": (0, 0)}
