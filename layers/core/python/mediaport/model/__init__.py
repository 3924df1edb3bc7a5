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

__all__ = [
    "Asset",
    "AssetStatus",
    "CamelModel",
    "IllegalTransition",
    "Processing",
    "RejectReason",
    "Transition",
    "Variant",
    "VerifiedObject",
    "utcnow",
]
