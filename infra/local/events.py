"""The event shapes Lambda receives: API Gateway HTTP API (payload 2.0) and SQS."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

_TEXT_TYPES = ("application/json", "application/problem+json", "text/", "application/xml")


def http_api_event(
    *,
    method: str,
    path: str,
    route_key: str,
    headers: dict[str, str],
    query_string: str = "",
    body: bytes = b"",
    path_parameters: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An HTTP API payload-2.0 event, as API Gateway builds it for a Lambda integration."""
    lowered = {name.lower(): value for name, value in headers.items()}
    content_type = lowered.get("content-type", "")
    # API Gateway base64-encodes any body that is not text, including a "text" body whose
    # bytes are not UTF-8: the function gets them intact and refuses them itself.
    is_text = not body or (content_type.startswith(_TEXT_TYPES) and _is_utf8(body))
    now = time.time()
    request_context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": lowered.get("host", "127.0.0.1"),
        "domainPrefix": "local",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": lowered.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {
            "jwt": {"claims": _as_authorizer_claims(claims), "scopes": None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": lowered,
        "requestContext": request_context,
        "isBase64Encoded": not is_text,
    }
    if cookie := lowered.pop("cookie", None):
        event["cookies"] = [part.strip() for part in cookie.split(";")]
    if query_string:
        event["queryStringParameters"] = _query_parameters(query_string)
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode()
    return event


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """A Lambda SQS event built from ReceiveMessage results."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def _as_authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    # API Gateway hands claims over as strings; a list becomes "[a b]".
    def text(value: Any) -> str:
        if isinstance(value, list):
            return "[" + " ".join(str(item) for item in value) + "]"
        return str(value)

    return {name: text(value) for name, value in claims.items()}


def _query_parameters(query_string: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    merged: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    return merged
