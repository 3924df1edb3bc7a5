"""The local stack's settings. Every value has a default, so `make dev` needs no `.env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from infra.definitions import JOBS_MAX_RECEIVE_COUNT, MAX_RECEIVE_COUNT
from mediaport import names

# Fixed dummy credentials: moto accepts any, and nothing local ever reaches AWS.
DUMMY_ACCESS_KEY = "mediaport-local"
DUMMY_SECRET_KEY = "mediaport-local-secret"  # noqa: S105 - a dummy, documented as such
# The account moto files every resource under (its default), so a queue's URL is known
# before the queue exists: f"{endpoint}/{account}/{name}", as moto's server builds it.
EMULATOR_ACCOUNT_ID = "123456789012"
QUEUE_NAME = "mediaport-uploads"
DEAD_LETTER_QUEUE_NAME = "mediaport-uploads-dlq"
# The jobs queue (requested variants, and those of a released asset) → transform_media.
JOBS_QUEUE_NAME = "mediaport-jobs"
JOBS_DEAD_LETTER_QUEUE_NAME = "mediaport-jobs-dlq"

# MEDIAPORT_SCAN: what the local stack can run. "guardduty" is an AWS service; locally the
# stand-in scanner (infra/local/scanner.py) takes its place.
SCAN_MODES = ("off", "local")
SCAN_ERROR_POLICIES = ("block", "serve")


@dataclass(frozen=True)
class LocalConfig:
    host: str = "127.0.0.1"
    api_port: int = 8000
    aws_port: int = 4566
    region: str = "us-east-1"
    bucket_name: str = "mediaport-media"
    table_name: str = "mediaport-assets"
    idempotency_table_name: str = "mediaport-idempotency"
    session_table_name: str = "mediaport-upload-sessions"
    usage_table_name: str = "mediaport-usage"
    folder_table_name: str = "mediaport-folders"
    attachment_table_name: str = "mediaport-attachments"
    allowed_origins: tuple[str, ...] = ()
    # Malware scanning (docs/scanning.md): off, or local (the EICAR-only stand-in).
    scan: str = "off"
    # What a scan that could not be done means: block (quarantined) or serve.
    scan_error_policy: str = "block"

    def __post_init__(self) -> None:
        if self.scan == "guardduty":
            raise ValueError(
                "MEDIAPORT_SCAN=guardduty needs GuardDuty Malware Protection for S3, which "
                "exists only on AWS (cdk deploy -c scanning=guardduty). Locally, set "
                "MEDIAPORT_SCAN=local for the stand-in scanner (it detects only the EICAR "
                "test file; docs/scanning.md), or off."
            )
        if self.scan not in SCAN_MODES:
            raise ValueError(
                f"MEDIAPORT_SCAN={self.scan!r} is not one of {', '.join(SCAN_MODES)} "
                "(the local stack's scanning modes; guardduty is AWS only)."
            )
        if self.scan_error_policy not in SCAN_ERROR_POLICIES:
            raise ValueError(
                f"MEDIAPORT_SCAN_ERROR_POLICY={self.scan_error_policy!r} is not one of "
                f"{', '.join(SCAN_ERROR_POLICIES)}."
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LocalConfig:
        """The settings in ``environ`` (default: this process's environment)."""
        env = os.environ if environ is None else environ
        host = env.get("MEDIAPORT_HOST", "127.0.0.1")
        api_port = int(env.get("MEDIAPORT_API_PORT", "8000"))
        origins = env.get("MEDIAPORT_ALLOWED_ORIGINS", "")
        return cls(
            host=host,
            api_port=api_port,
            aws_port=int(env.get("MEDIAPORT_AWS_PORT", "4566")),
            region=env.get("MEDIAPORT_REGION", "us-east-1"),
            bucket_name=env.get(names.ENV_BUCKET_NAME, "mediaport-media"),
            table_name=env.get(names.ENV_TABLE_NAME, "mediaport-assets"),
            idempotency_table_name=env.get(
                names.ENV_IDEMPOTENCY_TABLE_NAME, "mediaport-idempotency"
            ),
            session_table_name=env.get(names.ENV_SESSION_TABLE_NAME, "mediaport-upload-sessions"),
            usage_table_name=env.get(names.ENV_USAGE_TABLE_NAME, "mediaport-usage"),
            folder_table_name=env.get(names.ENV_FOLDER_TABLE_NAME, "mediaport-folders"),
            attachment_table_name=env.get(names.ENV_ATTACHMENT_TABLE_NAME, "mediaport-attachments"),
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            scan=env.get(names.ENV_SCAN, "off").strip().lower() or "off",
            scan_error_policy=env.get(names.ENV_SCAN_ERROR_POLICY, "block").strip().lower()
            or "block",
        )

    @property
    def origins(self) -> tuple[str, ...]:
        """Browser origins allowed by the API's and the bucket's CORS (default: the demo page)."""
        return self.allowed_origins or (
            f"http://127.0.0.1:{self.api_port}",
            f"http://localhost:{self.api_port}",
        )

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def jobs_queue_url(self) -> str:
        """The jobs queue's URL as the emulator names it (provision() creates the queue)."""
        return f"{self.aws_endpoint}/{EMULATOR_ACCOUNT_ID}/{JOBS_QUEUE_NAME}"

    def function_environment(self) -> dict[str, str]:
        """What the handlers see: the same variables the CDK stack sets, plus the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "MEDIAPORT_REGION": self.region,
            names.ENV_BUCKET_NAME: self.bucket_name,
            names.ENV_TABLE_NAME: self.table_name,
            names.ENV_IDEMPOTENCY_TABLE_NAME: self.idempotency_table_name,
            names.ENV_SESSION_TABLE_NAME: self.session_table_name,
            names.ENV_USAGE_TABLE_NAME: self.usage_table_name,
            names.ENV_FOLDER_TABLE_NAME: self.folder_table_name,
            names.ENV_ATTACHMENT_TABLE_NAME: self.attachment_table_name,
            # reconcile_usage reports only, as the stack's default (make reconcile FIX=1).
            names.ENV_RECONCILE_FIX: "false",
            # The upload queue's maxReceiveCount, as provision.py makes it.
            names.ENV_MAX_RECEIVE_COUNT: str(MAX_RECEIVE_COUNT),
            names.ENV_JOBS_MAX_RECEIVE_COUNT: str(JOBS_MAX_RECEIVE_COUNT),
            # transforms and admin send their jobs here; transform_media drains it.
            names.ENV_JOBS_QUEUE_URL: self.jobs_queue_url,
            names.ENV_SCAN: self.scan,
            names.ENV_SCAN_ERROR_POLICY: self.scan_error_policy,
            "POWERTOOLS_SERVICE_NAME": "mediaport",
            "POWERTOOLS_METRICS_NAMESPACE": "Mediaport",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
