"""Make AWS itself misbehave for one operation: the emulated service answers an error (or
the call breaks) before the request leaves botocore. Our code runs unchanged and sees
exactly what a real outage would give it; nothing of ours is replaced."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse


@contextmanager
def aws_fails(
    client: Any,
    operation: str,
    *,
    when: Callable[[dict[str, Any]], bool] = lambda _request: True,
    code: str = "InternalError",
    status: int = 500,
    crash: BaseException | None = None,
    before: Callable[[dict[str, Any]], None] | None = None,
    reasons: list[str | None] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """While inside, ``client``'s ``operation`` requests matching ``when`` get ``code``
    (or raise ``crash``), with a cancelled transaction's ``reasons`` (one code or None a
    write); ``before`` runs first on every request. Yields the requests hit."""
    service = client.meta.service_model.service_id.hyphenize()
    event = f"before-call.{service}.{operation}"
    hit: list[dict[str, Any]] = []

    def answer(params: dict[str, Any], **_: Any) -> Any:
        if before is not None:
            before(params)
        if not when(params):
            return None
        hit.append(params)
        if crash is not None:
            raise crash
        response = AWSResponse(url=params.get("url", ""), status_code=status, headers={}, raw=None)
        error: dict[str, Any] = {"Error": {"Code": code, "Message": "injected by the test"}}
        if reasons is not None:
            error["CancellationReasons"] = [
                {"Code": reason or "None", "Message": "injected"} for reason in reasons
            ]
        return response, {**error, "ResponseMetadata": {"HTTPStatusCode": status}}

    client.meta.events.register(event, answer, unique_id=f"fault-{id(answer)}")
    try:
        yield hit
    finally:
        client.meta.events.unregister(event, unique_id=f"fault-{id(answer)}")


def s3_key_of(request: dict[str, Any]) -> str:
    """The object key a serialized S3 request addresses."""
    return str(request.get("url_path", ""))
