"""GET /media/{id} and GET /media: an owner reads and lists assets."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from mediaport.config import get_settings
from tests import samples
from tests.integration.conftest import Stack, count_table_calls


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


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _a_real_cursor(stack: Stack, query: str = "limit=1") -> dict[str, object]:
    for n in range(2):
        stack.presign(filename=f"{n}.jpg", contentType="image/jpeg", size=10)
    cursor = stack.call("GET", f"/media?{query}").get_json()["nextCursor"]
    payload: dict[str, object] = json.loads(base64.urlsafe_b64decode(cursor + "=="))
    return payload


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: {**c, "k": "not-a-date"},
        lambda c: {**c, "a": "' OR 1=1"},
        lambda c: {**c, "extra": "field"},
        lambda c: {key: value for key, value in c.items() if key != "k"},
        lambda c: {**c, "k": {"S": "2026-01-01T00:00:00+00:00"}},
        lambda c: {**c, "v": 99},
        lambda c: [c],
        lambda c: {**c, "s": "READY"},
    ],
    ids=["sort-key", "asset-id", "extra", "missing", "typed", "version", "list", "filter"],
)
def test_a_tampered_cursor_is_a_400_naming_cursor_never_a_retry(stack: Stack, tamper) -> None:
    payload = _a_real_cursor(stack)

    response = stack.call("GET", f"/media?limit=1&cursor={_cursor(tamper(payload))}")

    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert [error["field"] for error in response.get_json()["errors"]] == ["cursor"]


@pytest.mark.parametrize("cursor", ["%00%01", "🙂", "====", "eyJ2IjoxfQ", "a" * 2048])
def test_a_malformed_cursor_is_a_400_naming_cursor(stack: Stack, cursor: str) -> None:
    response = stack.call("GET", "/media", query_string={"cursor": cursor})

    assert response.status_code == 400
    assert [error["field"] for error in response.get_json()["errors"]] == ["cursor"]


def test_a_cursor_from_the_status_listing_continues_it(stack: Stack) -> None:
    tickets = [stack.start_upload(samples.png_bytes(), "image/png") for _ in range(3)]
    for ticket in tickets:
        stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")
    stack.presign(filename="pending.jpg", contentType="image/jpeg", size=10)

    first = stack.call("GET", "/media?status=READY&limit=2").get_json()
    second = stack.call("GET", f"/media?status=READY&limit=2&cursor={first['nextCursor']}")

    listed = [item["assetId"] for item in first["items"] + second.get_json()["items"]]
    assert listed == [ticket["assetId"] for ticket in reversed(tickets)]
    # A status listing's cursor is refused by the unfiltered listing, and vice versa.
    other = stack.call("GET", f"/media?cursor={first['nextCursor']}")
    assert other.status_code == 400


def test_deleted_assets_are_never_listed_not_even_by_asking_for_them(stack: Stack) -> None:
    response = stack.call("GET", "/media?status=DELETED")

    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "status"


def test_a_status_listing_costs_one_query_whatever_else_the_user_has(stack: Stack) -> None:
    # Given 5,000 of alice's assets in other states, and one READY one...
    ready = stack.start_upload(samples.png_bytes(), "image/png")
    stack.call("PATCH", f"/media/{ready['assetId']}/confirm")
    created = datetime(2026, 1, 1, tzinfo=UTC)
    with stack.dynamodb.Table(stack.table).batch_writer() as batch:
        for n in range(5000):
            status = ("PENDING", "REJECTED")[n % 2]
            at = (created + timedelta(seconds=n)).isoformat()
            batch.put_item(
                Item={
                    "assetId": str(uuid.uuid4()),
                    "userId": "alice",
                    "createdAt": at,
                    "statusCreatedAt": f"{status}#{at}",
                    "status": status,
                }
            )
    queries = count_table_calls(stack, "Query")

    # ...when she lists one READY asset...
    page = stack.call("GET", "/media?status=READY&limit=1").get_json()

    # ...DynamoDB is asked once, and the page is full.
    assert [item["assetId"] for item in page["items"]] == [ready["assetId"]]
    assert queries() == 1


def test_the_unfiltered_listing_costs_one_query_too(stack: Stack) -> None:
    for n in range(30):
        stack.presign(filename=f"{n}.jpg", contentType="image/jpeg", size=10)
    queries = count_table_calls(stack, "Query")

    page = stack.call("GET", "/media?limit=5").get_json()

    assert len(page["items"]) == 5
    assert page["nextCursor"] is not None
    assert queries() == 1


def test_a_public_url_is_given_only_for_verified_bytes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAPORT_PUBLIC_BASE_URL", "https://cdn.example.com")
    get_settings.cache_clear()
    data = samples.png_bytes()
    # A public scope (docs/serving.md: GENERIC is private, and gets no CDN URL at all).
    ticket = stack.presign(
        filename="a.png", contentType="image/png", size=len(data), scope="POST_ATTACHMENT"
    ).get_json()

    assert "publicUrl" not in ticket
    assert stack.call("GET", f"/media/{ticket['assetId']}").get_json()["publicUrl"] is None

    stack.upload(ticket, data)
    stack.call("PATCH", f"/media/{ticket['assetId']}/confirm")
    asset = stack.call("GET", f"/media/{ticket['assetId']}").get_json()
    # publicUrl is cdnUrl's former name, kept (deprecated) for the clients that read it.
    assert asset["publicUrl"] == asset["cdnUrl"] == f"https://cdn.example.com/{ticket['key']}"


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_an_asset_id_the_route_cannot_match_is_a_404_problem(stack: Stack, method: str) -> None:
    path = "/media/%C3%96%F2%92%B4%90" + ("/confirm" if method == "PATCH" else "")

    response = stack.call(method, path)

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
