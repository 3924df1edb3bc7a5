"""A user's folders against moto: listed with the counts of the READY assets directly in
each, created with the folders above them, deleted when empty, or emptied into another
folder first (``?moveTo=``) with every count exact afterwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mediaport.services import current_services
from tests.integration.conftest import Stack
from tests.integration.faults import aws_fails
from tests.integration.library_helpers import (
    folders,
    listed_ids,
    pending_asset,
    read,
    ready_asset,
    really_in,
    usage_rows,
)

PROBLEM = "application/problem+json"


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    problem: dict[str, Any] = response.get_json()
    return problem


def create(stack: Stack, path: Any, user: str = "alice") -> Any:
    return stack.call("POST", "/media/folders", user=user, json={"path": path})


def delete(stack: Stack, encoded_path: str, user: str = "alice", **query: str) -> Any:
    return stack.call("DELETE", f"/media/folders/{encoded_path}", user=user, query_string=query)


def counts_match_what_is_there(stack: Stack) -> None:
    """Every folder's assetCount and bytes are those of the READY assets listed in it,
    and each top-level folder's usage row adds up its tree."""
    stored = folders(stack)
    for path, counts in stored.items():
        assert counts == really_in(stack, path), path
    rows = usage_rows(stack)
    for top in {path.split("/")[0] for path in stored}:
        tree = [counts for path, counts in stored.items() if path.split("/")[0] == top]
        expected = (sum(b for _, b in tree), sum(n for n, _ in tree))
        assert rows.get(f"folder#{top}", (0, 0)) == expected, top


# --- GET /media/folders ---------------------------------------------------------------------


def test_folders_are_listed_by_path_with_the_ready_assets_directly_in_each(stack: Stack) -> None:
    assert stack.call("GET", "/media/folders").get_json() == {"items": []}
    ready_asset(stack, 1100, folder="trips/2026")
    ready_asset(stack, 900, folder="trips/2026")
    ready_asset(stack, 500, folder="trips")
    ready_asset(stack, 700, folder="Work")
    ready_asset(stack, 300, folder="a b/c")
    ready_asset(stack, 400, user="bob", folder="bobs")

    response = stack.call("GET", "/media/folders")

    items = response.get_json()["items"]
    assert [item["path"] for item in items] == ["Work", "a b", "a b/c", "trips", "trips/2026"]
    assert all(datetime.fromisoformat(item["createdAt"]) for item in items)
    assert folders(stack) == {
        "Work": (1, 700),
        "a b": (0, 0),
        "a b/c": (1, 300),
        "trips": (1, 500),
        "trips/2026": (2, 2000),
    }
    assert folders(stack, user="bob") == {"bobs": (1, 400)}
    counts_match_what_is_there(stack)


# --- POST /media/folders --------------------------------------------------------------------


def test_creating_a_folder_creates_those_above_it(stack: Stack) -> None:
    response = create(stack, "/trips/2026/alps/")

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["path"], body["assetCount"], body["bytes"]) == ("trips/2026/alps", 0, 0)
    assert folders(stack) == {"trips": (0, 0), "trips/2026": (0, 0), "trips/2026/alps": (0, 0)}
    assert create(stack, "trips/2027").status_code == 201
    assert list(folders(stack)) == ["trips", "trips/2026", "trips/2026/alps", "trips/2027"]


def test_creating_a_folder_that_exists_is_a_409_and_changes_nothing(stack: Stack) -> None:
    ready_asset(stack, 1100, folder="trips/2026")

    for path in ["trips/2026", "trips", "/trips/"]:
        problem = problem_of(create(stack, path), 409)
        assert problem["type"] == "urn:mediaport:problem:folder-exists", path

    assert folders(stack) == {"trips": (0, 0), "trips/2026": (1, 1100)}
    # A folder below one that holds assets leaves its counts alone.
    assert create(stack, "trips/2026/alps").status_code == 201
    assert folders(stack)["trips/2026"] == (1, 1100)


def test_a_folder_path_at_the_limits_is_taken(stack: Stack) -> None:
    eight_deep = "/".join(f"level{n}" for n in range(8))
    longest = "/".join(["x" * 63] * 4)  # 4 * 63 + 3 = 255 characters

    assert create(stack, eight_deep).status_code == 201
    assert create(stack, longest).status_code == 201
    assert create(stack, "a-b_c.d e/v1.2").status_code == 201


def test_a_bad_folder_path_is_a_400_naming_path(stack: Stack) -> None:
    bad = [
        "/".join(f"l{n}" for n in range(9)),  # 9 levels
        "/".join(["x" * 63] * 4) + "x",  # 256 characters
        "x" * 65,  # one name of 65
        "trips/../etc",
        "..",
        ".",
        "trips//2026",
        "",
        "/",
        " ",
        "trips/ 2026",
        "trips/<b>",
        "trips\\2026",
        7,
        None,
    ]
    for path in bad:
        problem = problem_of(create(stack, path), 400)

        assert [error["field"] for error in problem["errors"]] == ["path"], path
    assert folders(stack) == {}


