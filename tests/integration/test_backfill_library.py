"""Records written before the media library get their listing keys and folder counts, and
are listed."""

from typing import Any

import boto3

from infra.migrations.backfill_library_keys import (
    DERIVED_ATTRIBUTES,
    Outcome,
    backfill,
    backfill_record,
    records_missing_keys,
)
from mediaport.adapters.folders import FolderTable
from mediaport.adapters.tables import AssetTable
from tests import samples
from tests.integration.conftest import CONFIG, Stack


def _ready_image(stack: Stack, filename: str, folder: str) -> str:
    ticket = stack.start_upload(samples.png_bytes(), "image/png", filename=filename, folder=folder)
    assert stack.call("PATCH", f"/media/{ticket['assetId']}/confirm").status_code == 204
    asset_id: str = ticket["assetId"]
    return asset_id


def _as_an_earlier_version_stored_it(stack: Stack, asset_id: str) -> None:
    """None of the derived listing keys, and counted in no folder record."""
    stack.dynamodb.Table(stack.table).update_item(
        Key={"assetId": asset_id},
        UpdateExpression="REMOVE " + ", ".join(f"#k{i}" for i in range(len(DERIVED_ATTRIBUTES))),
        ExpressionAttributeNames={f"#k{i}": name for i, name in enumerate(DERIVED_ATTRIBUTES)},
    )
    folders = stack.dynamodb.Table(CONFIG.folder_table_name)
    for folder in folders.scan()["Items"]:
        folders.delete_item(Key={"userId": folder["userId"], "path": folder["path"]})


def _listed(stack: Stack, query: str) -> list[str]:
    response = stack.call("GET", f"/media?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["assetId"] for item in response.get_json()["items"]]


def _folders(stack: Stack) -> list[tuple[str, int, int]]:
    response = stack.call("GET", "/media/folders")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(f["path"], f["assetCount"], f["bytes"]) for f in response.get_json()["items"]]


def _backfill() -> Outcome:
    client = boto3.client("dynamodb", region_name=CONFIG.region)
    return backfill(client, CONFIG.table_name, CONFIG.folder_table_name, CONFIG.region)


def test_a_record_older_than_the_library_is_listed_everywhere_once_backfilled(
    stack: Stack,
) -> None:
    # Given a READY asset stored before the library's indexes existed, next to one
    # written by this version...
    old = _ready_image(stack, "harbour.png", "trips/2026")
    new = _ready_image(stack, "quay.png", "trips/2026")
    _as_an_earlier_version_stored_it(stack, old)
    before: dict[str, Any] = stack.asset_item(old)
    assert _listed(stack, "folder=trips/2026") == [new]
    assert _listed(stack, "q=harbour") == []

    # ...the backfill gives it its keys (and does nothing the second time)...
    assert _backfill() == Outcome(updated=1)
    assert _backfill() == Outcome()

    # ...so every listing finds it, and nothing the user sees changed but its version.
    assert _listed(stack, "folder=trips/2026") == [new, old]
    assert _listed(stack, "q=harbour") == [old]
    assert set(_listed(stack, "sort=size")) == {old, new}
    assert _listed(stack, "sort=filename") == [old, new]
    assert _listed(stack, "type=image&status=READY") == [new, old]
    after: dict[str, Any] = stack.asset_item(old)
    assert (after["shelf"], after["folderShelf"]) == ("alice", "alice|trips/2026")
    unchanged = {k: v for k, v in before.items() if k not in ("version", "updatedAt")}
    assert {k: after[k] for k in unchanged} == unchanged
    assert after["version"] == before["version"] + 1


def test_a_backfilled_asset_is_counted_in_its_folder_which_is_created_with_those_above(
    stack: Stack,
) -> None:
    # Given a READY asset an earlier version filed in a folder it kept no record of...
    asset_id = _ready_image(stack, "harbour.png", "trips/2026")
    size = int(stack.asset_item(asset_id)["size"])
    _as_an_earlier_version_stored_it(stack, asset_id)
    assert _folders(stack) == []

    # ...the backfill counts it in its folder, and creates the folders above it...
    assert _backfill() == Outcome(updated=1)
    assert _folders(stack) == [("trips", 0, 0), ("trips/2026", 1, size)]

    # ...so that moving it out leaves the folder empty, not below zero.
    moved = stack.call("POST", f"/media/{asset_id}/move", json={"folder": None})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert _folders(stack) == [("trips", 0, 0), ("trips/2026", 0, 0)]


def test_a_record_in_the_trash_is_backfilled_onto_the_trash_and_counted_nowhere(
    stack: Stack,
) -> None:
    # Given an asset in the trash, stored before the library's indexes existed...
    asset_id = _ready_image(stack, "old.png", "trips")
    assert stack.call("DELETE", f"/media/{asset_id}").status_code == 204
    _as_an_earlier_version_stored_it(stack, asset_id)
    assert _listed(stack, "deleted=true") == []

    # ...the backfill puts it back in the trash listing only, and counts it in no folder.
    assert _backfill() == Outcome(updated=1)
    assert _listed(stack, "deleted=true") == [asset_id]
    assert _listed(stack, "folder=trips") == []
    assert stack.asset_item(asset_id)["shelf"] == "alice|trash"
    assert _folders(stack) == []


def test_a_record_written_after_the_scan_saw_it_is_left_for_the_next_run(
    stack: Stack,
) -> None:
    # Given an old record that is written again between the scan and its backfill...
    asset_id = _ready_image(stack, "harbour.png", "trips")
    _as_an_earlier_version_stored_it(stack, asset_id)
    client = boto3.client("dynamodb", region_name=CONFIG.region)
    found = records_missing_keys(client, CONFIG.table_name)
    stack.dynamodb.Table(stack.table).update_item(
        Key={"assetId": asset_id},
        UpdateExpression="SET #version = #version + :one",
        ExpressionAttributeNames={"#version": "version"},
        ExpressionAttributeValues={":one": 1},
    )

    # ...it is left alone by that run (and counted nowhere)...
    assets = AssetTable(CONFIG.table_name, CONFIG.region)
    folders = FolderTable(CONFIG.folder_table_name, CONFIG.region)
    assert [backfill_record(assets, folders, f) for f in found] == [False]
    assert _folders(stack) == []

    # ...and the next run, which sees it as it is now, backfills it once.
    assert _backfill() == Outcome(updated=1)
    assert _folders(stack) == [("trips", 1, int(stack.asset_item(asset_id)["size"]))]
