"""The local stack's settings. Every value has a default, so `make dev` needs no `.env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from infra.definitions import JOBS_MAX_RECEIVE_COUNT, MAX_RECEIVE_COUNT, WEBHOOK_MAX_RECEIVE_COUNT
from mediaport import names, webhooks
from mediaport.config import ConfigurationError

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
# The webhook queue (one job per event and URL) → deliver_webhooks, and its DLQ.
WEBHOOK_QUEUE_NAME = "mediaport-webhooks"
WEBHOOK_DEAD_LETTER_QUEUE_NAME = "mediaport-webhooks-dlq"
# The local stack's webhook signing secret when MEDIAPORT_WEBHOOK_SECRET is unset: a fixed,
# public dev key (base64 of "mediaport-local-dev-webhooks-key"), never for a real receiver.
DEV_WEBHOOK_SECRET = "whsec_bWVkaWFwb3J0LWxvY2FsLWRldi13ZWJob29rcy1rZXk="  # noqa: S105 - a dev key

# MEDIAPORT_EMULATOR: embedded (the stack runs moto itself, and its state goes with it) or
# external (moto already listens on MEDIAPORT_AWS_PORT, and outlives the stack: a restart
# finds every table, stream, queue and object as it was).
EMULATOR_MODES = ("embedded", "external")
# MEDIAPORT_LOCAL_EVENTS: on, or off: publish_events' stream mappings are disabled (as an
# event source mapping can be on AWS); the records wait in the streams.
LOCAL_EVENTS_MODES = ("on", "off")

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
    # Where webhooks go (comma-separated URLs; empty: none), and their signing secret.
    webhook_url: str = ""
    webhook_secret: str = DEV_WEBHOOK_SECRET
    # Whether moto runs in the stack's process (embedded) or is already running (external).
    emulator: str = "embedded"
    # Whether the stream worker hands the streams' records to publish_events (on, off).
    local_events: str = "on"

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
        if self.emulator not in EMULATOR_MODES:
            raise ValueError(
                f"MEDIAPORT_EMULATOR={self.emulator!r} is not one of {', '.join(EMULATOR_MODES)}."
            )
        if self.local_events not in LOCAL_EVENTS_MODES:
            raise ValueError(
                f"MEDIAPORT_LOCAL_EVENTS={self.local_events!r} is not one of "
                f"{', '.join(LOCAL_EVENTS_MODES)}."
            )
        try:
            if webhooks.webhook_urls(self.webhook_url):
                webhooks.signing_key(self.webhook_secret)
        except ConfigurationError as error:
            raise ValueError(str(error)) from None

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
            webhook_url=env.get(names.ENV_WEBHOOK_URL, "").strip(),
            webhook_secret=env.get(names.ENV_WEBHOOK_SECRET, "").strip() or DEV_WEBHOOK_SECRET,
            emulator=env.get("MEDIAPORT_EMULATOR", "embedded").strip().lower() or "embedded",
            local_events=env.get("MEDIAPORT_LOCAL_EVENTS", "on").strip().lower() or "on",
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

    @property
    def webhook_queue_url(self) -> str:
        """The webhook queue's URL as the emulator names it (provision() creates it)."""
        return f"{self.aws_endpoint}/{EMULATOR_ACCOUNT_ID}/{WEBHOOK_QUEUE_NAME}"

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
            # Public media's cdnUrl: the gateway's CloudFront stand-in (infra/local/cdn.py).
            names.ENV_PUBLIC_BASE_URL: f"{self.api_url}/cdn",
            # publish_events puts the events on moto's bus and the webhook jobs on the
            # webhook queue; deliver_webhooks signs them with the secret (the dev key
            # unless MEDIAPORT_WEBHOOK_SECRET says otherwise) and POSTs them for real.
            names.ENV_EVENT_BUS_NAME: names.EVENT_BUS_NAME,
            names.ENV_WEBHOOK_QUEUE_URL: self.webhook_queue_url,
            names.ENV_WEBHOOK_URL: self.webhook_url,
            names.ENV_WEBHOOK_SECRET: self.webhook_secret,
            names.ENV_WEBHOOK_SECRET_ARN: "",  # no Secrets Manager locally: the value above
            names.ENV_WEBHOOK_MAX_RECEIVE_COUNT: str(WEBHOOK_MAX_RECEIVE_COUNT),
            "POWERTOOLS_SERVICE_NAME": "mediaport",
            "POWERTOOLS_METRICS_NAMESPACE": "Mediaport",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
