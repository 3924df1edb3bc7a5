"""Attachments and avatars against moto: which media is attached to which host-app thing,
the rules of each entity type, the counts kept in one transaction with the asset, and
what an entity's feed shows to anyone signed in."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from mediaport import attachments
from mediaport.adapters.attachments import ENTITY_WRITE, Attachment
from mediaport.adapters.tables import RefusedAlongside
from mediaport.config import get_settings
from mediaport.errors import EntityFull
from mediaport.model import utcnow
from mediaport.services import current_services
from tests import samples
from tests.integration.conftest import CONFIG, Stack
from tests.integration.test_processing import deliver, receive_all

PROBLEM_JSON = "application/problem+json"
# What the feed shows of an asset, and nothing else.
FEED_FIELDS = {
    "assetId",
    "role",
    "url",
    "cdnUrl",
    "variants",
    "mimeType",
    "altText",
    "width",
    "height",
    "placeholder",
    "dominantColor",
    "attachedAt",
}


def ready_asset(
    stack: Stack, user: str = "alice", scope: str = "POST_ATTACHMENT", **body: Any
) -> str:
    """A READY PNG of ``user``'s, uploaded in ``scope`` (confirmed; not processed)."""
    body.setdefault("filename", "photo.png")
    ticket = stack.start_upload(samples.png_bytes(), "image/png", user=user, scope=scope, **body)
    response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm", user=user)
    assert response.status_code == 204, response.get_data(as_text=True)
    return str(ticket["assetId"])


def processed_asset(stack: Stack, scope: str = "POST_ATTACHMENT", **body: Any) -> str:
    """A READY, processed JPEG of alice's (variants, placeholder, dominant colour)."""
    ticket = stack.start_upload(samples.jpeg_bytes(), "image/jpeg", scope=scope, **body)
    assert deliver(stack, receive_all(stack)) == []
    return str(ticket["assetId"])


def attach(stack: Stack, asset_id: str, entity: str, user: str = "alice", **body: Any) -> Any:
    return stack.call(
        "PUT", f"/media/{asset_id}/attachments/{entity}", user=user, json=body or None
    )


def detach(stack: Stack, asset_id: str, entity: str, user: str = "alice") -> Any:
    return stack.call("DELETE", f"/media/{asset_id}/attachments/{entity}", user=user)


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert response.mimetype == PROBLEM_JSON, body
    found: dict[str, Any] = response.get_json()
    assert found["type"] == f"urn:mediaport:problem:{slug}", body
    assert found["status"] == status
    return found


def records_of(stack: Stack, entity: str) -> dict[str, dict[str, Any]]:
    """The attachment table's records of one entity ("post#1"), by sort key."""
    table = stack.dynamodb.Table(CONFIG.attachment_table_name)
    items = table.query(KeyConditionExpression=Key("entity").eq(entity), ConsistentRead=True)
    return {str(item["member"]): item for item in items["Items"]}


def count_of(stack: Stack, entity: str) -> int:
    return int(records_of(stack, entity).get("#entity", {}).get("attachmentCount", 0))


def usage_count(stack: Stack, asset_id: str) -> int:
    return int(stack.asset_item(asset_id).get("usageCount", 0))


def feed(stack: Stack, entity: str, user: str = "bob") -> list[dict[str, Any]]:
    response = stack.call("GET", f"/attachments/{entity}", user=user)
    assert response.status_code == 200, response.get_data(as_text=True)
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


# --- attach ---------------------------------------------------------------------------


def test_attaching_a_ready_asset_answers_201_and_counts_it_in_one_write(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    before = stack.asset_item(asset_id)

    response = attach(stack, asset_id, "post/p1", role="cover")

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["assetId"], body["entityType"], body["entityId"], body["role"]) == (
        asset_id,
        "post",
        "p1",
        "cover",
    )
    item = stack.asset_item(asset_id)
    assert item["usageCount"] == 1
    assert item["lastUsedAt"] >= body["attachedAt"][:19]
    assert item["version"] == before["version"] + 1
    records = records_of(stack, "post#p1")
    assert records["#entity"]["userId"] == "alice"
    assert records["#entity"]["attachmentCount"] == 1
    assert records[asset_id]["role"] == "cover"
    assert records[asset_id]["assetId"] == asset_id


