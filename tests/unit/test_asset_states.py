"""The asset's state machine, decided without I/O."""

from datetime import UTC, datetime

import pytest

from mediaport.model import (
    Asset,
    AssetStatus,
    IllegalTransition,
    Processing,
    RejectReason,
    Variant,
    VerifiedObject,
)

LATER = datetime(2026, 12, 21, tzinfo=UTC)
VERIFIED = VerifiedObject(mime_type="image/png", size=10, checksum="abc", width=40, height=20)


def asset(status: AssetStatus = AssetStatus.PENDING, **fields: object) -> Asset:
    return Asset(
        asset_id="a1",
        user_id="alice",
        scope="GENERIC",
        status=status,
        bucket="media",
        key="media/alice/a1/f.png",
        filename="f.png",
        original_filename="f.png",
        declared_type="image/png",
        declared_size=10,
        **fields,
    )


def ready(**fields: object) -> Asset:
    return asset(AssetStatus.READY, checksum="abc", processing=Processing.PENDING, **fields)


def test_a_pending_asset_becomes_ready_with_its_facts_and_loses_its_ttl() -> None:
    transition = asset().mark_ready(VERIFIED, Processing.PENDING)

    assert transition.expect_status is AssetStatus.PENDING
    assert transition.changes["status"] is AssetStatus.READY
    assert transition.changes["expires_at"] is None
    assert (transition.changes["width"], transition.changes["aspect_ratio"]) == (40, 2.0)


def test_a_rejected_asset_keeps_its_record_until_a_set_time() -> None:
    transition = asset().mark_rejected(RejectReason.SIZE_MISMATCH, "why", keep_until=LATER)

    assert transition.changes["status"] is AssetStatus.REJECTED
    assert transition.changes["expires_at"] == LATER


@pytest.mark.parametrize("status", [s for s in AssetStatus if s is not AssetStatus.PENDING])
def test_only_a_pending_asset_settles(status: AssetStatus) -> None:
    with pytest.raises(IllegalTransition):
        asset(status, checksum="abc").mark_ready(VERIFIED, Processing.PENDING)
    with pytest.raises(IllegalTransition):
        asset(status).mark_rejected(RejectReason.EMPTY_FILE, "why", keep_until=LATER)


def test_a_rejected_overwrite_clears_every_fact_of_the_old_bytes() -> None:
    previous = ready(width=40, height=20, placeholder="data:", variants={})

    transition = previous.reject_ready(RejectReason.TYPE_MISMATCH, "why", keep_until=LATER)

    assert transition.expect_checksum == "abc"
    for name in ("width", "height", "aspect_ratio", "dominant_color", "placeholder", "variants"):
        assert transition.changes[name] is None
    for name in ("mime_type", "size", "checksum", "processing"):
        assert transition.changes[name] is None
    assert transition.changes["status"] is AssetStatus.REJECTED


def test_an_accepted_overwrite_replaces_the_facts_and_drops_what_was_derived() -> None:
    new = VerifiedObject(mime_type="application/pdf", size=10, checksum="def")

    transition = ready(width=40, height=20).accept_overwrite(new, Processing.SKIPPED)

    assert transition.expect_checksum == "abc"
    assert transition.changes["checksum"] == "def"
    assert transition.changes["width"] is None
    assert transition.changes["variants"] is None
    assert "status" not in transition.changes


def test_variants_are_recorded_only_for_the_bytes_they_were_made_from() -> None:
    variant = Variant(key="derived/x.webp", width=4, height=2, bytes=9)

    transition = ready().record_rendition(
        width=40, height=20, dominant_color="#000000", placeholder="p", variants={"128": variant}
    )

    assert transition.expect_checksum == "abc"
    assert transition.expect_processing == (Processing.PENDING,)
    assert transition.changes["processing"] is Processing.DONE


def test_processing_of_an_asset_that_is_not_ready_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        asset().mark_processing_failed()
    with pytest.raises(IllegalTransition):
        asset(AssetStatus.READY).mark_processing_failed()  # READY without a checksum
