"""GET /media/usage and GET /media/usage/breakdown: the caller's storage against their tier,
and this month's bandwidth."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import bandwidth, usage
from mediaport.api.resolver import (
    BEARER_AUTH,
    build_resolver,
    caller_id,
    caller_tier,
    problem_responses,
)
from mediaport.api.schemas import BandwidthView, CounterView, UsageBreakdownView, UsageView
from mediaport.observability import logger, metrics, tracer
from mediaport.services import current_services

app = build_resolver()


@app.get(
    "/media/usage",
    summary="My storage usage and bandwidth",
    description="Bytes and files stored (READY and QUARANTINED media), against the limits "
    "of the caller's tier (the token's tier claim; the default tier without one); and the "
    "bytes the CDN served of the caller's public media this month (UTC), against the "
    "tier's monthly bandwidth.",
    tags=["usage"],
    security=BEARER_AUTH,
    responses={200: {"description": "The caller's usage."}, **problem_responses(401, 503)},
)
@tracer.capture_method
def read_usage() -> UsageView:
    services = current_services()
    user, tier = caller_id(app), caller_tier(app, services.settings)
    current = usage.summary(services, user, tier)
    served = bandwidth.summary(services, user, tier)
    return UsageView(
        tier=current.tier,
        total_bytes=current.total.bytes,
        total_files=current.total.files,
        limit_bytes=current.limits.storage_bytes,
        max_files=current.limits.max_files,
        remaining_bytes=current.remaining_bytes,
        percent_used=current.percent_used,
        warning=current.warning,
        storage_warning_at=current.storage_warning_at,
        calculated_at=current.calculated_at,
        bandwidth=BandwidthView(
            month=served.month,
            used_bytes=served.used_bytes,
            limit_bytes=served.limit_bytes,
            percent_used=served.percent_used,
            warning=served.warning,
            warning_at=served.warning_at,
            reset_at=served.reset_at,
        ),
    )


@app.get(
    "/media/usage/breakdown",
    summary="My storage usage, broken down",
    description="Bytes and files per type category, per scope and per top-level folder.",
    tags=["usage"],
    security=BEARER_AUTH,
    responses={200: {"description": "The breakdown."}, **problem_responses(401, 503)},
)
@tracer.capture_method
def read_breakdown() -> UsageBreakdownView:
    parts = usage.breakdown(current_services(), caller_id(app))

    def views(counters: dict[str, usage.Counter]) -> dict[str, CounterView]:
        return {name: CounterView(bytes=c.bytes, files=c.files) for name, c in counters.items()}

    return UsageBreakdownView(
        by_type=views(parts.by_type),
        by_scope=views(parts.by_scope),
        by_folder=views(parts.by_folder),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
