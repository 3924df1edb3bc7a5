"""Logger, Tracer and Metrics: one of each per process, shared by every function."""

from aws_lambda_powertools import Logger, Metrics, Tracer

# These read their settings (POWERTOOLS_*) from the environment; none touches AWS.
logger = Logger(service="mediaport")
tracer = Tracer(service="mediaport")
metrics = Metrics(namespace="Mediaport", service="mediaport")
