"""The jobs queue: work for transform_media (a requested variant, the thumbnails of a
released asset). The only module that talks to SQS."""

from __future__ import annotations

import functools
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mediaport.errors import JobsUnavailable
from mediaport.observability import logger


@functools.cache
def sqs_client() -> Any:
    """One SQS client per process (the region and any endpoint come from the environment)."""
    import boto3

    return boto3.client("sqs")


def send_job(queue_url: str, job: dict[str, Any]) -> None:
    """Queue one job (a small JSON object); ``JobsUnavailable`` when SQS cannot take it."""
    try:
        sqs_client().send_message(QueueUrl=queue_url, MessageBody=json.dumps(job))
    except (ClientError, BotoCoreError) as error:
        logger.warning("job not queued", extra={"job": job, "error": str(error)})
        raise JobsUnavailable("the work could not be queued; send the request again") from error
