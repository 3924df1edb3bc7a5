"""The scan and variant transitions of the asset's state machine, and the geometry of a
requested variant: decided without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mediaport.model import (
    AssetStatus,
    IllegalTransition,
    Processing,
    ScanStatus,
    ScanVerdict,
    Variant,
    VariantLimitReached,
    VariantStatus,
)
from mediaport.model.variants import (
    MAX_OUTPUT_EDGE,
    Fit,
    LimitExceeded,
    Operation,
    OutputFormat,
    OutsideImage,
    VariantSpec,
    same_format,
)
from tests.unit.test_asset_states import VERIFIED, asset, ready

NOW = datetime(2026, 11, 22, tzinfo=UTC)
CLEAN = ScanVerdict(ScanStatus.CLEAN, "NO_THREATS_FOUND", NOW, quarantine=False)
INFECTED = ScanVerdict(ScanStatus.INFECTED, "THREATS_FOUND", NOW, quarantine=True)
BLOCKED = ScanVerdict(ScanStatus.ERROR, "FAILED", NOW, quarantine=True)
SERVED_ERROR = ScanVerdict(ScanStatus.ERROR, "FAILED", NOW, quarantine=False)
THUMB = Variant(key="derived/k.webp", width=10, height=10, bytes=5)


def test_with_scanning_on_a_settled_asset_waits_for_its_scan() -> None:
    transition = asset().mark_ready(VERIFIED, Processing.PENDING, scanning=True)

    assert transition.changes["status"] is AssetStatus.READY
    assert transition.changes["scan_status"] is ScanStatus.PENDING


def test_with_scanning_off_no_scan_field_is_written() -> None:
    assert "scan_status" not in asset().mark_ready(VERIFIED, Processing.PENDING).changes


@pytest.mark.parametrize("verdict", [INFECTED, BLOCKED])
def test_a_result_known_at_settle_quarantines_at_once(verdict: ScanVerdict) -> None:
    transition = asset().mark_ready(VERIFIED, Processing.PENDING, verdict, scanning=True)

    assert transition.changes["status"] is AssetStatus.QUARANTINED
    assert transition.changes["processing"] is Processing.SKIPPED
    assert transition.changes["scan_status"] is verdict.status


def test_served_means_ready_and_not_waiting_for_a_scan() -> None:
    assert ready().served
    assert ready(scan_status=ScanStatus.CLEAN).served
    assert ready(scan_status=ScanStatus.ERROR).served  # only READY under the serve policy
    assert not ready(scan_status=ScanStatus.PENDING).served
    assert not asset(AssetStatus.QUARANTINED, checksum="abc").served


def test_a_threat_quarantines_a_ready_asset_and_its_variants_go() -> None:
    transition = ready(scan_status=ScanStatus.PENDING, variants={"128": THUMB}, version=3)
    decided = transition.record_scan(INFECTED)

    assert decided is not None
    assert decided.changes["status"] is AssetStatus.QUARANTINED
    assert decided.changes["variants"] == {}
    assert (decided.expect_checksum, decided.expect_version) == ("abc", 3)


def test_clean_serves_and_a_duplicate_changes_nothing() -> None:
    decided = ready(scan_status=ScanStatus.PENDING).record_scan(CLEAN)
    assert decided is not None
    assert decided.changes["scan_status"] is ScanStatus.CLEAN
    assert "status" not in decided.changes

    done = ready(scan_status=ScanStatus.CLEAN, scan_result="NO_THREATS_FOUND")
    assert done.record_scan(CLEAN) is None


def test_an_error_blocks_or_serves_by_policy_and_a_clean_rescan_unblocks() -> None:
    blocked = ready(scan_status=ScanStatus.PENDING).record_scan(BLOCKED)
    served = ready(scan_status=ScanStatus.PENDING).record_scan(SERVED_ERROR)
    assert blocked is not None
    assert served is not None
    assert blocked.changes["status"] is AssetStatus.QUARANTINED
    assert "status" not in served.changes

    rescanned = asset(
        AssetStatus.QUARANTINED, checksum="abc", mime_type="image/png", scan_status=ScanStatus.ERROR
    ).record_scan(CLEAN)
    assert rescanned is not None
    assert rescanned.changes["status"] is AssetStatus.READY
    assert rescanned.changes["processing"] is Processing.PENDING


def test_after_a_threat_or_a_release_a_result_changes_nothing() -> None:
    infected = asset(AssetStatus.QUARANTINED, checksum="abc", scan_status=ScanStatus.INFECTED)
    released = ready(scan_status=ScanStatus.CLEAN, released_at=NOW)

    assert infected.record_scan(CLEAN) is None
    assert released.record_scan(INFECTED) is None


@pytest.mark.parametrize("status", [AssetStatus.PENDING, AssetStatus.REJECTED])
def test_a_result_for_an_unsettled_or_rejected_asset_is_refused(status: AssetStatus) -> None:
    with pytest.raises(IllegalTransition):
        asset(status).record_scan(CLEAN)


def test_a_release_moves_the_key_marks_it_clean_and_makes_variants_again() -> None:
    quarantined = asset(
        AssetStatus.QUARANTINED, checksum="abc", mime_type="image/png", variants={"1": THUMB}
    )

    transition = quarantined.release(
        by="root", reason="false positive", now=NOW, key="released/k", checksum="def"
    )

    assert transition.expect_status is AssetStatus.QUARANTINED
    assert transition.expect_checksum == "abc"
    assert transition.changes["status"] is AssetStatus.READY
    assert transition.changes["scan_status"] is ScanStatus.CLEAN
    assert (transition.changes["key"], transition.changes["checksum"]) == ("released/k", "def")
    assert transition.changes["processing"] is Processing.PENDING
    with pytest.raises(IllegalTransition):
        ready().release(by="root", reason="x", now=NOW, key="k", checksum="c")


@pytest.mark.parametrize(
    ("scan", "blocking", "restored_to"),
    [
        (None, True, AssetStatus.READY),
        (ScanStatus.CLEAN, True, AssetStatus.READY),
        (ScanStatus.INFECTED, False, AssetStatus.QUARANTINED),
        (ScanStatus.ERROR, True, AssetStatus.QUARANTINED),
        (ScanStatus.ERROR, False, AssetStatus.READY),
    ],
)
def test_a_restore_returns_to_quarantine_when_the_scan_says_so(
    scan: ScanStatus | None, blocking: bool, restored_to: AssetStatus
) -> None:
    deleted = asset(AssetStatus.DELETED, checksum="abc", scan_status=scan)

    transition = deleted.restore(now=NOW, block_scan_errors=blocking)

    assert transition.changes["status"] is restored_to


def pending_variant(name: str = "resize-1") -> Variant:
    return Variant(
        key=f"derived/{name}.webp",
        width=10,
        height=10,
        status=VariantStatus.PENDING,
        params={"operation": "resize", "width": 10, "format": "webp", "quality": 80},
    )


def test_a_requested_variant_is_added_on_the_version_read_within_the_limit() -> None:
    image = ready(mime_type="image/png", version=7)

    transition = image.request_variant("resize-1", pending_variant(), max_requested=2)

    assert transition.expect_version == 7
    assert set(transition.changes["requested_variants"]) == {"resize-1"}
    full = ready(
        requested_variants={"a": pending_variant("a"), "b": pending_variant("b")}, version=1
    )
    with pytest.raises(VariantLimitReached):
        full.request_variant("c", pending_variant("c"), max_requested=2)
    # Asking again for one it has is no new variant.
    assert full.request_variant("a", pending_variant("a"), max_requested=2)


def test_a_variant_waiting_for_the_scan_cannot_be_asked_for() -> None:
    with pytest.raises(IllegalTransition):
        ready(scan_status=ScanStatus.PENDING).request_variant(
            "r", pending_variant(), max_requested=5
        )


def test_recording_the_optimized_variant_records_the_saving() -> None:
    image = ready(requested_variants={"optimized": pending_variant("optimized")}, version=2)

    transition = image.record_variant("optimized", size=250, original_size=1000)

    made = transition.changes["requested_variants"]["optimized"]
    assert (made.status, made.bytes) == (VariantStatus.READY, 250)
    assert transition.changes["compression_ratio"] == 4.0
    with pytest.raises(IllegalTransition):
        ready(version=2).record_variant("optimized", size=1)


def test_new_bytes_drop_every_variant() -> None:
    image = ready(variants={"128": THUMB}, requested_variants={"r": pending_variant("r")})

    changes = image.accept_overwrite(VERIFIED, Processing.PENDING).changes

    assert changes["variants"] is None
    assert changes["requested_variants"] is None


# --- the geometry of a requested variant -------------------------------------------------


def resize(width: int | None, height: int | None, fit: Fit | None = Fit.COVER) -> VariantSpec:
    return VariantSpec(Operation.RESIZE, OutputFormat.WEBP, width=width, height=height, fit=fit)


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        (resize(100, 100, Fit.COVER), (100, 100)),
        (resize(100, 100, Fit.CONTAIN), (100, 100)),
        (resize(100, 100, Fit.FILL), (100, 100)),
        (resize(100, 100, Fit.INSIDE), (100, 50)),
        (resize(1000, 1000, Fit.INSIDE), (1000, 500)),
        (resize(300, None, None), (300, 150)),
        (resize(None, 50, None), (100, 50)),
        (resize(1, None, None), (1, 1)),
    ],
)
def test_a_resize_makes_the_size_its_fit_says(spec: VariantSpec, size: tuple[int, int]) -> None:
    assert spec.output_size(400, 200) == size


def test_a_crop_must_be_inside_the_image() -> None:
    crop = VariantSpec(Operation.CROP, OutputFormat.PNG, x=300, y=100, width=100, height=100)
    assert crop.output_size(400, 200) == (100, 100)
    with pytest.raises(OutsideImage):
        crop.output_size(399, 200)


def test_limits_name_what_they_limit() -> None:
    with pytest.raises(LimitExceeded) as edge:
        resize(MAX_OUTPUT_EDGE + 1, None).check_limits(400, 200, 10**9)
    with pytest.raises(LimitExceeded) as pixels:
        resize(1000, 1000, Fit.FILL).check_limits(400, 200, 999_999)

    assert (edge.value.limit, edge.value.maximum) == ("max-output-edge", MAX_OUTPUT_EDGE)
    assert (pixels.value.limit, pixels.value.maximum) == ("max-image-pixels", 999_999)


def test_equal_requests_have_one_name_and_params_round_trip() -> None:
    first, same, other = resize(10, 20), resize(10, 20), resize(10, 21)

    assert first.name == same.name != other.name
    assert VariantSpec.from_params(first.params()) == first
    optimize = VariantSpec(Operation.OPTIMIZE, OutputFormat.JPEG, quality=60)
    assert optimize.name == "optimized"
    assert optimize.file_stem != VariantSpec(Operation.OPTIMIZE, OutputFormat.JPEG).file_stem


def test_a_crop_or_optimize_keeps_the_original_format_but_gif() -> None:
    assert same_format("image/jpeg") is OutputFormat.JPEG
    assert same_format("image/png") is OutputFormat.PNG
    assert same_format("image/gif") is OutputFormat.WEBP
