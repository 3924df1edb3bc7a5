"""POST /media/upload: a small file sent in the request itself, stored under the usual key
and verified before the answer (the size limit and its arithmetic: mediaport.direct)."""

from dataclasses import replace
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediaport import direct
from mediaport.api.resolver import (
    BEARER_AUTH,
    build_resolver,
    caller_id,
    caller_tier,
    described_problem,
    problem_responses,
)
from mediaport.api.schemas import AssetView
from mediaport.api.upload_form import read_direct_upload
from mediaport.api.views import asset_view
from mediaport.observability import logger, metrics, tracer
from mediaport.policy import EXTENSIONS
from mediaport.services import current_services

app = build_resolver()

# Powertools documents only a body it parses itself, and this one is parsed here (for the
# 413 and 415 answers), so the form is described for the OpenAPI document by hand
# (infra/local/openapi.py adds it to the operation).
OPENAPI_REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "POST /media/upload": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The file (at most 4 MiB). Its filename and its "
                            "part's Content-Type declare it.",
                        },
                        "scope": {
                            "type": "string",
                            "pattern": "^[A-Za-z0-9_-]+$",
                            "maxLength": 64,
                            "default": "GENERIC",
                        },
                        "folder": {"type": "string", "maxLength": 700},
                        "altText": {"type": "string", "maxLength": 500},
                    },
                },
                "encoding": {"file": {"contentType": ", ".join(sorted(EXTENSIONS))}},
            }
        },
    }
}


@app.post(
    "/media/upload",
    status_code=201,
    summary="Upload a small file directly",
    description="A `multipart/form-data` request with a `file` field (its filename and "
    "its part's `Content-Type` are the declared name and type; without a type, the "
    "extension says), an optional `scope` (default `GENERIC`), and optional `folder` "
    "and `altText` fields, checked as the JSON API checks them. The file is stored and "
    "verified before the answer: 201 means READY, 422 REJECTED. At most "
    f"{direct.MAX_DIRECT_UPLOAD_BYTES} bytes (4 MiB) of file, in a body of at most "
    f"{direct.MAX_DIRECT_REQUEST_BYTES} bytes: what fits Lambda's 6 MB event once API "
    "Gateway has base64-encoded it. A body over about 4.5 MB never reaches the function: "
    'API Gateway answers 413 `{"message": ...}` itself. Use presign for larger files.',
    tags=["uploads"],
    security=BEARER_AUTH,
    responses={
        201: {"description": "The file is stored and verified: the asset is READY."},
        **problem_responses(400, 401, 403),
        **described_problem(
            409, "The stored file was deleted before it was verified; upload again."
        ),
        **described_problem(
            413,
            "The file is over 4 MiB (or the body over 4 MiB + 64 KiB); `limitBytes` says "
            "how large the file may be.",
        ),
        **described_problem(415, "The body is not `multipart/form-data`."),
        **problem_responses(422, 503),
    },
)
@tracer.capture_method
def upload() -> AssetView:
    services = current_services()
    user_id = caller_id(app)
    request = read_direct_upload(app.current_event.raw_event)
    intent = replace(request.intent, tier=caller_tier(app, services.settings))
    asset = direct.upload_directly(services, user_id, intent, request.body)
    return asset_view(asset, services.settings)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
