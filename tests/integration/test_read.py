"""GET /media/{id} and GET /media: an owner reads and lists assets."""

import requests

from tests import samples
from tests.integration.conftest import Stack


def test_the_owner_reads_a_ready_asset_with_a_download_url(stack: Stack) -> None:
    photo = samples.jpeg_bytes(320, 200)
    ticket = stack.start_upload(photo, "image/jpeg", filename="café.jpg")
    stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")

    response = stack.call("GET", f"/media/{ticket['assetId']}")

    assert response.status_code == 200
    asset = response.get_json()
    assert asset["assetId"] == ticket["assetId"]
    assert asset["status"] == "READY"
    assert asset["filename"] == "cafe.jpg"
    assert asset["originalFilename"] == "café.jpg"
    assert asset["mimeType"] == "image/jpeg"
    assert asset["size"] == len(photo)
    assert (asset["width"], asset["height"], asset["aspectRatio"]) == (320, 200, 1.6)
    assert asset["scope"] == "GENERIC"
    assert asset["rejectReason"] is None
    assert asset["createdAt"]
    # moto intercepts requests to AWS URLs in-process, so the presigned URL really downloads.
    assert requests.get(asset["url"], timeout=10).content == photo


def test_a_pending_asset_has_no_url_yet(stack: Stack) -> None:
    ticket = stack.presign(filename="a.jpg", contentType="image/jpeg", size=10).get_json()
    asset = stack.call("GET", f"/media/{ticket['assetId']}").get_json()
    assert asset["status"] == "PENDING"
    assert asset["url"] is None
    assert asset["mimeType"] is None


def test_a_rejected_asset_says_why(stack: Stack) -> None:
    ticket = stack.start_upload(samples.HTML_BYTES, "image/png")
    stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")
    asset = stack.call("GET", f"/media/{ticket['assetId']}").get_json()
    assert asset["status"] == "REJECTED"
    assert asset["rejectReason"] == "TYPE_MISMATCH"
    assert "text/html" in asset["rejectDetail"]


def test_reading_someone_elses_asset_is_403(stack: Stack) -> None:
    ticket = stack.presign(filename="a.jpg", contentType="image/jpeg", size=10).get_json()
    response = stack.call("GET", f"/media/{ticket['assetId']}", user="mallory")
    assert response.status_code == 403
    assert "alice" not in response.get_data(as_text=True)


def test_reading_an_unknown_asset_is_404(stack: Stack) -> None:
    response = stack.call("GET", "/media/11111111-1111-4111-8111-111111111111")
    assert response.status_code == 404


def test_listing_shows_only_my_assets_newest_first_a_page_at_a_time(stack: Stack) -> None:
    mine = [
        stack.presign(filename=f"{n}.jpg", contentType="image/jpeg", size=10).get_json()
        for n in range(5)
    ]
    stack.presign(user="bob", filename="bob.jpg", contentType="image/jpeg", size=10)

    first = stack.call("GET", "/media?limit=3").get_json()
    second = stack.call("GET", f"/media?limit=3&cursor={first['nextCursor']}").get_json()

    listed = [item["assetId"] for item in first["items"] + second["items"]]
    assert listed == [ticket["assetId"] for ticket in reversed(mine)]
    assert second["nextCursor"] is None


def test_listing_can_filter_by_status(stack: Stack) -> None:
    ready = stack.start_upload(samples.jpeg_bytes(), "image/jpeg")
    stack.call("PATCH", f"/media/{ready['assetId']}/confirm")
    stack.presign(filename="pending.jpg", contentType="image/jpeg", size=10)

    page = stack.call("GET", "/media?status=READY").get_json()

    assert [item["assetId"] for item in page["items"]] == [ready["assetId"]]


def test_a_forged_cursor_is_a_400(stack: Stack) -> None:
    response = stack.call("GET", "/media?cursor=bm90LWEtY3Vyc29y")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "cursor"


def test_another_users_cursor_is_refused(stack: Stack) -> None:
    for n in range(3):
        stack.presign(user="bob", filename=f"{n}.jpg", contentType="image/jpeg", size=10)
    cursor = stack.call("GET", "/media?limit=1", user="bob").get_json()["nextCursor"]

    response = stack.call("GET", f"/media?cursor={cursor}")

    assert response.status_code == 400
