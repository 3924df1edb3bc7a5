"""The direct small upload: the bytes arrive in the request and are stored, then verified
before the answer, by the same verification and the same conditional transition as
confirm (``settlement.settle_upload``).

The size limit is what survives Lambda's 6 MB synchronous payload after base64:

- Lambda takes an event of at most 6 MB (6,291,456 bytes) from API Gateway.
- API Gateway (HTTP API) base64-encodes a multipart body, which makes it 4/3 as large:
  6 MB × 3/4 = 4.5 MiB (4,718,592 bytes), less the rest of the event (headers, the
  request context, the JWT's claims: a few KB).
- So a file of at most **4 MiB** (``MAX_DIRECT_UPLOAD_BYTES``), in a request body of at
  most 4 MiB + 64 KiB of form overhead (boundaries, part headers, the other fields):
  4,259,840 bytes, 5,679,788 once base64-encoded, which leaves ~600 KB of the 6 MB for
  the rest of the event.

A body between that and about 4.5 MB reaches the function and gets our 413 problem, with
``limitBytes``. A body over about 4.5 MB cannot reach any function: API Gateway refuses
it itself (413 ``{"message": "Request Entity Too Large"}`` locally, as
``infra/local/gateway.py`` imitates). Larger files go through presign or multipart.
"""

from __future__ import annotations

from dataclasses import replace

from aws_lambda_powertools.metrics import MetricUnit

from mediaport import settlement, uploads
from mediaport.adapters import storage
from mediaport.errors import InvalidRequest, PayloadTooLarge
from mediaport.keys import pending_tagging
from mediaport.model import Asset
from mediaport.observability import metrics
from mediaport.policy import describe_size
from mediaport.services import Services

MAX_DIRECT_UPLOAD_BYTES = 4 * 1024 * 1024
# Boundaries, part headers and the small fields (scope, folder, altText) around the file.
MAX_FORM_OVERHEAD_BYTES = 64 * 1024
MAX_DIRECT_REQUEST_BYTES = MAX_DIRECT_UPLOAD_BYTES + MAX_FORM_OVERHEAD_BYTES

# The shared scope check names the JSON API's fields; in a form, these are the file part.
_FILE_FACTS = {"contentType", "size", "filename"}


def upload_directly(
    services: Services, user_id: str, intent: uploads.UploadIntent, body: bytes
) -> Asset:
    """Record a PENDING asset, store ``body`` as its object and verify it now.

    The READY asset; ``VerificationFailed`` (422) when the bytes are rejected (the object
    is deleted and the record says REJECTED), ``InvalidRequest`` when the intent does not
    fit its scope (nothing is recorded).
    """
    if len(body) > MAX_DIRECT_UPLOAD_BYTES:
        raise file_too_large()
    if not body:
        raise InvalidRequest("the file is empty", errors=[{"field": "file", "detail": "is empty"}])
    intent = replace(intent, size=len(body))
    try:
        asset, _policy = uploads.start_pending(services, user_id, intent)
    except InvalidRequest as problem:
        raise _about_the_file(problem) from None
    metrics.add_metric(name="UploadsStarted", unit=MetricUnit.Count, value=1)
    # If this write fails (503), nothing half-written lasts: a failed S3 PUT leaves no
    # object, and the PENDING record expires by TTL (the expiry stream would delete an
    # object, were there one), as a presigned upload that never came does. A PUT whose
    # answer alone was lost is settled by its S3 event, as any upload is.
    storage.put_object(asset.bucket, asset.key, body, intent.media_type, pending_tagging())
    # The ObjectCreated event settles it too: whichever comes first decides, and this
    # answer is that decision either way.
    return uploads.require_ready(settlement.settle_upload(services, asset))


def file_too_large() -> PayloadTooLarge:
    """The 413 a direct upload over the limit gets, whichever check found it."""
    return PayloadTooLarge(
        f"a direct upload takes a file of at most {describe_size(MAX_DIRECT_UPLOAD_BYTES)} "
        f"(a request body of at most {MAX_DIRECT_REQUEST_BYTES} bytes); upload larger "
        "files with POST /media/presign or a multipart upload",
        limit_bytes=MAX_DIRECT_UPLOAD_BYTES,
    )


def _about_the_file(problem: InvalidRequest) -> InvalidRequest:
    errors = [
        {**error, "field": "file"} if error.get("field") in _FILE_FACTS else error
        for error in problem.errors
    ]
    return InvalidRequest(problem.detail, errors=errors)
