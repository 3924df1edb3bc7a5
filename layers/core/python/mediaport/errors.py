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


class InvalidCursor(InvalidRequest):
    """A cursor this API did not return for this caller and this listing."""

    def __init__(self, why: str = "is not a cursor this API returned") -> None:
        super().__init__(f"the cursor {why}", errors=[{"field": "cursor", "detail": why}])


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


class AssetChanged(MediaportError):
    """If-Match named a version the asset no longer has."""

    status, slug, title = 412, "asset-changed", "The asset was changed since you read it"


class AssetNotReady(MediaportError):
    """The action needs a READY asset (delete, download, attach)."""

    status, slug, title = 409, "asset-not-ready", "The asset is not READY"


class AssetAttached(MediaportError):
    """Deleting an asset that is attached somewhere needs ``?detach=true``."""

    status, slug, title = 409, "asset-attached", "The asset is attached"

    def __init__(self, detail: str, *, attachments: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.attachments = attachments

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().to_problem(instance), "attachments": self.attachments}


class AssetPurged(MediaportError):
    """The asset's trash time is up: its files are (or are about to be) gone for good."""

    status, slug, title = 409, "asset-purged", "The asset was purged"


class AssetNotDeleted(MediaportError):
    status, slug, title = 409, "asset-not-deleted", "The asset is not in the trash"


class FolderExists(MediaportError):
    status, slug, title = 409, "folder-exists", "The folder exists already"


class FolderNotFound(MediaportError):
    status, slug, title = 404, "folder-not-found", "No such folder"


class FolderNotEmpty(MediaportError):
    """A folder that holds assets or subfolders is deleted only with ``?moveTo=``."""

    status, slug, title = 409, "folder-not-empty", "The folder is not empty"

    def __init__(self, detail: str, *, asset_count: int, subfolders: int) -> None:
        super().__init__(detail)
        self.asset_count, self.subfolders = asset_count, subfolders

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {
            **super().to_problem(instance),
            "assetCount": self.asset_count,
            "subfolders": self.subfolders,
        }


class EditConflict(MediaportError):
    """Another change kept winning the race for the same asset: try again."""

    status, slug, title = 409, "edit-conflict", "The asset is being changed by another request"
    retry_after = 1


# --- Attachments (docs/attachments.md) ------------------------------------------------


class EntityTypeNotFound(MediaportError):
    """The path names an entity type this deployment does not have."""

    status, slug, title = 404, "entity-type-not-found", "No such entity type"

    def __init__(self, detail: str, *, entity_types: list[str]) -> None:
        super().__init__(detail)
        self.entity_types = entity_types

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().to_problem(instance), "entityTypes": self.entity_types}


class EntityClaimed(MediaportError):
    """The first user to attach to an entity claims it; nobody else attaches or detaches."""

    status, slug, title = 403, "entity-claimed", "Another user's media is attached to this entity"


class NotOwnEntity(MediaportError):
    """A per-user entity type (an avatar) is named by its user's own id only."""

    status, slug, title = 403, "not-own-entity", "Only your own entity of this type"


class ScopeNotAllowed(MediaportError):
    """The asset's scope is not one the entity type takes."""

    status, slug, title = 422, "scope-not-allowed", "This asset's scope cannot be attached here"

    def __init__(self, detail: str, *, scope: str, allowed_scopes: list[str]) -> None:
        super().__init__(detail)
        self.scope, self.allowed_scopes = scope, allowed_scopes

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {
            **super().to_problem(instance),
            "scope": self.scope,
            "allowedScopes": self.allowed_scopes,
        }


class EntityFull(MediaportError):
    """The entity holds as many attachments as its type allows."""

    status, slug, title = 422, "entity-full", "The entity has no room for another attachment"

    def __init__(self, detail: str, *, max_attachments: int) -> None:
        super().__init__(detail)
        self.max_attachments = max_attachments

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().to_problem(instance), "maxAttachments": self.max_attachments}


class AssetAttachedTooOften(MediaportError):
    """The asset is attached to as many entities as one asset may be."""

    status, slug, title = 422, "attachment-limit", "The asset is attached to too many things"


class AttachmentNotFound(MediaportError):
    status, slug, title = 404, "attachment-not-found", "No such attachment"


class AvatarNotFound(MediaportError):
    status, slug, title = 404, "avatar-not-found", "The user has no avatar"


class AssetNotServed(MediaportError):
    """With scanning on, an asset is served (URLs, attachments, variants) only once its
    scan is clean; a quarantined one not until an admin releases it."""

    status, slug, title = 409, "asset-not-served", "The asset is not served"


class NotAnImage(MediaportError):
    """Image operations work on images (JPEG, PNG, WebP, GIF) only."""

    status, slug, title = 409, "not-an-image", "The asset is not an image"


class CropOutsideImage(InvalidRequest):
    """A crop rectangle that is not inside the (oriented) image."""

    slug, title = "crop-outside-image", "The crop is not inside the image"


class VariantLimitExceeded(MediaportError):
    """A variant that would break a limit: ``limit`` names which (``max-variants``,
    ``max-output-edge``, ``max-image-pixels``)."""

    status, slug, title = 422, "variant-limit-exceeded", "The variant would break a limit"

    def __init__(self, detail: str, *, limit: str, maximum: int) -> None:
        super().__init__(detail)
        self.limit, self.maximum = limit, maximum

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().to_problem(instance), "limit": self.limit, "maximum": self.maximum}


class VariantNotFound(MediaportError):
    status, slug, title = 404, "variant-not-found", "No such variant"


class AssetNotQuarantined(MediaportError):
    """Only a QUARANTINED asset can be released."""

    status, slug, title = 409, "asset-not-quarantined", "The asset is not quarantined"


class JobsUnavailable(MediaportError):
    """The jobs queue could not take the work (an outage: the same request may succeed)."""

    status, slug, title = 503, "jobs-unavailable", "The jobs queue is temporarily unavailable"
    retry_after = 5


class AssetQuarantined(MediaportError):
    """The upload settled, and the malware scan had already found a threat (or could not
    scan it, under the block policy): it is QUARANTINED, never served."""

    status, slug, title = 422, "asset-quarantined", "The file was quarantined"
