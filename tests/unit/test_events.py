"""The events a write means, derived from the record before and after it, without I/O.

Each "after" here is made by the state machine's own transition (as the table adapter
applies it: the changes, one version more, a later updatedAt), so these are the records
the stream really carries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mediaport.events import DetailType, Event, UsageTotal, asset_events, usage_events
from mediaport.model import (
    Asset,
    AssetStatus,
    Processing,
    RejectReason,
    ScanStatus,
    ScanVerdict,
    Transition,
    Variant,
    VariantStatus,
    VerifiedObject,
)
from mediaport.serving import PublicUrls

ID = "7d3c1a52-9a4e-4b8e-9f0a-2f6f4c1f0b11"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
RECORDED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
VERIFIED = VerifiedObject(mime_type="image/jpeg", size=2048, checksum="c1", width=40, height=20)
NEW_BYTES = VerifiedObject(mime_type="image/jpeg", size=4096, checksum="c2", width=40, height=20)
CLEAN = ScanVerdict(ScanStatus.CLEAN, "NO_THREATS_FOUND", T0, quarantine=False)
INFECTED = ScanVerdict(ScanStatus.INFECTED, "THREATS_FOUND", T0, quarantine=True)
BLOCKED = ScanVerdict(ScanStatus.ERROR, "FAILED", T0, quarantine=True)
THUMBS = {
    name: Variant(key=f"derived/alice/{ID}/c1/{name}.webp", width=edge, height=edge // 2, bytes=99)
    for name, edge in (("128", 128), ("512", 512), ("1024", 1024))
}


def cdn(asset: Asset) -> PublicUrls:
    """Public URLs for every asset (the real rule, public scope and served, is the
    serving module's; here the derivation must not ask for URLs it must not give)."""
    return PublicUrls(
        original=f"https://cdn.example/{asset.key}",
        variants={name: f"https://cdn.example/{v.key}" for name, v in asset.variants.items()},
    )


def pending(**fields: object) -> Asset:
    return Asset(
        asset_id=ID,
        user_id="alice",
        scope="POST_ATTACHMENT",
        status=AssetStatus.PENDING,
        bucket="media",
        key=f"media/alice/{ID}/photo.jpg",
        filename="photo.jpg",
        original_filename="photo.jpg",
        declared_type="image/jpeg",
        declared_size=2048,
        folder="trips/alps",
        created_at=T0,
        updated_at=T0,
        version=1,
        **fields,
    )


def applied(asset: Asset, transition: Transition | None) -> Asset:
    """The record after the adapter applied ``transition``: one version more, later."""
    assert transition is not None
    # A removed map reads back empty, as the table adapter reads it.
    changes = {
        name: {} if value is None and name in ("variants", "requested_variants") else value
        for name, value in transition.changes.items()
    }
    return asset.model_copy(
        update={
            **changes,
            "version": (asset.version or 0) + 1,
            "updated_at": asset.updated_at + timedelta(minutes=1),
        }
    )


def derive(before: Asset | None, after: Asset | None) -> list[Event]:
    return asset_events(before, after, recorded_at=RECORDED, public_urls=cdn)


def types(events: list[Event]) -> list[DetailType]:
    return [event.detail_type for event in events]


def ready(scanning: bool = False) -> Asset:
    return applied(pending(), pending().mark_ready(VERIFIED, Processing.PENDING, scanning=scanning))


def processed() -> Asset:
    before = ready()
    return applied(
        before,
        before.record_rendition(
            width=40, height=20, dominant_color="#123456", placeholder="p", variants=THUMBS
        ),
    )


# --- Media Ready -----------------------------------------------------------------------


def test_a_new_pending_record_is_no_event() -> None:
    assert derive(None, pending()) == []


def test_an_upload_becoming_ready_is_media_ready_with_the_whole_detail() -> None:
    before = pending()
    after = ready()

    (event,) = derive(before, after)

    assert event.detail_type is DetailType.MEDIA_READY
    assert event.detail == {
        "eventId": f"{ID}:2:media-ready",
        "assetId": ID,
        "userId": "alice",
        "scope": "POST_ATTACHMENT",
        "status": "READY",
        "version": 2,
        "mimeType": "image/jpeg",
        "size": 2048,
        "folder": "trips/alps",
        "scanStatus": None,
        "occurredAt": "2026-11-22T10:01:00Z",
        "cdnUrl": f"https://cdn.example/media/alice/{ID}/photo.jpg",
        "variantUrls": {},
    }
    assert event.occurred_at == after.updated_at


def test_the_same_record_gives_the_same_event_id_again() -> None:
    first, again = derive(pending(), ready()), derive(pending(), ready())

    assert [e.event_id for e in first] == [e.event_id for e in again]


def test_with_scanning_on_media_ready_waits_for_the_clean_scan() -> None:
    settled = ready(scanning=True)
    assert settled.scan_status is ScanStatus.PENDING
    assert derive(pending(), settled) == []  # READY, but not served yet

    scanned = applied(settled, settled.record_scan(CLEAN))

    (event,) = derive(settled, scanned)
    assert event.detail_type is DetailType.MEDIA_READY
    assert event.detail["scanStatus"] == "CLEAN"
    assert event.detail["eventId"] == f"{ID}:3:media-ready"


def test_new_bytes_of_a_ready_asset_are_media_ready_again_with_a_new_id() -> None:
    before = processed()
    after = applied(before, before.accept_overwrite(NEW_BYTES, Processing.PENDING))

    (event,) = derive(before, after)

    assert event.detail_type is DetailType.MEDIA_READY
    assert (event.detail["size"], event.detail["eventId"]) == (4096, f"{ID}:4:media-ready")


def test_a_blocked_asset_found_clean_later_is_media_ready() -> None:
    settled = ready(scanning=True)
    blocked = applied(settled, settled.record_scan(BLOCKED))
    assert blocked.status is AssetStatus.QUARANTINED

    cleared = applied(blocked, blocked.record_scan(CLEAN))

    assert types(derive(blocked, cleared)) == [DetailType.MEDIA_READY]


# --- Rejected, quarantined, released ---------------------------------------------------------


def test_a_rejected_upload_is_media_rejected_with_its_reason() -> None:
    before = pending()
    after = applied(
        before, before.mark_rejected(RejectReason.TYPE_MISMATCH, "not a jpeg", keep_until=T0)
    )

    (event,) = derive(before, after)

    assert event.detail_type is DetailType.MEDIA_REJECTED
    assert (event.detail["rejectReason"], event.detail["rejectDetail"]) == (
        "TYPE_MISMATCH",
        "not a jpeg",
    )
    assert event.detail["cdnUrl"] is None
    assert event.detail["eventId"] == f"{ID}:2:media-rejected"


def test_a_ready_asset_whose_new_bytes_fail_is_media_rejected() -> None:
    before = processed()
    after = applied(
        before, before.reject_ready(RejectReason.UNRECOGNIZED_TYPE, "html", keep_until=T0)
    )

    assert types(derive(before, after)) == [DetailType.MEDIA_REJECTED]


def test_a_threat_found_at_settle_is_media_quarantined_and_never_ready() -> None:
    before = pending()
    after = applied(
        before, before.mark_ready(VERIFIED, Processing.PENDING, INFECTED, scanning=True)
    )

    (event,) = derive(before, after)

    assert event.detail_type is DetailType.MEDIA_QUARANTINED
    assert (event.detail["status"], event.detail["scanResult"]) == ("QUARANTINED", "THREATS_FOUND")
    assert event.detail["cdnUrl"] is None


def test_a_threat_found_after_ready_is_media_quarantined() -> None:
    settled = ready(scanning=True)
    served = applied(settled, settled.record_scan(CLEAN))
    infected = applied(served, served.record_scan(INFECTED))

    assert types(derive(served, infected)) == [DetailType.MEDIA_QUARANTINED]


def test_an_admins_release_is_media_released_only() -> None:
    settled = ready(scanning=True)
    quarantined = applied(settled, settled.record_scan(INFECTED))
    released = applied(
        quarantined,
        quarantined.release(
            by="admin", reason="false positive", now=T0, key=f"released/{ID}", checksum="c9"
        ),
    )

    (event,) = derive(quarantined, released)

    assert event.detail_type is DetailType.MEDIA_RELEASED
    assert event.detail["releasedAt"] == "2026-11-22T10:00:00Z"
    assert event.detail["status"] == "READY"
    assert event.detail["cdnUrl"] == f"https://cdn.example/released/{ID}"


# --- Deleted, restored, purged ---------------------------------------------------------------


def test_a_delete_is_media_deleted_without_urls() -> None:
    before = processed()
    after = applied(before, before.soft_delete(now=T0, purge_at=T0 + timedelta(days=30)))

    (event,) = derive(before, after)

    assert event.detail_type is DetailType.MEDIA_DELETED
    assert event.detail["purgeAt"] == "2026-12-22T10:00:00Z"
    assert (event.detail["cdnUrl"], event.detail["variantUrls"]) == (None, {})


@pytest.mark.parametrize(
    ("scan", "status"),
    [(None, AssetStatus.READY), (ScanStatus.INFECTED, AssetStatus.QUARANTINED)],
)
def test_a_restore_is_media_restored_in_the_status_it_returns_to(
    scan: ScanStatus | None, status: AssetStatus
) -> None:
    before = processed().model_copy(update={"scan_status": scan})
    deleted = applied(before, before.soft_delete(now=T0, purge_at=T0 + timedelta(days=30)))
    restored = applied(deleted, deleted.restore(now=T0))

    (event,) = derive(deleted, restored)

    assert event.detail_type is DetailType.MEDIA_RESTORED
    assert event.detail["status"] == status.value


def test_the_purge_tombstone_is_media_purged_and_the_ttl_removal_is_none() -> None:
    live = processed()
    deleted = applied(live, live.soft_delete(now=T0, purge_at=T0 + timedelta(days=30)))
    purged_at = T0 + timedelta(days=30, minutes=2)
    # TTL removes the record (a REMOVE), then expire_assets writes its tombstone (an INSERT).
    tombstone = deleted.model_copy(update={"purged_at": purged_at, "variants": {}, "version": 1})

    assert derive(deleted, None) == []
    (event,) = derive(None, tombstone)
    assert event.detail_type is DetailType.MEDIA_PURGED
    assert event.detail["eventId"] == f"{ID}:1:media-purged"
    assert event.detail["purgedAt"] == event.detail["occurredAt"] == "2026-12-22T10:02:00Z"
    assert derive(tombstone, tombstone.model_copy(update={"version": 2})) == []


# --- Variant Ready ---------------------------------------------------------------------------


def test_recorded_thumbnails_are_one_variant_ready_each() -> None:
    before = ready()
    after = processed()

    events = derive(before, after)

    assert types(events) == [DetailType.VARIANT_READY] * 3
    assert [e.event_id for e in events] == [
        f"{ID}:3:variant-ready:1024",
        f"{ID}:3:variant-ready:128",
        f"{ID}:3:variant-ready:512",
    ]
    variant = events[1].detail["variant"]
    assert variant == {
        "name": "128",
        "kind": "thumbnail",
        "width": 128,
        "height": 64,
        "format": "webp",
        "bytes": 99,
        "cdnUrl": f"https://cdn.example/{THUMBS['128'].key}",
    }
    assert set(events[1].detail["variantUrls"]) == {"128", "512", "1024"}


def test_a_requested_variant_made_is_variant_ready_and_its_request_is_none() -> None:
    base = processed()
    wanted = Variant(
        key=f"derived/alice/{ID}/c1/w300.webp",
        width=300,
        height=150,
        status=VariantStatus.PENDING,
        params={"operation": "resize", "width": 300},
    )
    requested = applied(base, base.request_variant("w300", wanted, max_requested=20))
    assert derive(base, requested) == []

    made = applied(requested, requested.record_variant("w300", size=777))

    (event,) = derive(requested, made)
    assert event.detail_type is DetailType.VARIANT_READY
    assert event.event_id == f"{ID}:5:variant-ready:w300"
    assert (event.detail["variant"]["kind"], event.detail["variant"]["bytes"]) == (
        "requested",
        777,
    )


def test_thumbnails_of_an_asset_waiting_for_its_scan_carry_no_urls() -> None:
    settled = ready(scanning=True)
    after = applied(
        settled,
        settled.record_rendition(
            width=40, height=20, dominant_color="#123456", placeholder="p", variants=THUMBS
        ),
    )

    events = derive(settled, after)

    assert types(events) == [DetailType.VARIANT_READY] * 3
    assert all(e.detail["variant"]["cdnUrl"] is None for e in events)
    assert all(e.detail["cdnUrl"] is None for e in events)


# --- Writes the host app does not hear of ---------------------------------------------------


def test_writes_that_change_nothing_event_worthy_are_no_events() -> None:
    live = processed()
    moved = applied(live, live.edit({"folder": "trips/2027", "tags": ["x"]}))
    attached = applied(moved, moved.attach(T0))
    detached = applied(attached, attached.detach())
    failing = applied(ready(), ready().mark_processing_failed())
    wanted = Variant(key="k", width=1, height=1, status=VariantStatus.PENDING, params={})
    requested = applied(live, live.request_variant("v", wanted, max_requested=20))
    failed = applied(requested, requested.fail_variant("v", "NOT_SMALLER", "larger"))
    clean_again = live.model_copy(update={"scan_status": ScanStatus.CLEAN, "version": 9})

    for before, after in [
        (live, moved),
        (moved, attached),
        (attached, detached),
        (ready(), failing),
        (requested, failed),
        (live, clean_again),
        (pending(), None),  # an expired upload's removal
    ]:
        assert derive(before, after) == [], (before.version, after and after.version)


def test_every_transition_of_a_life_has_its_own_event_id() -> None:
    a = pending()
    b = ready()
    c = processed()
    d = applied(c, c.soft_delete(now=T0, purge_at=T0 + timedelta(days=1)))
    e = applied(d, d.restore(now=T0))
    ids = [event.event_id for pair in [(a, b), (b, c), (d, e), (c, d)] for event in derive(*pair)]

    assert len(ids) == len(set(ids)) == 6


# --- Storage Warning -------------------------------------------------------------------------


def total(level: int, at: datetime | None = None, used: int = 900) -> UsageTotal:
    return UsageTotal("alice", bytes=used, files=3, warning_level=level, storage_warning_at=at)


def test_a_warning_level_going_up_is_a_storage_warning() -> None:
    at = T0 + timedelta(hours=1)

    (event,) = usage_events(total(0), total(80, at), recorded_at=RECORDED)

    assert event.detail_type is DetailType.STORAGE_WARNING
    assert event.detail == {
        "eventId": "alice:80:2026-11-22T11:00:00Z",
        "userId": "alice",
        "level": 80,
        "usedBytes": 900,
        "usedFiles": 3,
        "occurredAt": "2026-11-22T11:00:00Z",
    }
    (full,) = usage_events(total(80, at), total(100, at + timedelta(hours=1)), recorded_at=T0)
    assert full.event_id == "alice:100:2026-11-22T12:00:00Z"
    assert usage_events(None, total(80, at), recorded_at=T0)[0].event_id == event.event_id


def test_usage_changes_below_a_new_level_are_no_storage_warning() -> None:
    at = T0
    assert usage_events(total(80, at, 900), total(80, at, 950), recorded_at=RECORDED) == []
    assert usage_events(total(100, at), total(0, at), recorded_at=RECORDED) == []
    assert usage_events(None, total(0), recorded_at=RECORDED) == []
    assert usage_events(total(80, at), None, recorded_at=RECORDED) == []
