"""`make reconcile [FIX=1]`: run the reconcile_usage function once against the local stack.

The function runs in this process, with the environment the local stack gives its
functions, and reaches the running stack's moto server; it prints the drift it found.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

from infra.local.config import LocalConfig
from mediaport import names


def scheduled_event(region: str) -> dict[str, Any]:
    """What an EventBridge schedule sends a target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:000000000000:rule/mediaport-reconcile-usage"],
        "detail": {},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fix", action="store_true", help="correct the drifting rows")
    args = parser.parse_args(argv)
    config = LocalConfig.from_environment()
    os.environ.update(config.function_environment())
    os.environ[names.ENV_RECONCILE_FIX] = "true" if args.fix else "false"

    # Imported once the environment is set: the handler reads it at its first call.
    from infra.local.lambdas import invoke

    summary = invoke("reconcile_usage", scheduled_event(config.region))
    print(json.dumps(summary, indent=2, default=str))
    # Drift left as found fails the command, so a script (or the race test) can rely on it.
    unfixed = [row for user in summary["drift"] for row in user["rows"]]
    return 1 if any(row["outcome"] == "reported" for row in unfixed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
