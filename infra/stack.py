"""The Mediaport stack: wires storage, functions, API, processing, transforms, scanning
and alarms together."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.api import HttpApi
from infra.config import DeploymentSettings
from infra.constants import FUNCTION_SIZES
from infra.definitions import JOBS_MAX_RECEIVE_COUNT, MAX_RECEIVE_COUNT
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
        }
        grant_targets = GrantTargets(storage=storage, jobs_queue=jobs.queue)
        functions: dict[str, MediaportFunction] = {}
        for name in (*api_functions(), *EVENT_FUNCTIONS):
            functions[name] = MediaportFunction(
                self,
                name,
                layers=layers.all,
                environment=environments.get(name, data_environment),
            )
            GRANTS[name](functions[name], grant_targets)

        api = HttpApi(
            self,
            "Http",
            handlers={name: functions[name].function for name in api_functions()},
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
        dead_letter_queues = {
            "Uploads": processing.dead_letter_queue,
            "Expiries": expiry.dead_letter_queue,
            "Transforms": jobs.dead_letter_queue,
        }
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
        if api.users is not None:
            CfnOutput(self, "UserPoolId", value=api.users.user_pool.user_pool_id)
            CfnOutput(self, "UserPoolClientId", value=api.users.client.user_pool_client_id)