def test_attaching_again_answers_200_and_counts_nothing_twice(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    assert attach(stack, asset_id, "vehicle/v1").status_code == 201

    again = attach(stack, asset_id, "vehicle/v1")
    renamed = attach(stack, asset_id, "vehicle/v1", role="gallery")

    assert again.status_code == 200, again.get_data(as_text=True)
    assert renamed.status_code == 200
    assert renamed.get_json()["role"] == "gallery"
    assert usage_count(stack, asset_id) == 1
    assert count_of(stack, "vehicle#v1") == 1
    assert records_of(stack, "vehicle#v1")[asset_id]["role"] == "gallery"


def test_one_asset_on_two_entities_counts_two_uses(stack: Stack) -> None:
    asset_id = ready_asset(stack)

    assert attach(stack, asset_id, "post/p1").status_code == 201
    assert attach(stack, asset_id, "vehicle/v1").status_code == 201

    assert usage_count(stack, asset_id) == 2


def test_a_post_already_holding_its_image_is_full(stack: Stack) -> None:
    first, second = ready_asset(stack), ready_asset(stack)
    assert attach(stack, first, "post/p1").status_code == 201

    found = problem(attach(stack, second, "post/p1"), 422, "entity-full")

    assert found["maxAttachments"] == 1
    assert usage_count(stack, second) == 0
    assert count_of(stack, "post#p1") == 1
    assert second not in records_of(stack, "post#p1")


def test_racing_attaches_to_a_post_never_both_win(stack: Stack) -> None:
    assets = [ready_asset(stack) for _ in range(6)]
    services = current_services()
    start = threading.Barrier(len(assets))

    def attach_one(asset_id: str) -> str:
        start.wait()
        try:
            attachments.attach(services, "alice", asset_id, "post", "race")
        except EntityFull:
            return "full"
        return "attached"

    with ThreadPoolExecutor(max_workers=len(assets)) as pool:
        outcomes = list(pool.map(attach_one, assets))

    assert sorted(outcomes) == ["attached"] + ["full"] * (len(assets) - 1)
    assert count_of(stack, "post#race") == 1
    assert sum(usage_count(stack, asset_id) for asset_id in assets) == 1
    assert len(records_of(stack, "post#race")) == 2  # the entity and its one attachment


def test_the_entitys_count_is_checked_in_the_transaction_itself(stack: Stack) -> None:
    # Two attaches decided on the same read (the post empty): the second's transaction is
    # refused by the entity's condition, whatever its own read said.
    first, second = ready_asset(stack), ready_asset(stack)
    services = current_services()
    table = services.attachments
    assert table is not None
    post = services.settings.entity_type_table["post"]
    read = {asset_id: services.assets.get(asset_id) for asset_id in (first, second)}
    decided = [
        (
            asset.attach(utcnow()),
            table.attach_items(
                Attachment("post", "p1", asset_id, "alice", None, utcnow()),
                max_attachments=post.max_attachments,
            ),
        )
        for asset_id, asset in read.items()
        if asset is not None
    ]

    assert services.assets.apply(*decided[0]) is not None
    with pytest.raises(RefusedAlongside) as refused:
        services.assets.apply(*decided[1])

    assert refused.value.index == ENTITY_WRITE
    assert (usage_count(stack, first), usage_count(stack, second)) == (1, 0)
    assert count_of(stack, "post#p1") == 1


def test_racing_attaches_of_one_asset_count_every_use(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    services = current_services()
    start = threading.Barrier(2)

    def attach_to(vehicle: str) -> None:
        start.wait()
        attachments.attach(services, "alice", asset_id, "vehicle", vehicle)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(attach_to, ["v1", "v2"]))

    assert usage_count(stack, asset_id) == 2


def test_a_scope_the_entity_type_does_not_take_is_422(stack: Stack) -> None:
    generic = ready_asset(stack, scope="GENERIC")

    found = problem(attach(stack, generic, "post/p1"), 422, "scope-not-allowed")

    assert (found["scope"], found["allowedScopes"]) == ("GENERIC", ["POST_ATTACHMENT"])
    assert usage_count(stack, generic) == 0
    assert records_of(stack, "post#p1") == {}
    # A vehicle takes GENERIC media.
    assert attach(stack, generic, "vehicle/v1").status_code == 201


def test_an_asset_that_is_not_ready_is_409(stack: Stack) -> None:
    pending = stack.presign(
        filename="a.png", contentType="image/png", size=100, scope="POST_ATTACHMENT"
    ).get_json()["assetId"]

    problem(attach(stack, pending, "post/p1"), 409, "asset-not-ready")

    assert records_of(stack, "post#p1") == {}


def test_an_unknown_entity_type_is_404_naming_the_types_there_are(stack: Stack) -> None:
    asset_id = ready_asset(stack)

    found = problem(attach(stack, asset_id, "boat/b1"), 404, "entity-type-not-found")

    assert found["entityTypes"] == ["avatar", "post", "vehicle"]
    problem(stack.call("GET", "/attachments/boat/b1"), 404, "entity-type-not-found")


def test_a_malformed_entity_is_400(stack: Stack) -> None:
    asset_id = ready_asset(stack)

    problem(attach(stack, asset_id, "Post/p1"), 400, "invalid-request")
    problem(attach(stack, asset_id, "post/p!1"), 400, "invalid-request")
    problem(attach(stack, asset_id, "post/p1", role="a cover!"), 400, "invalid-request")


def test_another_users_asset_is_403(stack: Stack) -> None:
    alices = ready_asset(stack)

    problem(attach(stack, alices, "vehicle/bobs-car", user="bob"), 403, "forbidden")
    problem(detach(stack, alices, "vehicle/bobs-car", user="bob"), 403, "forbidden")

    assert usage_count(stack, alices) == 0
    assert records_of(stack, "vehicle#bobs-car") == {}


def test_the_first_user_to_attach_claims_the_entity(stack: Stack) -> None:
    alices, bobs = ready_asset(stack), ready_asset(stack, user="bob")
    assert attach(stack, alices, "vehicle/v1").status_code == 201

    claimed = problem(attach(stack, bobs, "vehicle/v1", user="bob"), 403, "entity-claimed")
    problem(detach(stack, bobs, "vehicle/v1", user="bob"), 403, "entity-claimed")

    assert "claims" in claimed["detail"]
    assert usage_count(stack, bobs) == 0
    assert set(records_of(stack, "vehicle#v1")) == {"#entity", alices}


def test_the_claim_stays_when_the_entity_is_emptied(stack: Stack) -> None:
    alices, bobs = ready_asset(stack), ready_asset(stack, user="bob")
    assert attach(stack, alices, "post/p1").status_code == 201
    assert detach(stack, alices, "post/p1").status_code == 204

    problem(attach(stack, bobs, "post/p1", user="bob"), 403, "entity-claimed")

    assert records_of(stack, "post#p1")["#entity"]["attachmentCount"] == 0


def test_an_avatar_is_named_by_its_users_own_id(stack: Stack) -> None:
    avatar = ready_asset(stack, scope="PROFILE_AVATAR")

    problem(attach(stack, avatar, "avatar/bob"), 403, "not-own-entity")
    assert attach(stack, avatar, "avatar/alice").status_code == 201

    assert stack.call("GET", "/users/alice/avatar", user="bob").get_json()["assetId"] == avatar


def test_an_asset_is_attached_to_at_most_forty_things(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    for vehicle in range(40):
        assert attach(stack, asset_id, f"vehicle/v{vehicle}").status_code == 201

    problem(attach(stack, asset_id, "vehicle/v40"), 422, "attachment-limit")

    assert usage_count(stack, asset_id) == 40
    assert records_of(stack, "vehicle#v40") == {}


def test_configured_entity_types_add_to_the_defaults(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "MEDIAPORT_ENTITY_TYPES",
        json.dumps({"listing": {"scopes": ["GENERIC"], "maxAttachments": 2}}),
    )
    get_settings.cache_clear()
    assets = [ready_asset(stack, scope="GENERIC") for _ in range(3)]

    answers = [attach(stack, asset_id, "listing/l1").status_code for asset_id in assets]

    assert answers == [201, 201, 422]
    assert count_of(stack, "listing#l1") == 2
    assert attach(stack, ready_asset(stack), "post/p1").status_code == 201


# --- detach ---------------------------------------------------------------------------


def test_detaching_answers_204_and_uncounts_in_one_write(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    assert attach(stack, asset_id, "post/p1").status_code == 201

    response = detach(stack, asset_id, "post/p1")

    assert response.status_code == 204, response.get_data(as_text=True)
    assert usage_count(stack, asset_id) == 0
    assert set(records_of(stack, "post#p1")) == {"#entity"}
    assert count_of(stack, "post#p1") == 0
    # The post has room again.
    assert attach(stack, ready_asset(stack), "post/p1").status_code == 201


def test_detaching_what_is_not_attached_is_404(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    assert attach(stack, asset_id, "vehicle/v1").status_code == 201
    assert detach(stack, asset_id, "vehicle/v1").status_code == 204

    problem(detach(stack, asset_id, "vehicle/v1"), 404, "attachment-not-found")
    problem(detach(stack, asset_id, "vehicle/never"), 404, "attachment-not-found")

    assert usage_count(stack, asset_id) == 0
    assert count_of(stack, "vehicle#v1") == 0


def test_an_attachment_whose_asset_record_is_gone_is_still_detached(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    assert attach(stack, asset_id, "vehicle/v1").status_code == 201
    # As TTL would remove an expired (rejected) asset's record.
    stack.dynamodb.Table(stack.table).delete_item(Key={"assetId": asset_id})

    assert detach(stack, asset_id, "vehicle/v1").status_code == 204

    assert set(records_of(stack, "vehicle#v1")) == {"#entity"}
    assert count_of(stack, "vehicle#v1") == 0


def test_a_write_refused_alongside_is_named_not_taken_for_the_assets(stack: Stack) -> None:
    # The detach of an attachment that is gone: a delete, which DynamoDB is sent before
    # the asset's update; its refusal is the alongside write's, not the asset's.
    asset_id = ready_asset(stack)
    services = current_services()
    assert services.attachments is not None
    gone = Attachment("vehicle", "v1", asset_id, "alice")
    asset = services.assets.get(asset_id)
    assert asset is not None

    with pytest.raises(RefusedAlongside) as refused:
        services.assets.apply(asset.detach(), services.attachments.detach_items([gone]))

    assert refused.value.index == 0
    assert stack.asset_item(asset_id)["version"] == asset.version


# --- what an entity shows -------------------------------------------------------------


def test_an_entity_shows_its_ready_media_to_any_user_and_nothing_private(stack: Stack) -> None:
    asset_id = processed_asset(stack, filename="Secret Holiday.jpg", folder="private/trips")
    edited = stack.call("PATCH", f"/media/{asset_id}", json={"altText": "a red car"})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert attach(stack, asset_id, "post/p1", role="cover").status_code == 201

    (item,) = feed(stack, "post/p1", user="bob")

    assert set(item) == FEED_FIELDS
    assert (item["assetId"], item["role"], item["altText"]) == (asset_id, "cover", "a red car")
    assert (item["mimeType"], item["width"], item["height"]) == ("image/jpeg", 640, 480)
    assert item["placeholder"]
    assert item["dominantColor"]
    assert item["url"].startswith("http")
    assert item["variants"]
    for variant in item["variants"].values():
        assert set(variant) == {"url", "cdnUrl", "width", "height"}
    # The original's URLs (presigned and CDN) name its key, which carries the stored
    # (sanitised) filename (docs/attachments.md); nothing else does, the variants' keys
    # included.
    text = json.dumps(
        {name: value for name, value in item.items() if name not in ("url", "cdnUrl")}
    )
    for private in ("originalFilename", "rejectReason", "folder", "tags", "userId", "Secret"):
        assert private not in text


def test_an_entity_lists_its_media_oldest_first(stack: Stack) -> None:
    first, second = ready_asset(stack, scope="GENERIC"), ready_asset(stack, scope="GENERIC")
    assert attach(stack, second, "vehicle/v1").status_code == 201
    assert attach(stack, first, "vehicle/v1").status_code == 201

    assert [item["assetId"] for item in feed(stack, "vehicle/v1")] == [second, first]


def test_an_entity_nothing_was_attached_to_shows_nothing(stack: Stack) -> None:
    assert feed(stack, "post/nobody-used-this") == []


# --- delete of an attached asset --------------------------------------------------------


def test_deleting_an_attached_asset_is_409_naming_where_it_is_attached(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    assert attach(stack, asset_id, "post/p1").status_code == 201
    assert attach(stack, asset_id, "vehicle/v1").status_code == 201

    found = problem(stack.call("DELETE", f"/media/{asset_id}"), 409, "asset-attached")

    assert sorted(found["attachments"], key=lambda a: a["entityType"]) == [
        {"entityType": "post", "entityId": "p1"},
        {"entityType": "vehicle", "entityId": "v1"},
    ]
    assert stack.asset_item(asset_id)["status"] == "READY"
    assert usage_count(stack, asset_id) == 2


def test_delete_with_detach_removes_the_attachments_in_the_same_write(stack: Stack) -> None:
    asset_id = ready_asset(stack)
    assert attach(stack, asset_id, "post/p1").status_code == 201
    assert attach(stack, asset_id, "vehicle/v1").status_code == 201

    response = stack.call("DELETE", f"/media/{asset_id}", query_string="detach=true")

    assert response.status_code == 204, response.get_data(as_text=True)
    item = stack.asset_item(asset_id)
    assert (item["status"], item.get("usageCount", 0)) == ("DELETED", 0)
    assert set(records_of(stack, "post#p1")) == {"#entity"}
    assert set(records_of(stack, "vehicle#v1")) == {"#entity"}
    assert (count_of(stack, "post#p1"), count_of(stack, "vehicle#v1")) == (0, 0)
    assert feed(stack, "post/p1") == []
    assert attach(stack, ready_asset(stack), "post/p1").status_code == 201


# --- avatars --------------------------------------------------------------------------


def set_avatar(stack: Stack, asset_id: str | None, user: str = "alice") -> Any:
    return stack.call("PUT", "/me/avatar", user=user, json={"assetId": asset_id})


def test_an_avatar_is_set_replaced_and_cleared(stack: Stack) -> None:
    first = ready_asset(stack, scope="PROFILE_AVATAR")
    second = ready_asset(stack, scope="PROFILE_AVATAR")

    set_first = set_avatar(stack, first)
    assert set_first.status_code == 200, set_first.get_data(as_text=True)
    assert set_first.get_json()["assetId"] == first
    assert set(set_first.get_json()) == {"assetId", "url", "cdnUrl", "variants"}
    assert stack.call("GET", "/users/alice/avatar", user="bob").get_json()["assetId"] == first

    before = stack.asset_item(first)

    replaced = set_avatar(stack, second)

    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    assert (usage_count(stack, first), usage_count(stack, second)) == (0, 1)
    # The released asset is where it was in every listing.
    released = stack.asset_item(first)
    for name in ("shelf", "statusCreatedAt", "sizeKey", "nameKey", "createdAt", "lastUsedAt"):
        assert released[name] == before[name], name
    assert released["version"] == before["version"] + 1
    assert set(records_of(stack, "avatar#alice")) == {"#entity", second}
    assert count_of(stack, "avatar#alice") == 1
    assert stack.call("GET", "/users/alice/avatar", user="bob").get_json()["assetId"] == second

    cleared = set_avatar(stack, None)

    assert cleared.status_code == 204
    assert usage_count(stack, second) == 0
    assert set(records_of(stack, "avatar#alice")) == {"#entity"}
    problem(stack.call("GET", "/users/alice/avatar", user="bob"), 404, "avatar-not-found")


def test_setting_the_same_avatar_again_changes_nothing(stack: Stack) -> None:
    avatar = ready_asset(stack, scope="PROFILE_AVATAR")
    assert set_avatar(stack, avatar).status_code == 200
    version = stack.asset_item(avatar)["version"]

    again = set_avatar(stack, avatar)

    assert again.status_code == 200
    assert again.get_json()["assetId"] == avatar
    assert stack.asset_item(avatar)["version"] == version
    assert usage_count(stack, avatar) == 1


def test_an_avatar_of_a_processed_image_has_its_variants(stack: Stack) -> None:
    avatar = processed_asset(stack, scope="PROFILE_AVATAR")
    assert set_avatar(stack, avatar).status_code == 200

    found = stack.call("GET", "/users/alice/avatar", user="bob").get_json()

    assert found["variants"]
    assert all(set(v) == {"url", "cdnUrl", "width", "height"} for v in found["variants"].values())


def test_an_avatar_must_be_a_ready_profile_avatar_of_ones_own(stack: Stack) -> None:
    post_image = ready_asset(stack)
    bobs = ready_asset(stack, user="bob", scope="PROFILE_AVATAR")
    pending = stack.presign(
        filename="a.png", contentType="image/png", size=100, scope="PROFILE_AVATAR"
    ).get_json()["assetId"]

    problem(set_avatar(stack, post_image), 422, "scope-not-allowed")
    problem(set_avatar(stack, bobs), 403, "forbidden")
    problem(set_avatar(stack, pending), 409, "asset-not-ready")
    problem(set_avatar(stack, "00000000-0000-4000-8000-000000000000"), 404, "asset-not-found")
    problem(set_avatar(stack, "not-an-id"), 400, "invalid-request")

    assert records_of(stack, "avatar#alice") == {}


def test_clearing_no_avatar_is_204(stack: Stack) -> None:
    assert set_avatar(stack, None).status_code == 204


def test_a_user_with_no_avatar_is_404(stack: Stack) -> None:
    problem(stack.call("GET", "/users/carol/avatar"), 404, "avatar-not-found")
