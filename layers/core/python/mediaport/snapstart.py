"""What a SnapStart snapshot should hold: the modules a first request would load.

An API function's cold start loads only what every request needs; the table adapters
(pynamodb), boto3, botocore's client, the X-Ray SDK and Powertools' idempotency load with
the first request that uses them. Under SnapStart (``snapStart=true``; Lambda sets
``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``) init runs once, when a version is
published, and every new execution environment is restored from its snapshot: loading
them during init costs no user anything, and saves each restored environment's first
request from loading them.

Nothing unique or secret is made here: no client (it would hold credentials and
connections a restored copy must not share), no settings, no random value. Clients are
still built by the first request after a restore.
"""

from __future__ import annotations

import os

from mediaport.names import ENV_IDEMPOTENCY_TABLE_NAME

SNAP_START = "snap-start"


def snapshotting() -> bool:
    """Whether this init is the one Lambda takes a SnapStart snapshot of."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == SNAP_START


def preload_for_snapshot() -> None:
    """Under SnapStart, import now what the first request would; otherwise nothing."""
    if not snapshotting():
        return
    import boto3  # noqa: F401
    import botocore.client  # noqa: F401

    import mediaport.adapters.attachments
    import mediaport.adapters.folders
    import mediaport.adapters.sessions
    import mediaport.adapters.tables
    import mediaport.adapters.usage
    import mediaport.config  # noqa: F401
    from mediaport.observability import DeferredXRay, tracer

    if isinstance(tracer.provider, DeferredXRay):
        tracer.provider.recorder  # noqa: B018 (the SDK configured and patched in)
    if os.environ.get(ENV_IDEMPOTENCY_TABLE_NAME):
        import aws_lambda_powertools.utilities.idempotency  # noqa: F401
