"""Companion's S3 contract, as ``@uppy/aws-s3`` 6.x calls it, served within one upload
session: the same assets, rules and verification as the native routes.

Uppy declares no file size, so an asset started here has none: the scope's maximum bounds
it instead (in the POST policy, and at verification). Every ``key`` and ``uploadId`` Uppy
sends back is only a name: it must be one of this session's own uploads, or nothing is
touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mediaport import multipart, uploads
from mediaport.adapters import storage
from mediaport.adapters.records import UploadSession
from mediaport.errors import AssetNotFound
from mediaport.keys import is_asset_id, parse_object_key, pending_tagging
from mediaport.model import Asset
from mediaport.services import Services

# What Uppy's POST upload asks S3 for: a 201 (with an XML body Uppy ignores), not a redirect.
POST_SUCCESS_STATUS = "201"


@dataclass(frozen=True)
class UppyFile:
    """What Uppy says about a file (normalised by the API layer); its metadata may set
    the library fields, nothing else."""

    filename: str
    original_filename: str
    media_type: str
    alt_text: str | None = None
    caption: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PresignedPost:
    asset: Asset
    url: str
    fields: dict[str, str]


def presign_post(services: Services, session: UploadSession, file: UppyFile) -> PresignedPost:
    """A PENDING asset and a POST policy for it, bounded by the scope's maximum size.

    Nothing follows the POST on Uppy's side: the S3 event settles the asset.
    """
    asset, policy = uploads.start_pending(services, session.user_id, _intent(session, file))
    url, fields = storage.presign_post(
        asset.bucket,
        asset.key,
        asset.declared_type,
        (1, policy.max_bytes),
        pending_tagging(),
        services.settings.presign_expires_seconds,
        extra_fields={"success_action_status": POST_SUCCESS_STATUS},
    )
    return PresignedPost(asset=asset, url=url, fields=fields)


def start_multipart(services: Services, session: UploadSession, file: UppyFile) -> Asset:
    """A PENDING asset with an S3 multipart upload started for it (no part plan)."""
    started = multipart.start_multipart(services, session.user_id, _intent(session, file))
    return started.asset


def sign_part(
    services: Services, session: UploadSession, upload_id: str, key: str, part_number: int
) -> str:
    """A presigned PUT for one part of one of the session's uploads."""
    asset = session_upload(services, session, upload_id, key)
    signed = multipart.sign_parts(services, session.user_id, asset.asset_id, [part_number])
    return signed.urls[part_number]


def uploaded_parts(
    services: Services, session: UploadSession, upload_id: str, key: str
) -> list[storage.UploadedPart]:
    asset = session_upload(services, session, upload_id, key)
    return multipart.uploaded_parts(services, session.user_id, asset.asset_id)


def complete_multipart(
    services: Services,
    session: UploadSession,
    upload_id: str,
    key: str,
    parts: Sequence[tuple[int, str]],
) -> Asset:
    """Assemble and verify now: the READY asset, or ``VerificationFailed``."""
    asset = session_upload(services, session, upload_id, key)
    settlement = multipart.complete_multipart(services, session.user_id, asset.asset_id, parts)
    return uploads.require_ready(settlement)


def abort_multipart(services: Services, session: UploadSession, upload_id: str, key: str) -> Asset:
    asset = session_upload(services, session, upload_id, key)
    return multipart.abort_multipart(services, session.user_id, asset.asset_id)


def object_location(asset: Asset) -> str:
    """The object's S3 URL (what S3 answers as ``Location``; private, so not fetchable)."""
    signed = storage.presign_get(asset.bucket, asset.key, 60)
    return signed.split("?", 1)[0]


def session_upload(services: Services, session: UploadSession, upload_id: str, key: str) -> Asset:
    """The session's own asset named by ``key`` with exactly this ``uploadId``; 404 for
    anything else, whoever's it is."""
    parsed = parse_object_key(key)
    asset_id = parsed[1] if parsed is not None else ""
    asset = services.assets.get(asset_id) if is_asset_id(asset_id) else None
    if (
        asset is None
        or asset.user_id != session.user_id
        or asset.upload_session != session.session_id
        or asset.upload_id != upload_id
        or asset.key != key
    ):
        raise AssetNotFound("this upload session has no upload with this key and uploadId")
    return asset


def _intent(session: UploadSession, file: UppyFile) -> uploads.UploadIntent:
    return uploads.UploadIntent(
        filename=file.filename,
        original_filename=file.original_filename,
        media_type=file.media_type,
        size=None,
        scope=session.scope,
        folder=session.folder,
        alt_text=file.alt_text,
        caption=file.caption,
        tags=file.tags,
        upload_session=session.session_id,
        tier=session.tier,
    )