# --- DELETE /media/folders/{folderName} --------------------------------------------------------


def test_deleting_an_empty_folder_by_its_encoded_path_is_204(stack: Stack) -> None:
    create(stack, "trips/2026")
    create(stack, "my trips")

    assert delete(stack, "trips%2F2026").status_code == 204
    assert delete(stack, "my%20trips").status_code == 204

    assert folders(stack) == {"trips": (0, 0)}
    assert delete(stack, "trips").status_code == 204
    assert folders(stack) == {}


def test_deleting_a_folder_holding_assets_is_a_409_saying_what_it_holds(stack: Stack) -> None:
    one = ready_asset(stack, 1100, folder="trips")
    ready_asset(stack, 900, folder="trips")

    problem = problem_of(delete(stack, "trips"), 409)

    assert problem["type"] == "urn:mediaport:problem:folder-not-empty"
    assert (problem["assetCount"], problem["subfolders"]) == (2, 0)
    assert folders(stack) == {"trips": (2, 2000)}
    assert read(stack, one["assetId"])["folder"] == "trips"


def test_deleting_a_folder_holding_only_a_subfolder_is_a_409(stack: Stack) -> None:
    create(stack, "trips/2026/alps")

    problem = problem_of(delete(stack, "trips"), 409)

    assert (problem["assetCount"], problem["subfolders"]) == (0, 2)
    assert list(folders(stack)) == ["trips", "trips/2026", "trips/2026/alps"]


def test_deleting_a_folder_holding_only_an_upload_in_progress_is_a_409(stack: Stack) -> None:
    create(stack, "trips")
    ticket = pending_asset(stack, folder="trips")

    problem_of(delete(stack, "trips"), 409)

    assert "trips" in folders(stack)
    assert listed_ids(stack, folder="trips") == [ticket["assetId"]]


def test_deleting_a_folder_holding_only_trashed_assets_is_a_409_that_says_so(
    stack: Stack,
) -> None:
    # Restoring them would put them back in it: the trash still holds them there.
    asset = ready_asset(stack, 1100, folder="trips")
    stack.call("DELETE", f"/media/{asset['assetId']}")

    problem = problem_of(delete(stack, "trips"), 409)

    # Its counts are 0 (nothing READY): the answer must still say what keeps it there,
    # with a count or in words.
    says_so = problem["assetCount"] + problem["subfolders"] > 0 or "trash" in problem["detail"]
    assert says_so, problem
    assert folders(stack) == {"trips": (0, 0)}


def test_an_upload_into_a_new_subfolder_keeps_its_parent_from_being_deleted(
    stack: Stack,
) -> None:
    # Presigned into trips/new, a folder no record names yet (it is made when READY).
    create(stack, "trips")
    ticket = pending_asset(stack, folder="trips/new")

    response = delete(stack, "trips")

    assert response.status_code == 409, response.get_data(as_text=True)
    assert read(stack, ticket["assetId"])["folder"] == "trips/new"


def test_move_to_moves_an_upload_in_progress_in_a_subfolder_no_record_names_yet(
    stack: Stack,
) -> None:
    create(stack, "trips")
    ticket = pending_asset(stack, folder="trips/new")

    assert delete(stack, "trips", moveTo="archive").status_code == 204

    assert read(stack, ticket["assetId"])["folder"] == "archive/new"
    assert listed_ids(stack, folder="trips", recursive="true") == []


def test_deleting_an_unknown_folder_is_a_404(stack: Stack) -> None:
    create(stack, "trips", user="bob")

    for path in ["nowhere", "trips", "trips%2F2026"]:
        problem = problem_of(delete(stack, path), 404)
        assert problem["type"] == "urn:mediaport:problem:folder-not-found", path
    assert folders(stack, user="bob") == {"trips": (0, 0)}


def test_a_bad_folder_name_or_move_to_is_a_400(stack: Stack) -> None:
    create(stack, "trips/2026")

    cases = [
        ("trips%2F..%2Fetc", {}, "folderName"),
        ("trips", {"moveTo": "../etc"}, "moveTo"),
        ("trips", {"moveTo": ""}, "moveTo"),
        ("trips", {"moveTo": "trips"}, "moveTo"),
        ("trips", {"moveTo": "trips/2026/keep"}, "moveTo"),
        ("trips", {"moveTo": "/trips/"}, "moveTo"),
    ]
    for encoded, query, field in cases:
        problem = problem_of(delete(stack, encoded, **query), 400)

        assert [error["field"] for error in problem["errors"]] == [field], (encoded, query)
    assert list(folders(stack)) == ["trips", "trips/2026"]


