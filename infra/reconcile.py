"""Usage reconcile: a daily EventBridge schedule → reconcile_usage.

The function recomputes every user's usage from their assets and reports drift (a log
line per drifting user and the ``UsageDrift`` metric); with the ``reconcileFix`` context
value it also corrects what it finds.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from mediaport import names

# What the function's settings read (``ReconcileSettings.reconcile_fix``).
ENV_RECONCILE_FIX = names.ENV_RECONCILE_FIX
# Once a day, at a quiet hour (UTC).
RECONCILE_SCHEDULE = events.Schedule.cron(minute="17", hour="3")
# A failed run is retried a little; the next day's run is the real retry.
RECONCILE_RETRY_ATTEMPTS = 2
RECONCILE_MAX_EVENT_AGE = Duration.hours(2)


class UsageReconcile(Construct):
    """Run the reconciler once a day; tell it whether to correct drift."""

    def __init__(
        self, scope: Construct, construct_id: str, *, reconciler: lambda_.Function, fix: bool
    ) -> None:
        super().__init__(scope, construct_id)
        reconciler.add_environment(ENV_RECONCILE_FIX, "true" if fix else "false")
        self.rule = events.Rule(
            self,
            "Daily",
            description="Recompute every user's storage usage and report drift",
            schedule=RECONCILE_SCHEDULE,
        )
        self.rule.add_target(
            targets.LambdaFunction(
                reconciler,
                retry_attempts=RECONCILE_RETRY_ATTEMPTS,
                max_event_age=RECONCILE_MAX_EVENT_AGE,
            )
        )
