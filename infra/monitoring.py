"""Alarms: anything in a dead-letter queue (uploads, expiries, transform jobs, stream
events, webhooks, CDN log files, scan results), any function error, and the failures the
functions count without raising (a refused CDN invalidation)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constants import POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME


class Alarms(Construct):
    """One alarm per failure signal; wire their actions (SNS, chat) per deployment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        functions: Mapping[str, lambda_.IFunction],
        failure_metrics: Mapping[str, str] | None = None,
    ) -> None:
        """``failure_metrics``: {metric name: what it means}, for the Powertools metrics
        (namespace and service dimension of every function) that count a failure the
        function logged instead of raising."""
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = [
            cloudwatch.Alarm(
                self,
                # The first queue keeps the id it had when it was the only one.
                "DeadLetters" if index == 0 else f"{name}DeadLetters",
                alarm_description=f"{name}: events failed all their retries and are in a DLQ.",
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
                ),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for index, (name, queue) in enumerate(dead_letter_queues.items())
        ]
        for name, function in functions.items():
            self.alarms.append(
                cloudwatch.Alarm(
                    self,
                    f"{name}-errors",
                    alarm_description=f"The {name} function raised errors.",
                    metric=function.metric_errors(
                        period=Duration.minutes(5), statistic=cloudwatch.Stats.SUM
                    ),
                    threshold=0,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
        for metric_name, meaning in (failure_metrics or {}).items():
            self.alarms.append(
                cloudwatch.Alarm(
                    self,
                    metric_name,
                    alarm_description=meaning,
                    metric=cloudwatch.Metric(
                        namespace=POWERTOOLS_METRICS_NAMESPACE,
                        metric_name=metric_name,
                        dimensions_map={"service": POWERTOOLS_SERVICE_NAME},
                        period=Duration.minutes(5),
                        statistic=cloudwatch.Stats.SUM,
                    ),
                    threshold=0,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
