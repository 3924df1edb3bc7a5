"""EventBridge schedule → reconcile_usage: recompute every user's usage and report drift.

Drift is logged per user ("usage drift") and counted in the ``UsageDrift`` metric. With
``MEDIAPORT_RECONCILE_FIX`` (the stack's ``reconcileFix`` context value) the drifting rows
are corrected too; by default they are only reported.
"""

import functools
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediaport.observability import logger, metrics, tracer
from mediaport.reconcile import reconcile_all
from mediaport.services import current_services


class ReconcileSettings(BaseSettings):
    """Whether a run corrects what it finds (the stack sets it from ``reconcileFix``)."""

    model_config = SettingsConfigDict(env_prefix="MEDIAPORT_", extra="ignore", frozen=True)

    reconcile_fix: bool = False


@functools.cache
def reconcile_settings() -> ReconcileSettings:
    """Read once per cold start."""
    return ReconcileSettings()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    fix = reconcile_settings().reconcile_fix
    results = reconcile_all(current_services(), fix=fix)
    drifting = [result for result in results if result.rows]
    summary = {
        "scheduledAt": event.time,
        "fix": fix,
        "users": len(results),
        "driftingRows": sum(len(result.drifting) for result in results),
        "fixedRows": sum(1 for result in results for row in result.rows if row.outcome == "fixed"),
        "changedMeanwhile": sum(
            1 for result in results for row in result.rows if row.outcome == "changed meanwhile"
        ),
        "drift": [result.as_dict() for result in drifting],
    }
    logger.info("usage reconciled", extra={k: v for k, v in summary.items() if k != "drift"})
    return summary
