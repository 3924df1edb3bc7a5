"""One user's journey through the library over real HTTP against the local stack: upload,
tag, move, attach to a post, fail to attach a second image to the same post, fail to
delete while attached, detach, delete, restore. The counts follow at every step."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests import samples
from tests.e2e.conftest import LocalStack


class Client:
    """The API as one signed-in user sees it."""

    def __init__(self, stack: LocalStack, user: str) -> None:
        self.base, self.headers = stack.api_url, stack.auth(user)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def upload(self, name: str, data: bytes, folder: str | None = None) -> str:
        body = {"filename": name, "contentType": "image/jpeg", "size": len(data)}
        ticket = self.call("POST", "/media/presign", json={**body, "scope": "POST_ATTACHMENT"})
        assert ticket.status_code == 201, ticket.text
        sent = requests.put(
            ticket.json()["uploadUrl"], data=data, headers=ticket.json()["headers"], timeout=30
        )
        assert sent.status_code == 200, sent.text
        asset_id = str(ticket.json()["assetId"])
        assert self.call("PATCH", f"/media/{asset_id}/confirm").status_code == 204
        return asset_id

    def folders(self) -> dict[str, tuple[int, int]]:
        listed = self.call("GET", "/media/folders").json()["items"]
        return {f["path"]: (f["assetCount"], f["bytes"]) for f in listed}

    def total(self) -> tuple[int, int]:
        usage = self.call("GET", "/media/usage").json()
        return usage["totalFiles"], usage["totalBytes"]


def test_upload_tag_move_attach_delete_detach_delete_restore(local_stack: LocalStack) -> None:
    me = Client(local_stack, f"journey-{uuid.uuid4().hex[:8]}")
    post = f"post-{uuid.uuid4().hex[:8]}"
    photo, other = samples.jpeg_bytes(640, 480), samples.jpeg_bytes(320, 240)

    # Upload two photos.
    asset_id = me.upload("beach.jpg", photo)
    second_id = me.upload("dunes.jpg", other)
    assert me.total() == (2, len(photo) + len(other))

    # Tag the first, with the version it was read at.
    read = me.call("GET", f"/media/{asset_id}")
    tagged = me.call(
        "PATCH",
        f"/media/{asset_id}",
        json={"tags": [" Summer ", "beach", "summer"], "altText": "Waves at noon"},
        headers={"If-Match": read.headers["ETag"], "Content-Type": "application/merge-patch+json"},
    )
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["tags"] == ["summer", "beach"]
    assert tagged.headers["ETag"] != read.headers["ETag"]
    listed = me.call("GET", "/media", params={"tag": "summer"}).json()["items"]
    assert [item["assetId"] for item in listed] == [asset_id]

    # Move it into a folder that does not exist yet: it and its parent are created.
    moved = me.call("POST", f"/media/{asset_id}/move", json={"folder": "trips/2026"})
    assert moved.status_code == 200, moved.text
    assert me.folders() == {"trips": (0, 0), "trips/2026": (1, len(photo))}
    in_folder = me.call("GET", "/media", params={"folder": "trips", "recursive": "true"}).json()
    assert [item["assetId"] for item in in_folder["items"]] == [asset_id]

    # Attach it to a post; a post holds one image, so the second is refused.
    attached = me.call("PUT", f"/media/{asset_id}/attachments/post/{post}")
    assert attached.status_code == 201, attached.text
    full = me.call("PUT", f"/media/{second_id}/attachments/post/{post}")
    assert full.status_code == 422, full.text
    assert full.headers["Content-Type"].startswith("application/problem+json")
    assert me.call("GET", f"/media/{asset_id}").json()["usageCount"] == 1

    # While attached, a delete is refused and names the post.
    refused = me.call("DELETE", f"/media/{asset_id}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["attachments"] == [{"entityType": "post", "entityId": post}]

    # Detach, then delete: out of the library, the folder and the usage at once.
    assert me.call("DELETE", f"/media/{asset_id}/attachments/post/{post}").status_code == 204
    assert me.call("DELETE", f"/media/{asset_id}").status_code == 204
    assert me.total() == (1, len(other))
    assert me.folders()["trips/2026"] == (0, 0)
    library = [item["assetId"] for item in me.call("GET", "/media").json()["items"]]
    trash = me.call("GET", "/media", params={"deleted": "true"}).json()["items"]
    assert asset_id not in library
    assert [item["assetId"] for item in trash] == [asset_id]
    assert trash[0]["url"] is None

    # Restore: back where it was, counted again.
    restored = me.call("POST", f"/media/{asset_id}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "READY"
    assert me.total() == (2, len(photo) + len(other))
    assert me.folders()["trips/2026"] == (1, len(photo))
    download = me.call("GET", f"/media/{asset_id}/download", allow_redirects=False)
    assert download.status_code == 302
    assert requests.get(download.headers["Location"], timeout=30).content == photo
