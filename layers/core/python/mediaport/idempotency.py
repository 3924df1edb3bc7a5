"""Idempotent requests: an ``Idempotency-Key`` header makes a retried request answer the
first one's response instead of doing the work again (Powertools idempotency, DynamoDB).

The record is keyed by the caller (JWT ``sub``) *and* the header value, so two users who
pick the same key never see each other's responses. The request body is hashed alongside:
the same key with another body is refused (422, as the IETF draft "The Idempotency-Key
HTTP Header Field" says), and so is the same key while its first request is still running
(409). A request that fails (any exception) leaves no record: the key can be used again.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from mediaport.adapters.records import OUTAGE_CODES
from mediaport.errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InternalFailure,
    InvalidRequest,
    TableUnavailable,
)
from mediaport.names import (
    ENV_IDEMPOTENCY_TABLE_NAME,
    IDEMPOTENCY_PARTITION_KEY,
    IDEMPOTENCY_TTL_ATTRIBUTE,
)
from mediaport.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

HEADER = "Idempotency-Key"
# 1–255 visible ASCII characters: a UUID, a ULID, a hash, a structured-field string…
# Anything with spaces, controls or non-ASCII is refused rather than normalised, so a
# client never wonders which of two spellings the server kept.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
KEY_RULE = "must be 1 to 255 visible ASCII characters (no spaces)"
# A replayed response must still be usable: its record expires this long before the
# response does, so a retry near the end gets a fresh one instead of a dying one.
REPLAY_MARGIN_SECONDS = 30

_KEY = re.compile(KEY_PATTERN)
ModelT = TypeVar("ModelT", bound=BaseModel)


def run_once(
    operation: Callable[[], ModelT],
    *,
    key: str | None,
    caller: str,
    request: BaseModel,
    response_model: type[ModelT],
    operation_name: str,
    table_name: str | None,
    response_valid_seconds: int,
    lambda_context: LambdaContext | None = None,
) -> ModelT:
    """``operation()``, at most once per caller and key: a repeat answers the stored response.

    Without a key it simply runs. ``response_valid_seconds`` is how long the response stays
    usable (e.g. the presigned URL's life); the record is kept ``REPLAY_MARGIN_SECONDS``
    less, so a replay never hands back something expired or about to be.
    """
    if not table_name:
        # The stack and the local stack always set it. A function deployed without it fails
        # every request, key or not, rather than working until the first retry needs it.
        logger.error(
            "idempotency table not configured", extra={"variable": ENV_IDEMPOTENCY_TABLE_NAME}
        )
        raise InternalFailure()
    if key is None:
        return operation()
    if not _KEY.fullmatch(key):
        raise InvalidRequest(f"invalid {HEADER}", errors=[{"field": HEADER, "detail": KEY_RULE}])

    # Powertools' idempotency (and the boto3 its store is built on) is loaded by the first
    # request that carries a key, not at every cold start: most requests carry none.
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (
        PydanticSerializer,
    )

    config = IdempotencyConfig(
        event_key_jmespath="[caller, key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=_record_lifetime(response_valid_seconds),
        hash_function="sha256",
    )
    if lambda_context is not None:
        # An in-progress record outlives a crashed invocation only until its timeout.
        config.register_lambda_context(lambda_context)
    once = idempotent_function(
        lambda data: operation(),
        data_keyword_argument="data",
        persistence_store=_store(table_name, config.expires_after_seconds),
        config=config,
        output_serializer=PydanticSerializer(response_model),
        key_prefix=f"mediaport.{operation_name}",
    )
    data: dict[str, Any] = {
        "caller": caller,
        "key": key,
        "request": request.model_dump(mode="json"),
    }
    try:
        result: ModelT = once(data=data)
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused(
            f"{HEADER} {key!r} was already used with a different request; "
            "use a new key for a new request."
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise IdempotencyKeyInProgress(
            f"the first request with {HEADER} {key!r} is still in progress; retry shortly."
        ) from error
    except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as error:
        code = _aws_error_code(error)
        logger.warning("idempotency store failed", extra={"code": code, "error": str(error)})
        if code is None or code in OUTAGE_CODES:
            raise TableUnavailable(
                "The idempotency table did not answer; retry shortly."
            ) from error
        # A missing table, a missing grant, a refused request: ours to fix, not to retry.
        raise InternalFailure() from error
    return result


def _aws_error_code(error: BaseException) -> str | None:
    """The AWS error code behind a Powertools persistence error, if there is one."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ClientError):
            return str(cause.response.get("Error", {}).get("Code"))
        cause = cause.__cause__ or cause.__context__
    return None


def _record_lifetime(response_valid_seconds: int) -> int:
    return max(1, response_valid_seconds - REPLAY_MARGIN_SECONDS)


@functools.cache
def _store(table_name: str, expires_after_seconds: int) -> DynamoDBPersistenceLayer:
    """One store per table and lifetime, built on first use and reused while warm.

    Powertools configures a store once, from the first config it sees, so a store is
    never shared between two lifetimes.
    """
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=IDEMPOTENCY_PARTITION_KEY,
        expiry_attr=IDEMPOTENCY_TTL_ATTRIBUTE,
    )


def clear_stores() -> None:
    """Forget the stores built so far (their clients), e.g. between emulated accounts."""
    _store.cache_clear()
