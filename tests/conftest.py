"""Every test runs with dummy AWS credentials: nothing here may ever reach a real account."""

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
    os.environ.pop(name, None)


def _share_botocore_models() -> None:
    """One botocore data loader for the whole test process.

    moto resets boto3's default session at every ``mock_aws`` start, and every new botocore
    session builds a loader of its own that parses the service models (S3's, DynamoDB's…)
    from JSON again: about half a second per integration test, a third of the suite's
    time, spent re-reading the same files. A loader only reads files and caches what it
    read, so every session may share one; nothing of ours is changed by it.
    """
    import functools

    import botocore.session

    botocore.session.create_loader = functools.cache(botocore.session.create_loader)


_share_botocore_models()
