"""What the library tests share: READY assets made through the API, whole listings
followed cursor by cursor, and the counts as stored (usage rows, folder records)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.local.config import LocalConfig
from tests import samples
from tests.integration.conftest import Stack

CONFIG = LocalConfig()


def pdf_of(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes (sizes tell assets apart in counts)."""
    return samples.PDF_BYTES + b"\n" * (size - len(samples.PDF_BYTES))


def ready_asset(
    stack: Stack,
    size: int = 1000,
    *,
    data: bytes | None = None,
    content_type: str = "application/pdf",
    user: str = "alice",
    **body: Any,
) -> dict[str, Any]:
    """Presign, upload and confirm; the READY asset as its owner reads it."""
    ticket = stack.start_upload(
        data if data is not None else pdf_of(size), content_type, user, **body
    )
    response = stack.call(
        "PATCH",
        f"/media/{ticket['assetId']}/confirm",
        user=user,
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    asset: dict[str, Any] = response.get_json()
    assert asset["status"] == "READY"
    return asset


def pending_asset(stack: Stack, user: str = "alice", **body: Any) -> dict[str, Any]:
    """A presigned upload that never came (PENDING): cheap, and listed."""
    body.setdefault("filename", "pending.jpg")
    body.setdefault("contentType", "image/jpeg")
    body.setdefault("size", 10)
    response = stack.presign(user=user, **body)
    assert response.status_code == 201, response.get_data(as_text=True)
    ticket: dict[str, Any] = response.get_json()
    return ticket


def read(stack: Stack, asset_id: str, user: str = "alice") -> dict[str, Any]:
    response = stack.call("GET", f"/media/{asset_id}", user=user)
    assert response.status_code == 200, response.get_data(as_text=True)
    asset: dict[str, Any] = response.get_json()
    return asset


def page(stack: Stack, user: str = "alice", **query: Any) -> dict[str, Any]:
    """One page of GET /media with this query (lists for repeatable parameters)."""
    response = stack.call("GET", "/media", user=user, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def listing(stack: Stack, user: str = "alice", **query: Any) -> list[dict[str, Any]]:
    """Every asset of a listing, following nextCursor to the end."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        body = page(stack, user, **query, **({"cursor": cursor} if cursor else {}))
        items += body["items"]
        cursor = body["nextCursor"]
        if cursor is None:
            return items
    raise AssertionError("the listing never ended")


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["assetId"] for item in items]


def listed_ids(stack: Stack, user: str = "alice", **query: Any) -> list[str]:
    return ids(listing(stack, user, **query))


def usage_rows(stack: Stack, user: str = "alice") -> dict[str, tuple[int, int]]:
    """The stored usage rows, by dimension: (bytes, files)."""
    table = stack.dynamodb.Table(CONFIG.usage_table_name)
    items = table.query(
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": user},
        ConsistentRead=True,
    )["Items"]
    return {
        str(item["dimension"]): (int(item.get("bytes", 0)), int(item.get("files", 0)))
        for item in items
    }


def total_usage(stack: Stack, user: str = "alice") -> tuple[int, int]:
    return usage_rows(stack, user).get("total", (0, 0))


def folder_records(stack: Stack, user: str = "alice") -> dict[str, tuple[int, int]]:
    """The stored folder records, by path: (assetCount, bytes)."""
    table = stack.dynamodb.Table(CONFIG.folder_table_name)
    items = table.query(
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": user},
        ConsistentRead=True,
    )["Items"]
    return {
        str(item["path"]): (int(item.get("assetCount", 0)), int(item.get("bytes", 0)))
        for item in items
    }


def folders(stack: Stack, user: str = "alice") -> dict[str, tuple[int, int]]:
    """GET /media/folders as {path: (assetCount, bytes)}, checking it is sorted by path."""
    response = stack.call("GET", "/media/folders", user=user)
    assert response.status_code == 200, response.get_data(as_text=True)
    items = response.get_json()["items"]
    paths = [item["path"] for item in items]
    assert paths == sorted(paths)
    return {item["path"]: (item["assetCount"], item["bytes"]) for item in items}


def really_in(stack: Stack, folder: str, user: str = "alice") -> tuple[int, int]:
    """(count, bytes) of the READY assets a folder's listing really shows."""
    items = listing(stack, user, folder=folder, status="READY", limit=100)
    return len(items), sum(item["size"] for item in items)


def clone_items(
    stack: Stack,
    template_id: str,
    count: int,
    *,
    filename: str = "filler.pdf",
    start: datetime | None = None,
) -> list[str]:
    """Store ``count`` copies of an asset's record with new ids, later creation times and
    ``filename``, their listing keys derived as the adapter derives them (many assets
    without many uploads); their ids, oldest first."""
    template = stack.asset_item(template_id)
    assert template, template_id
    moment = start or datetime(2030, 1, 1, tzinfo=UTC)
    made: list[str] = []
    with stack.dynamodb.Table(stack.table).batch_writer() as batch:
        for n in range(count):
            at = (moment + timedelta(milliseconds=n)).isoformat()
            asset_id = str(uuid.uuid4())
            item = {
                **template,
                "assetId": asset_id,
                "createdAt": at,
                "statusCreatedAt": f"{template['status']}#{at}",
                "filename": filename,
                "originalFilename": filename,
                "key": template["key"].replace(template_id, asset_id),
                "sizeKey": f"{str(template['sizeKey']).split('|')[0]}|{at}",
                "nameKey": f"{filename.casefold()}|{at}",
                "searchText": f"{filename}\n{filename}\n\n".casefold(),
            }
            batch.put_item(Item=item)
            made.append(asset_id)
    return made
