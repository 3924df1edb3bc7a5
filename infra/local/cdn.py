"""The local stand-in for CloudFront in front of the media bucket: ``GET /cdn/{key}``.

Not an API route (API Gateway never sees CDN traffic): the gateway hands it every path
under ``/cdn/``. It serves exactly what the distribution serves on AWS (docs/serving.md):
the original and the READY variants of an asset that is served (READY, its scan not
pending) and public, with the cache headers CloudFront sends (an original's from the
response headers policy, a variant's from its object), its ETag, a 304 for a matching
``If-None-Match`` and a 206 for a ``Range``. Under the prefixes it serves from (``media/``,
``released/``, ``derived/``) anything else is 403 with S3's AccessDenied, as CloudFront
with origin access control answers for an object it may not read or that does not exist;
any other path is the distribution's own 404. The body bytes of each 200 and 206 count as
the owner's bandwidth (one UpdateItem ADD), where on AWS count_bandwidth reads them from
CloudFront's logs.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from werkzeug.wrappers import Request, Response

from mediaport import bandwidth, names, serving
from mediaport.adapters import storage
from mediaport.cdn_logs import asset_of_key
from mediaport.errors import TableRequestRefused, TableUnavailable
from mediaport.model import utcnow
from mediaport.services import Services, current_services

log = logging.getLogger(__name__)

PREFIX = "/cdn/"
# What the distribution forwards to the bucket; a CloudFront function answers the rest 404.
SERVED_PREFIXES = (names.UPLOAD_PREFIX, names.RELEASED_PREFIX, names.DERIVED_PREFIX)
# What S3 answers CloudFront (origin access control, no s3:ListBucket) for an object it
# may not read, or one that is not there: the same 403 for both.
ACCESS_DENIED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
)
# The response headers CloudFront passes on from S3.
_PASSED_ON = {
    "ContentType": "Content-Type",
    "ContentLength": "Content-Length",
    "ContentRange": "Content-Range",
    "ETag": "ETag",
    "LastModified": "Last-Modified",
}


def serve(request: Request) -> Response:
    """Answer one request under ``/cdn/`` as the distribution would."""
    if request.method not in ("GET", "HEAD"):
        return _denied()  # the distribution allows GET and HEAD only
    key = request.path.removeprefix(PREFIX)
    if not key.startswith(SERVED_PREFIXES):
        return Response("Not Found", status=404, content_type="text/plain")
    asset_id = asset_of_key(key)
    services = current_services()
    asset = services.assets.get(asset_id) if asset_id else None
    served = serving.servable(asset, key, services.settings)
    if asset is None or served is None:
        return _denied()
    params: dict[str, Any] = {"Bucket": services.settings.bucket_name, "Key": key}
    if request.headers.get("If-None-Match"):
        params["IfNoneMatch"] = request.headers["If-None-Match"]
    if request.headers.get("Range") and request.method == "GET":
        params["Range"] = request.headers["Range"]
    try:
        if request.method == "HEAD":
            answer = storage.s3_client().head_object(**params)
            body = b""
        else:
            answer = storage.s3_client().get_object(**params)
            body = answer["Body"].read()
    except ClientError as error:
        return _from_error(error, served, request.headers.get("If-None-Match"))
    except BotoCoreError:
        log.exception("the bucket did not answer for %s", key)
        return Response("Bad Gateway", status=502)
    status = int(answer["ResponseMetadata"]["HTTPStatusCode"])
    response = Response(body, status=status)
    response.headers.clear()
    for field, header in _PASSED_ON.items():
        if answer.get(field) is not None:
            value = answer[field]
            response.headers[header] = (
                value.strftime("%a, %d %b %Y %H:%M:%S GMT") if field == "LastModified" else value
            )
    response.headers["Cache-Control"] = served.cache_control
    response.headers["Accept-Ranges"] = "bytes"
    _count(services, asset.user_id, asset.tier, len(body))
    return response


def _from_error(
    error: ClientError, served: serving.ServedObject, if_none_match: str | None
) -> Response:
    code = str(error.response.get("Error", {}).get("Code"))
    if code in ("304", "NotModified"):
        headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        response = Response(status=304)
        response.headers.clear()
        response.headers["ETag"] = headers.get("etag") or if_none_match or ""
        response.headers["Cache-Control"] = served.cache_control
        return response
    if code == "InvalidRange":
        return Response(status=416)
    if code in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
        return _denied()
    log.warning("the bucket refused %s: %s", served.key, code)
    return Response("Bad Gateway", status=502)


def _count(services: Services, user_id: str, tier: str | None, size: int) -> None:
    """The response's body bytes as the owner's bandwidth; a failure to count is logged,
    never the viewer's problem (CloudFront's logs are not in the viewer's way either)."""
    try:
        bandwidth.count_response(services, user_id, tier, size, utcnow())
    except (TableUnavailable, TableRequestRefused):
        log.exception("bandwidth not counted for %s", user_id)


def _denied() -> Response:
    return Response(ACCESS_DENIED, status=403, content_type="application/xml")
