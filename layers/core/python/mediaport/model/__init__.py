"""The domain model: pure data and rules, no I/O."""

from mediaport.model.asset import (
    Asset,
    AssetStatus,
    CamelModel,
    IllegalTransition,
    Processing,
    RejectReason,
    ScanStatus,
    ScanVerdict,
    Transition,
    Variant,
    VariantLimitReached,
    VariantStatus,
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
    "ScanStatus",
    "ScanVerdict",
    "TierLimits",
    "Transition",
    "UsageDelta",
    "UsageRow",
    "Variant",
    "VariantLimitReached",
    "VariantStatus",
    "VerifiedObject",
    "utcnow",
]
