"""Give asset records written before the ``byOwnerStatus`` index their sort key.

``python -m infra.migrations.backfill_status_index --table TABLE [--region REGION]``

Records stored before the index existed have no ``statusCreatedAt`` and so never appear in
a listing by status. This sets it to ``{status}#{createdAt}`` on every record that lacks
it, each with a conditional write (only while it still lacks it), so it is safe to run
while the API serves and safe to run again. Run it once after the first deploy of this
version; it prints how many records it updated.
"""

from __future__ import annotations

import argparse
from typing import Any

import boto3

from mediaport import names


def backfill(dynamodb: Any, table_name: str) -> int:
    """Set the status index key on every record without one; how many were updated."""
    updated = 0
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        FilterExpression="attribute_not_exists(#key) AND attribute_exists(#status)",
        ExpressionAttributeNames={
            "#key": names.STATUS_INDEX_SORT_KEY,
            "#status": "status",
            "#id": names.TABLE_PARTITION_KEY,
        },
        ProjectionExpression="#id, #status, createdAt",
    )
    for page in pages:
        for item in page.get("Items", []):
            status, created_at = item["status"]["S"], item["createdAt"]["S"]
            try:
                dynamodb.update_item(
                    TableName=table_name,
                    Key={names.TABLE_PARTITION_KEY: item[names.TABLE_PARTITION_KEY]},
                    UpdateExpression="SET #key = :key",
                    # A write since the scan (a status change) sets the key itself.
                    ConditionExpression="attribute_not_exists(#key) AND #status = :status",
                    ExpressionAttributeNames={
                        "#key": names.STATUS_INDEX_SORT_KEY,
                        "#status": "status",
                    },
                    ExpressionAttributeValues={
                        ":key": {"S": f"{status}#{created_at}"},
                        ":status": {"S": status},
                    },
                )
            except dynamodb.exceptions.ConditionalCheckFailedException:
                continue
            updated += 1
    return updated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the asset table (output TableName)")
    parser.add_argument("--region", default=None, help="defaults to your AWS configuration")
    args = parser.parse_args()
    client = boto3.client("dynamodb", region_name=args.region)
    print(f"updated {backfill(client, args.table)} records")


if __name__ == "__main__":
    main()
