"""The CDN: CloudFront invalidations. The only module that talks to CloudFront.

A delete, a quarantine or a purge has already happened when it asks for one, and the
change must not be undone because the edge could not be told: a refused invalidation is
logged (with its paths, to run it by hand) and counted (``CdnInvalidationFailures``,
alarmed), never raised.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from mediaport.observability import logger, metrics

# CloudFront takes at most this many paths in one invalidation.
MAX_PATHS = 3000


@functools.cache
def cloudfront_client() -> Any:
    """One CloudFront client per process, built on first use (CloudFront is global: its
    API is in us-east-1 whatever the function's region)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5})
    return boto3.client("cloudfront", region_name="us-east-1", config=config)


def invalidate(distribution_id: str | None, paths: Sequence[str], reference: str) -> str | None:
    """Ask CloudFront to drop ``paths`` from its edges; the invalidation's id, or None when
    there is no distribution (locally, or no CDN), nothing to drop, or CloudFront refused.

    ``reference`` names the change (e.g. the asset and its version): the same one sent
    again is the same invalidation, not a second.
    """
    if not distribution_id or not paths:
        return None
    unique = list(dict.fromkeys(paths))[:MAX_PATHS]
    digest = hashlib.sha256("\n".join(unique).encode()).hexdigest()[:16]
    try:
        answer = cloudfront_client().create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(unique), "Items": unique},
                "CallerReference": f"{reference}-{digest}"[:128],
            },
        )
    except (ClientError, BotoCoreError) as error:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else None
        logger.error(
            "CDN invalidation failed",
            extra={"distributionId": distribution_id, "paths": unique, "code": code},
        )
        metrics.add_metric(name="CdnInvalidationFailures", unit=MetricUnit.Count, value=1)
        return None
    invalidation_id = str(answer["Invalidation"]["Id"])
    logger.info("CDN invalidation", extra={"invalidationId": invalidation_id, "paths": unique})
    return invalidation_id
