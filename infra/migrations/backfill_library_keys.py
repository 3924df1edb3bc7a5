"""Give asset records written before the media library their listing keys and folder counts.

    python -m infra.migrations.backfill_library_keys \\
        --table TABLE --folder-table FOLDER_TABLE [--region REGION]

The library's listings read five indexes keyed on attributes the table adapter derives
from an asset on every write: ``shelf``, ``sizeKey``, ``nameKey``, ``folderShelf`` and
``typeShelf``, with ``searchText`` and ``statusCreatedAt``. A record written by an
earlier version has none of them (or only ``statusCreatedAt``), so no listing finds it;
and an earlier version already filed uploads in folders without keeping folder records,
so such an asset is counted in no folder.

For each such record this makes, in one transaction, an edit that changes no field (the
table adapter derives the keys as it does for every write) and, when the asset counts
(READY or QUARANTINED, in a folder), the folder updates that count it: the same updates
the adapter makes when an asset enters a folder, creating the folder and those above it
when missing. The edit names the version the scan saw, so a record written since is
left for the next run rather than counted twice. Tombstones (purged records) are listed
nowhere by design and are left as they are.

Safe while the API serves and safe to run again: a record that has its keys is never
touched, and one is counted in the same transaction that gives it its keys. Run it as
soon as the deploy that added the indexes has finished; it prints how many records it
updated, and how many changed under it (run it again for those).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import boto3

from mediaport import names
from mediaport.adapters.folders import FolderTable
from mediaport.adapters.tables import AssetTable

# What the table adapter derives on every write (``_listing_keys``), as stored.
DERIVED_ATTRIBUTES = (
    names.SHELF_ATTRIBUTE,
    names.SIZE_INDEX_SORT_KEY,
    names.NAME_INDEX_SORT_KEY,
    names.FOLDER_INDEX_PARTITION_KEY,
    names.TYPE_INDEX_PARTITION_KEY,
    names.STATUS_INDEX_SORT_KEY,
    "searchText",
)


@dataclass(frozen=True)
class Found:
    """A record the scan found without its keys, and the version it was at."""

    asset_id: str
    version: int | None


@dataclass
class Outcome:
    updated: int = 0
    changed_meanwhile: int = 0


def records_missing_keys(dynamodb: Any, table_name: str) -> list[Found]:
    """The records that lack a derived key and are not tombstones."""
    attribute_names = {f"#k{i}": name for i, name in enumerate(DERIVED_ATTRIBUTES)}
    missing = " OR ".join(f"attribute_not_exists({alias})" for alias in attribute_names)
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        FilterExpression=f"({missing}) AND attribute_not_exists(#purged)",
        ExpressionAttributeNames={
            **attribute_names,
            "#purged": "purgedAt",
            "#id": names.TABLE_PARTITION_KEY,
            "#version": "version",
        },
        ProjectionExpression="#id, #version",
    )
    return [
        Found(
            item[names.TABLE_PARTITION_KEY]["S"],
            int(item["version"]["N"]) if "version" in item else None,
        )
        for page in pages
        for item in page.get("Items", [])
    ]


def backfill_record(assets: AssetTable, folders: FolderTable, found: Found) -> bool:
    """Give one record its keys and count it in its folder, in one transaction; False
    when it is gone, purged or written since the scan saw it."""
    asset = assets.get(found.asset_id)
    if asset is None or asset.purged_at is not None or asset.version != found.version:
        return False
    counted = asset.counted_as()
    alongside = folders.folder_updates([counted]) if counted is not None else []
    return assets.apply(asset.edit({}, version=found.version), alongside) is not None


def backfill(dynamodb: Any, table_name: str, folder_table_name: str, region: str) -> Outcome:
    """Every record without its listing keys gets them, and its folder counts it."""
    # No usage or folder tables given: the edit changes no count of its own; the folder
    # updates travel alongside, in the same transaction.
    assets = AssetTable(table_name, region)
    folders = FolderTable(folder_table_name, region)
    outcome = Outcome()
    for found in records_missing_keys(dynamodb, table_name):
        if backfill_record(assets, folders, found):
            outcome.updated += 1
        else:
            outcome.changed_meanwhile += 1
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the asset table (output TableName)")
    parser.add_argument(
        "--folder-table", required=True, help="the folder table (output FolderTableName)"
    )
    parser.add_argument("--region", default=None, help="defaults to your AWS configuration")
    args = parser.parse_args()
    client = boto3.client("dynamodb", region_name=args.region)
    outcome = backfill(client, args.table, args.folder_table, client.meta.region_name)
    print(
        f"updated {outcome.updated} records; {outcome.changed_meanwhile} were written, removed or "
        "purged meanwhile (run again to pick up any that still lack their keys)"
    )


if __name__ == "__main__":
    main()
