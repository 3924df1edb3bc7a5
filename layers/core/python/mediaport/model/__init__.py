"""The domain model: pure data and rules, no I/O."""

from mediaport.model.asset import (
    Asset,
    AssetStatus,
    CamelModel,
    IllegalTransition,
    Processing,
    RejectReason,
    Transition,
    Variant,
    VerifiedObject,
    utcnow,
)
from mediaport.model.usage import (
    DEFAULT_TIER,
    DEFAULT_TIERS,
    Quota,
    TierLimits,
    UsageDelta,
    UsageRow,
)

__all__ = [
    "DEFAULT_TIER",
    "DEFAULT_TIERS",
    "Asset",
    "AssetStatus",
    "CamelModel",
    "IllegalTransition",
    "Processing",
    "Quota",
    "RejectReason",
    "TierLimits",
    "Transition",
    "UsageDelta",
    "UsageRow",
    "Variant",
    "VerifiedObject",
    "utcnow",
]
