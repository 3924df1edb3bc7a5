"""Settling an upload: verify what is in storage, then make the one state change.

Confirm and the S3 event path both call ``settle_upload``. The transition is a
conditional write, so whichever comes first decides and the other changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediaport import repository, storage
from mediaport.errors import ObjectNotUploaded
from mediaport.models import Asset, AssetStatus, Processing
from mediaport.policy import IMAGE_TYPES
from mediaport.verification import Rejection, verify_stored_object


@dataclass(frozen=True)
class Settlement:
    asset: Asset
    # True only for the caller whose write made the transition: it alone counts it.
    transitioned: bool


def settle_upload(asset: Asset) -> Settlement:
    """Verify a PENDING asset's object and mark it READY or REJECTED (at most once)."""
    for _attempt in range(2):
        try:
            return _verify_and_transition(asset)
        except (storage.ObjectChanged, ObjectNotUploaded) as problem:
            # Another settler (the S3 event, or a concurrent confirm) may have decided and
            # deleted the object before or while this one read it: its decision is the
            # answer. If nobody decided, a missing object is missing, and bytes replaced
            # mid-read are verified again.
            current = repository.get_asset(asset.asset_id)
            if current is not None and current.status is not AssetStatus.PENDING:
                return Settlement(current, transitioned=False)
            if isinstance(problem, ObjectNotUploaded):
                raise
    raise ObjectNotUploaded(f"the file for asset {asset.asset_id} changed while it was verified")


def initial_processing(media_type: str) -> Processing:
    """Images wait for their variants; other media have nothing to derive."""
    return Processing.PENDING if media_type in IMAGE_TYPES else Processing.SKIPPED


def _verify_and_transition(asset: Asset) -> Settlement:
    outcome = verify_stored_object(asset)
    if isinstance(outcome, Rejection):
        rejected = repository.mark_rejected_if_pending(
            asset.asset_id, outcome.reason, outcome.detail
        )
        if rejected is not None:
            # The record says REJECTED before the bytes go, so nothing is left half-done:
            # if this delete fails, the pending tag still lets the lifecycle rule remove it.
            storage.delete_object(asset.bucket, asset.key)
            return Settlement(rejected, transitioned=True)
    else:
        # Untag first: a READY asset whose object still carried the pending tag would be
        # expired by the lifecycle rule; an untagged PENDING one is only kept longer.
        storage.clear_tags(asset.bucket, asset.key)
        ready = repository.mark_ready_if_pending(
            asset.asset_id, outcome, initial_processing(outcome.mime_type)
        )
        if ready is not None:
            return Settlement(ready, transitioned=True)
    current = repository.get_asset(asset.asset_id)
    return Settlement(current or asset, transitioned=False)