def test_move_to_empties_the_folder_into_another_and_re_roots_its_subfolders(
    stack: Stack,
) -> None:
    # Given trips holds READY, PENDING and trashed assets directly and in subfolders,
    # and archive exists with an asset of its own
    direct = ready_asset(stack, 1100, folder="trips")
    nested = ready_asset(stack, 500, folder="trips/2026")
    deeper = ready_asset(stack, 250, folder="trips/2026/alps")
    waiting = pending_asset(stack, folder="trips/2026")
    binned = ready_asset(stack, 300, folder="trips")
    stack.call("DELETE", f"/media/{binned['assetId']}")
    create(stack, "trips/empty")
    ready_asset(stack, 200, folder="archive")
    ready_asset(stack, 50, folder="tripsy")  # a name that starts the same, untouched

    response = delete(stack, "trips", moveTo="archive")

    assert response.status_code == 204, response.get_data(as_text=True)
    assert folders(stack) == {
        "archive": (2, 1300),
        "archive/2026": (1, 500),
        "archive/2026/alps": (1, 250),
        "archive/empty": (0, 0),
        "tripsy": (1, 50),
    }
    assert read(stack, direct["assetId"])["folder"] == "archive"
    assert read(stack, nested["assetId"])["folder"] == "archive/2026"
    assert read(stack, deeper["assetId"])["folder"] == "archive/2026/alps"
    assert read(stack, waiting["assetId"])["folder"] == "archive/2026"
    assert read(stack, binned["assetId"])["folder"] == "archive"
    assert listed_ids(stack, deleted="true", folder="archive") == [binned["assetId"]]
    assert listed_ids(stack, folder="trips", recursive="true") == []
    assert listed_ids(stack, folder="trips", recursive="true", deleted="true") == []
    rows = usage_rows(stack)
    assert rows["folder#trips"] == (0, 0)
    assert rows["folder#archive"] == (2050, 4)
    counts_match_what_is_there(stack)
    # Restored, the trashed asset counts where it now is.
    assert stack.call("POST", f"/media/{binned['assetId']}/restore").status_code == 200
    assert folders(stack)["archive"] == (3, 1600)
    counts_match_what_is_there(stack)


def test_move_to_a_nested_folder_that_does_not_exist_creates_it(stack: Stack) -> None:
    asset = ready_asset(stack, 1100, folder="old/2024")

    response = delete(stack, "old%2F2024", moveTo="new/2025/kept")

    assert response.status_code == 204, response.get_data(as_text=True)
    assert folders(stack) == {
        "new": (0, 0),
        "new/2025": (0, 0),
        "new/2025/kept": (1, 1100),
        "old": (0, 0),
    }
    assert read(stack, asset["assetId"])["folder"] == "new/2025/kept"
    counts_match_what_is_there(stack)


def test_move_to_an_upper_folder_is_taken(stack: Stack) -> None:
    # trips/2026 into trips: its parent, not inside it.
    asset = ready_asset(stack, 1100, folder="trips/2026/alps")

    response = delete(stack, "trips%2F2026", moveTo="trips")

    assert response.status_code == 204, response.get_data(as_text=True)
    assert folders(stack) == {"trips": (0, 0), "trips/alps": (1, 1100)}
    assert read(stack, asset["assetId"])["folder"] == "trips/alps"
    counts_match_what_is_there(stack)


def test_a_transaction_another_held_an_item_of_is_sent_again_not_answered_500(
    stack: Stack,
) -> None:
    # Two uploads into the same new folder at once: DynamoDB cancels one transaction with
    # TransactionConflict (nothing written); sent again, it goes through.
    client = current_services().assets.connection().client
    conflicted: list[bool] = []

    def first_only(_request: dict[str, Any]) -> bool:
        conflicted.append(True)
        return len(conflicted) == 1

    with aws_fails(
        client,
        "TransactWriteItems",
        when=first_only,
        code="TransactionCanceledException",
        status=400,
        reasons=[None, "TransactionConflict", None],
    ) as hit:
        asset = pending_asset(stack, folder="trips/2026")

    assert len(hit) == 1
    assert read(stack, asset["assetId"])["folder"] == "trips/2026"
    assert set(folders(stack)) == {"trips", "trips/2026"}


def test_move_to_that_would_make_a_subfolder_too_deep_moves_nothing(stack: Stack) -> None:
    deep = "a/b/c/d/e/f/g/h"
    asset = pending_asset(stack, folder=deep)

    response = delete(stack, "a", moveTo="x/y/z/w/v/u/t")

    assert problem_of(response, 400)["errors"][0]["field"] == "moveTo"
    assert read(stack, asset["assetId"])["folder"] == deep
    assert "x" not in folders(stack)
    assert deep in folders(stack)
