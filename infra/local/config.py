"""The local stack's settings. Every value has a default, so `make dev` needs no `.env`."""

from __future__ import annotations

import os
from dataclasses import dataclass

from infra.definitions import MAX_RECEIVE_COUNT
from mediaport import names

# Fixed dummy credentials: moto accepts any, and nothing local ever reaches AWS.
DUMMY_ACCESS_KEY = "mediaport-local"
DUMMY_SECRET_KEY = "mediaport-local-secret"  # noqa: S105 - a dummy, documented as such
QUEUE_NAME = "mediaport-uploads"
DEAD_LETTER_QUEUE_NAME = "mediaport-uploads-dlq"


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

    @classmethod
    def from_environment(cls) -> LocalConfig:
        host = os.environ.get("MEDIAPORT_HOST", "127.0.0.1")
        api_port = int(os.environ.get("MEDIAPORT_API_PORT", "8000"))
        origins = os.environ.get("MEDIAPORT_ALLOWED_ORIGINS", "")
        return cls(
            host=host,
            api_port=api_port,
            aws_port=int(os.environ.get("MEDIAPORT_AWS_PORT", "4566")),
            region=os.environ.get("MEDIAPORT_REGION", "us-east-1"),
            bucket_name=os.environ.get(names.ENV_BUCKET_NAME, "mediaport-media"),
            table_name=os.environ.get(names.ENV_TABLE_NAME, "mediaport-assets"),
            idempotency_table_name=os.environ.get(
                names.ENV_IDEMPOTENCY_TABLE_NAME, "mediaport-idempotency"
            ),
            session_table_name=os.environ.get(
                names.ENV_SESSION_TABLE_NAME, "mediaport-upload-sessions"
            ),
            usage_table_name=os.environ.get(names.ENV_USAGE_TABLE_NAME, "mediaport-usage"),
            folder_table_name=os.environ.get(names.ENV_FOLDER_TABLE_NAME, "mediaport-folders"),
            attachment_table_name=os.environ.get(
                names.ENV_ATTACHMENT_TABLE_NAME, "mediaport-attachments"
            ),
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
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
            "POWERTOOLS_SERVICE_NAME": "mediaport",
            "POWERTOOLS_METRICS_NAMESPACE": "Mediaport",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
