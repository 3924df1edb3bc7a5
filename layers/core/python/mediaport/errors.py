"""Domain errors. Each is one kind of problem, answered as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any, ClassVar


class MediaportError(Exception):
    """A problem the caller can act on; ``status`` is the HTTP status it is answered with."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    # Seconds to wait before the same request may succeed (sent as Retry-After); None
    # when repeating it cannot help.
    retry_after: ClassVar[int | None] = None

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        problem: dict[str, Any] = {
            "type": f"urn:mediaport:problem:{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        if self.errors:
            problem["errors"] = self.errors
        return problem


class InvalidRequest(MediaportError):
    status, slug, title = 400, "invalid-request", "The request is not valid"


class Unauthorized(MediaportError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class NotAssetOwner(MediaportError):
    status, slug, title = 403, "forbidden", "This asset belongs to someone else"


class AdminRequired(MediaportError):
    status, slug, title = 403, "admin-required", "Administrators only"


class RouteNotFound(MediaportError):
    status, slug, title = 404, "not-found", "No such resource"

    def __init__(self, detail: str = "Nothing is found at this path.") -> None:
        super().__init__(detail)


class AssetNotFound(MediaportError):
    status, slug, title = 404, "asset-not-found", "No such asset"


class ObjectNotUploaded(MediaportError):
    status, slug, title = 409, "object-not-uploaded", "The file has not been uploaded yet"


class AssetNotPending(MediaportError):
    status, slug, title = 409, "asset-not-pending", "The asset can no longer be confirmed"


class IdempotencyKeyInProgress(MediaportError):
    """The first request with this Idempotency-Key has not finished yet."""

    status, slug, title = 409, "idempotency-key-in-progress", "A request with this key is running"
    retry_after = 1  # presign takes well under a second


class IdempotencyKeyReused(MediaportError):
    """This Idempotency-Key was used with a different request (IETF draft: 422)."""

    status, slug, title = 422, "idempotency-key-reused", "This key was used for another request"


class VerificationFailed(MediaportError):
    status, slug, title = 422, "verification-failed", "The uploaded file was rejected"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().to_problem(instance), "rejectReason": self.reason}


class StorageUnavailable(MediaportError):
    """S3 could not be reached or answered with an outage; the cause is only logged."""

    status, slug, title = 503, "storage-unavailable", "Storage is temporarily unavailable"
    retry_after = 2

    def __init__(self, detail: str = "The file store did not answer; retry shortly.") -> None:
        super().__init__(detail)


class TableUnavailable(MediaportError):
    """DynamoDB throttled or failed; the cause is only logged."""

    status, slug, title = 503, "table-unavailable", "The asset table is temporarily unavailable"
    retry_after = 2

    def __init__(self, detail: str = "The asset table did not answer; retry shortly.") -> None:
        super().__init__(detail)


class InternalFailure(MediaportError):
    """Our bug (e.g. a request DynamoDB refuses as invalid): never worth a retry."""

    status, slug, title = 500, "internal-error", "Something went wrong on our side"

    def __init__(
        self, detail: str = "The request failed on our side; it was logged with its id."
    ) -> None:
        super().__init__(detail)


class TableRequestRefused(InternalFailure):
    """DynamoDB refused a request as invalid: our bug, reported without its text."""


class UploadNotInProgress(MediaportError):
    """The asset has no multipart upload going on (finished, aborted, or never one)."""

    status, slug, title = 409, "upload-not-in-progress", "No upload is in progress for this asset"


class PayloadTooLarge(MediaportError):
    """A request body over what the route takes; ``limit_bytes`` says how much it does."""

    status, slug, title = 413, "payload-too-large", "The request is too large"

    def __init__(self, detail: str, *, limit_bytes: int) -> None:
        super().__init__(detail)
        self.limit_bytes = limit_bytes

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().to_problem(instance), "limitBytes": self.limit_bytes}


class UnsupportedMediaType(MediaportError):
    status, slug, title = 415, "unsupported-media-type", "The request body is not of a type taken"


class UploadSessionNotFound(MediaportError):
    """An unknown, expired or revoked upload session token (never says which)."""

    status, slug, title = 404, "upload-session-not-found", "No such upload session"

    def __init__(
        self, detail: str = "This upload session does not exist, has expired or was revoked."
    ) -> None:
        super().__init__(detail)


class QuotaExceeded(MediaportError):
    """The upload does not fit the caller's tier (refused before anything is recorded)."""

    status, slug, title = 403, "quota-exceeded", "Storage quota exceeded"

    def __init__(
        self, detail: str, *, limit_bytes: int, used_bytes: int, remaining_bytes: int
    ) -> None:
        super().__init__(detail)
        self.limit_bytes, self.used_bytes, self.remaining_bytes = (
            limit_bytes,
            used_bytes,
            remaining_bytes,
        )

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {
            **super().to_problem(instance),
            "limitBytes": self.limit_bytes,
            "usedBytes": self.used_bytes,
            "remainingBytes": self.remaining_bytes,
        }
