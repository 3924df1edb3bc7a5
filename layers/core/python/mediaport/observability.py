"""Logger, Tracer and Metrics: one of each per process, shared by every function."""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# A read that counts nothing is normal here; Powertools would warn on every such call.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

# These read their settings (POWERTOOLS_*) from the environment; none touches AWS.
logger = Logger(service="mediaport")
tracer = Tracer(service="mediaport")
metrics = Metrics(namespace="Mediaport", service="mediaport")
