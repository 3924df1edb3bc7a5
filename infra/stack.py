"""The Mediaport stack: wires storage, functions, API, processing, transforms, scanning,
the CDN, the host app's events and alarms together."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.api import HttpApi
from infra.cdn import CDN_FAILURE_METRICS, CDN_INVALIDATORS, CDN_RENDERERS, MediaCdn
from infra.config import DeploymentSettings
from infra.constants import FUNCTION_SIZES
from infra.definitions import (
    JOBS_MAX_RECEIVE_COUNT,
    MAX_RECEIVE_COUNT,
    WEBHOOK_MAX_RECEIVE_COUNT,
)
from infra.events import HostEvents
from infra.expiry import AssetExpiry
from infra.functions import MediaportFunction
from infra.layers import Layers
from infra.monitoring import Alarms
from infra.permissions import GRANTS, GrantTargets
from infra.processing import UploadProcessing
from infra.reconcile import UsageReconcile
from infra.routes import EVENT_FUNCTIONS, api_functions
from infra.scanning import MEDIA_TAGGERS, UNSCANNED_READERS, MalwareScanning
from infra.storage import Storage
from infra.transforms import TransformJobs
from mediaport import names


class MediaportStack(Stack):
    """Everything ``make dev`` emulates locally, for real."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = DeploymentSettings.from_context(self.node)

        storage = Storage(
            self,
            "Storage",
            allowed_origins=settings.allowed_origins,
            removal_policy=settings.removal_policy,
            event_bridge=settings.guardduty_scanning,
        )
        layers = Layers(self, "Layers")
        jobs = TransformJobs(
            self, "Transforms", worker_timeout=FUNCTION_SIZES["transform_media"].timeout
        )
        host_events = HostEvents(
            self,
            "Events",
            bus_name=settings.event_bus_name,
            deliverer_timeout=FUNCTION_SIZES["deliver_webhooks"].timeout,
            removal_policy=settings.removal_policy,
        )
        cdn = (
            MediaCdn(
                self,
                "Cdn",
                bucket=storage.bucket,
                access_logs=storage.access_logs,
                removal_policy=settings.removal_policy,
                counter_timeout=FUNCTION_SIZES["count_bandwidth"].timeout,
            )
            if settings.cdn
            else None
        )
        data_environment = {
            names.ENV_TABLE_NAME: storage.table.table_name,
            names.ENV_BUCKET_NAME: storage.bucket.bucket_name,
            # Every function that changes an asset's state changes its owner's usage too.
            names.ENV_USAGE_TABLE_NAME: storage.usage_table.table_name,
            # ...and the counts of the folder it is in.
            names.ENV_FOLDER_TABLE_NAME: storage.folder_table.table_name,
            # Whether a settled upload waits for its scan before it is served (every path
            # that settles one: media, multipart, direct_upload, uppy, process_upload).
            names.ENV_SCAN: settings.scanning,
            names.ENV_SCAN_ERROR_POLICY: settings.scan_error_policy,
        }
        # Where transforms, admin (a release) and scan_result (a cleared asset) send work.
        jobs_environment = {names.ENV_JOBS_QUEUE_URL: jobs.queue.queue_url}
        # Every data function's settings need the asset, usage and folder table names (and
        # the bucket's), granted or not; the other tables' names go only where they are
        # used.
        environments = {
            "health": {},
            "presign": {
                **data_environment,
                names.ENV_IDEMPOTENCY_TABLE_NAME: storage.idempotency_table.table_name,
            },
            "multipart": {
                **data_environment,
                names.ENV_IDEMPOTENCY_TABLE_NAME: storage.idempotency_table.table_name,
            },
            # Only uppy opens and checks upload sessions.
            "uppy": {
                **data_environment,
                names.ENV_SESSION_TABLE_NAME: storage.session_table.table_name,
            },
            # A delete names (or with ?detach=true removes) the asset's attachments.
            "media": {
                **data_environment,
                names.ENV_ATTACHMENT_TABLE_NAME: storage.attachment_table.table_name,
            },
            "attachments": {
                **data_environment,
                names.ENV_ATTACHMENT_TABLE_NAME: storage.attachment_table.table_name,
            },
            # The upload queue's maxReceiveCount: the last delivery leaves a final state.
            "process_upload": {
                **data_environment,
                names.ENV_MAX_RECEIVE_COUNT: str(MAX_RECEIVE_COUNT),
            },
            "transforms": {**data_environment, **jobs_environment},
            "admin": {**data_environment, **jobs_environment},
            "scan_result": {**data_environment, **jobs_environment},
            # The jobs queue's maxReceiveCount, as process_upload gets the upload queue's.
            "transform_media": {
                **data_environment,
                names.ENV_JOBS_MAX_RECEIVE_COUNT: str(JOBS_MAX_RECEIVE_COUNT),
            },
            # The bus, and the webhook queue it hands each event to once per URL.
            "publish_events": {
                **data_environment,
                names.ENV_EVENT_BUS_NAME: host_events.bus.event_bus_name,
                names.ENV_WEBHOOK_QUEUE_URL: host_events.webhook_queue.queue_url,
                **webhook_environment(settings.webhook_urls),
            },
            # The signing secret (its ARN: the value is read at run time, never put in the
            # environment), the webhook queue (a failed delivery's backoff) and its
            # maxReceiveCount (the last attempt); the URLs, to drop jobs for one removed.
            "deliver_webhooks": {
                **data_environment,
                names.ENV_WEBHOOK_QUEUE_URL: host_events.webhook_queue.queue_url,
                names.ENV_WEBHOOK_SECRET_ARN: host_events.webhook_secret.secret_arn,
                names.ENV_WEBHOOK_MAX_RECEIVE_COUNT: str(WEBHOOK_MAX_RECEIVE_COUNT),
                **webhook_environment(settings.webhook_urls),
            },
            # A counted log file is recorded in the idempotency table (with the bytes, one
            # transaction), so a log file delivered twice is counted once.
            "count_bandwidth": {
                **data_environment,
                names.ENV_IDEMPOTENCY_TABLE_NAME: storage.idempotency_table.table_name,
            },
        }
        if cdn is not None:
            # Public assets' cdnUrl starts with the distribution's URL; a delete, a
            # quarantine or a purge invalidates the original's cached copies.
            for name in CDN_RENDERERS:
                environments[name] = {
                    **environments.get(name, data_environment),
                    names.ENV_PUBLIC_BASE_URL: cdn.base_url,
                }
            for name in CDN_INVALIDATORS:
                environments[name] = {
                    **environments.get(name, data_environment),
                    names.ENV_CDN_DISTRIBUTION_ID: cdn.distribution.distribution_id,
                }
        grant_targets = GrantTargets(
            storage=storage,
            jobs_queue=jobs.queue,
            event_bus=host_events.bus,
            webhook_queue=host_events.webhook_queue,
            webhook_secret=host_events.webhook_secret,
            distribution=cdn.distribution if cdn is not None else None,
            cdn_logs=cdn.log_bucket if cdn is not None else None,
        )
        functions: dict[str, MediaportFunction] = {}
        for name in (*api_functions(), *EVENT_FUNCTIONS):
            functions[name] = MediaportFunction(
                self,
                name,
                layers=layers.all,
                environment=environments.get(name, data_environment),
                # A person waits on an API function's cold start; the event functions'
                # callers (queues, streams, schedules) do not.
                snap_start=settings.snap_start and name in api_functions(),
            )
            GRANTS[name](functions[name], grant_targets)

        api = HttpApi(
            self,
            "Http",
            handlers={name: functions[name].invocable for name in api_functions()},
            settings=settings,
        )
        processing = UploadProcessing(
            self,
            "Processing",
            bucket=storage.bucket,
            processor=functions["process_upload"].function,
            processor_timeout=FUNCTION_SIZES["process_upload"].timeout,
        )
        expiry = AssetExpiry(
            self, "Expiry", table=storage.table, expirer=functions["expire_assets"].function
        )
        UsageReconcile(
            self,
            "Reconcile",
            reconciler=functions["reconcile_usage"].function,
            fix=settings.reconcile_fix,
        )
        jobs.feed(functions["transform_media"].function)
        host_events.feed(
            publisher=functions["publish_events"].function,
            asset_table=storage.table,
            usage_table=storage.usage_table,
            deliverer=functions["deliver_webhooks"].function,
        )
        dead_letter_queues = {
            "Uploads": processing.dead_letter_queue,
            "Expiries": expiry.dead_letter_queue,
            "Transforms": jobs.dead_letter_queue,
            "Events": host_events.failed_records,
            "Webhooks": host_events.webhook_dead_letters,
        }
        if cdn is not None:
            cdn.feed(functions["count_bandwidth"].function)
            dead_letter_queues["BandwidthLogs"] = cdn.log_dead_letters
        if settings.guardduty_scanning:
            scanning = MalwareScanning(
                self,
                "Scanning",
                bucket=storage.bucket,
                handler=functions["scan_result"].function,
                unscanned_readers=[functions[name].role for name in UNSCANNED_READERS],
                media_taggers=[functions[name].role for name in MEDIA_TAGGERS],
                error_policy=settings.scan_error_policy,
            )
            dead_letter_queues["ScanResults"] = scanning.dead_letter_queue
        Alarms(
            self,
            "Alarms",
            dead_letter_queues=dead_letter_queues,
            functions={name: fn.function for name, fn in functions.items()},
            failure_metrics=CDN_FAILURE_METRICS if cdn is not None else None,
        )

        CfnOutput(self, "ApiUrl", value=api.url, description="Base URL of the HTTP API")
        CfnOutput(self, "BucketName", value=storage.bucket.bucket_name)
        CfnOutput(self, "TableName", value=storage.table.table_name)
        CfnOutput(self, "IdempotencyTableName", value=storage.idempotency_table.table_name)
        CfnOutput(self, "UsageTableName", value=storage.usage_table.table_name)
        CfnOutput(self, "FolderTableName", value=storage.folder_table.table_name)
        CfnOutput(self, "SessionTableName", value=storage.session_table.table_name)
        CfnOutput(self, "AttachmentTableName", value=storage.attachment_table.table_name)
        CfnOutput(self, "JobsQueueUrl", value=jobs.queue.queue_url)
        CfnOutput(
            self,
            "EventBusName",
            value=host_events.bus.event_bus_name,
            description="The EventBridge bus every asset state change is published on",
        )
        CfnOutput(self, "EventBusArn", value=host_events.bus.event_bus_arn)
        CfnOutput(
            self,
            "WebhookSecretArn",
            value=host_events.webhook_secret.secret_arn,
            description="Put the Standard Webhooks secret (whsec_...) here after deploying",
        )
        CfnOutput(self, "WebhookQueueUrl", value=host_events.webhook_queue.queue_url)
        if cdn is not None:
            CfnOutput(
                self,
                "CdnDomainName",
                value=cdn.distribution.distribution_domain_name,
                description="Where public media is served (https://{domain}/{key})",
            )
            CfnOutput(self, "CdnDistributionId", value=cdn.distribution.distribution_id)
            CfnOutput(self, "CdnLogBucketName", value=cdn.log_bucket.bucket_name)
        if api.users is not None:
            CfnOutput(self, "UserPoolId", value=api.users.user_pool.user_pool_id)
            CfnOutput(self, "UserPoolClientId", value=api.users.client.user_pool_client_id)


def webhook_environment(urls: tuple[str, ...]) -> dict[str, str]:
    """The webhook URLs, comma-separated; none set means no webhooks."""
    return {names.ENV_WEBHOOK_URL: ",".join(urls)} if urls else {}
