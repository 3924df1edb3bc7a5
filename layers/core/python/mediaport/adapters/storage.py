"""The media bucket: the only module that talks to S3.

botocore errors are translated here, once: an outage becomes ``StorageUnavailable`` with a
fixed sentence (the cause is logged with the request's correlation id), a deleted or
replaced object becomes ``ObjectChanged``.
"""

from __future__ import annotations

import functools
import io
import os
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError

from mediaport import names
from mediaport.errors import StorageUnavailable
from mediaport.observability import logger

_MISSING = {"404", "NoSuchKey", "NotFound"}
_REPLACED = {"412", "PreconditionFailed"}


class ObjectChanged(Exception):
    """The object was deleted or replaced while it was being read (not an outage)."""


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str
    content_type: str | None
    # What S3 recorded when the upload sent one (base64); multipart: a checksum of checksums.
    checksum_sha256: str | None = None


@dataclass(frozen=True)
class UploadedPart:
    part_number: int
    etag: str
    size: int


class UploadGone(Exception):
    """The multipart upload no longer exists: completed or aborted (not an outage)."""


class PartsRefused(Exception):
    """S3 refused to complete with these parts (a wrong ETag, a missing or a small part)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@functools.cache
def s3_client() -> Any:
    """One S3 client per process, built on first use and reused while warm."""
    import boto3
    from botocore.config import Config

    emulated = bool(os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))
    config = Config(
        signature_version="s3v4",
        # An emulator on 127.0.0.1 cannot serve bucket-name subdomains.
        s3={"addressing_style": "path" if emulated else "virtual"},
        retries={"mode": "standard", "max_attempts": 3},
    )
    # The region comes from the environment (Lambda sets AWS_REGION; so does the local stack).
    return boto3.client("s3", config=config)


def head_object(bucket: str, key: str) -> ObjectHead | None:
    """Size, ETag and type of an object, or None when there is no such object."""
    try:
        response = s3_client().head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as error:
        if _code(error) in _MISSING:
            return None
        raise _unavailable("read", key, error) from error
    except BotoCoreError as error:
        raise _unavailable("read", key, error) from error
    return ObjectHead(
        size=response["ContentLength"],
        etag=response["ETag"].strip('"'),
        content_type=response.get("ContentType"),
        checksum_sha256=response.get("ChecksumSHA256"),
    )


def read_range(bucket: str, key: str, start: int, end: int, etag: str | None = None) -> bytes:
    """Bytes ``start..end`` (inclusive) of an object; only of version ``etag`` when given."""
    return _get_bytes(bucket, key, etag, Range=f"bytes={start}-{end}")


def _get_bytes(bucket: str, key: str, etag: str | None, **params: Any) -> bytes:
    if etag:
        params["IfMatch"] = f'"{etag}"'
    try:
        body = s3_client().get_object(Bucket=bucket, Key=key, **params)["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()
    except ClientError as error:
        if _code(error) in _MISSING | _REPLACED:
            raise ObjectChanged(f"{key} was deleted or replaced while it was read") from error
        raise _unavailable("read", key, error) from error
    except BotoCoreError as error:
        raise _unavailable("read", key, error) from error


class RangedObject(io.RawIOBase):
    """A seekable, read-only view of one object version that fetches only the ranges read.

    Wrapped in ``io.BufferedReader`` it lets Pillow read an image's header without
    downloading the file, and a decompression bomb is refused after a few kilobytes.
    """

    def __init__(self, bucket: str, key: str, head: ObjectHead) -> None:
        self._bucket, self._key, self._head = bucket, key, head
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._head.size}
        self._position = max(0, base[whence] + offset)
        return self._position

    def readall(self) -> bytes:
        """The rest of the object in one ranged GET (the default reads 8 KB at a time)."""
        if self._position >= self._head.size:
            return b""
        data = read_range(
            self._bucket, self._key, self._position, self._head.size - 1, self._head.etag
        )
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._position >= self._head.size or not len(view):
            return 0
        end = min(self._position + len(view), self._head.size) - 1
        data = read_range(self._bucket, self._key, self._position, end, self._head.etag)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)


def open_object(bucket: str, key: str, head: ObjectHead, block_size: int = 256 * 1024) -> Any:
    """A buffered, seekable file over one object version (see ``RangedObject``)."""
    return io.BufferedReader(RangedObject(bucket, key, head), buffer_size=block_size)


def read_object(bucket: str, key: str, etag: str) -> bytes:
    """The whole of one object version (``etag``); a newer version fails as unavailable."""
    return _get_bytes(bucket, key, etag)


# Variant keys name the bytes they were made from (content-addressed), so a key's content
# never changes and may be cached for good.
VARIANT_CACHE_CONTROL = names.VARIANT_CACHE_CONTROL


def put_variant(
    bucket: str,
    key: str,
    data: bytes,
    media_type: str = "image/webp",
    tags: dict[str, str] | None = None,
) -> None:
    """Store a derived image (under ``derived/``, which does not notify), with ``tags``."""
    tagging = {"Tagging": urlencode(tags)} if tags else {}
    try:
        s3_client().put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=media_type,
            CacheControl=VARIANT_CACHE_CONTROL,
            **tagging,
        )
    except (ClientError, BotoCoreError) as error:
        raise _unavailable("write", key, error) from error


def delete_object(bucket: str, key: str) -> None:
    """Delete an object (no error when it is already gone)."""
    try:
        s3_client().delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as error:
        raise _unavailable("delete", key, error) from error


def delete_prefix(bucket: str, prefix: str, keep_prefix: str | None = None) -> int:
    """Delete every object under ``prefix`` but those under ``keep_prefix``; how many."""
    deleted = 0
    try:
        pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            keys = [
                {"Key": item["Key"]}
                for item in page.get("Contents", [])
                if not (keep_prefix and item["Key"].startswith(keep_prefix))
            ]
            if not keys:
                continue
            # A page holds at most 1000 keys: exactly what one DeleteObjects takes.
            response = s3_client().delete_objects(
                Bucket=bucket, Delete={"Objects": keys, "Quiet": True}
            )
            if response.get("Errors"):
                failed = response["Errors"][0]
                raise _unavailable("delete", failed.get("Key", prefix), Exception(failed))
            deleted += len(keys)
    except (ClientError, BotoCoreError) as error:
        raise _unavailable("delete", prefix, error) from error
    return deleted


def tag_pending(bucket: str, key: str, keep: tuple[str, ...] = ()) -> None:
    """Put the pending-upload tag back (its asset did not become READY after all), and
    keep the object's tags named in ``keep`` (the malware scan's, when scanning is on)."""
    pending = {names.PENDING_TAG_KEY: names.PENDING_TAG_VALUE}
    try:
        kept = _tags_of(bucket, key, keep) if keep else {}
        _put_tags(bucket, key, {**kept, **pending})
    except ClientError as error:
        if _code(error) in _MISSING:
            return
        raise _unavailable("tag", key, error) from error
    except BotoCoreError as error:
        raise _unavailable("tag", key, error) from error


def clear_tags(
    bucket: str,
    key: str,
    keep: tuple[str, ...] = (),
    add: dict[str, str] | None = None,
) -> dict[str, str]:
    """Remove an object's tags (the pending-upload tag the lifecycle rule expires on) but
    those named in ``keep``, and set ``add``; what was kept (``add`` not included).

    Without ``keep`` this is one call (DeleteObjectTagging, or PutObjectTagging of
    ``add``). With it, the tags are read and written back (S3 has no conditional tagging:
    a tag written by someone else between the two calls would be lost, so only pass
    ``keep`` when scanning is on: the bucket policy then refuses such a write).
    """
    add = add or {}
    try:
        kept = _tags_of(bucket, key, keep) if keep else {}
        if kept or add:
            _put_tags(bucket, key, {**kept, **add})
        else:
            s3_client().delete_object_tagging(Bucket=bucket, Key=key)
        return kept
    except ClientError as error:
        if _code(error) in _MISSING:
            return {}
        raise _unavailable("untag", key, error) from error
    except BotoCoreError as error:
        raise _unavailable("untag", key, error) from error


def set_tag(bucket: str, key: str, name: str, value: str | None) -> None:
    """Set (or, with None, remove) one tag of an object, keeping its others; nothing when
    the object is gone."""
    try:
        tags = {
            tag["Key"]: tag["Value"]
            for tag in s3_client().get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        }
        if tags.get(name) == value:
            return
        tags.pop(name, None)
        if value is not None:
            tags[name] = value
        if tags:
            _put_tags(bucket, key, tags)
        else:
            s3_client().delete_object_tagging(Bucket=bucket, Key=key)
    except ClientError as error:
        if _code(error) in _MISSING:
            return
        raise _unavailable("tag", key, error) from error
    except BotoCoreError as error:
        raise _unavailable("tag", key, error) from error


def _tags_of(bucket: str, key: str, names_: tuple[str, ...]) -> dict[str, str]:
    tag_set = s3_client().get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tag_set if tag["Key"] in names_}


def _put_tags(bucket: str, key: str, tags: dict[str, str]) -> None:
    s3_client().put_object_tagging(
        Bucket=bucket,
        Key=key,
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
    )


def copy_object(
    bucket: str,
    source_key: str,
    target_key: str,
    etag: str,
    tags: dict[str, str] | None = None,
) -> str:
    """Copy the object (still the bytes whose ETag is ``etag``) to ``target_key`` with
    ``tags`` instead of its own; the copy's ETag. ``ObjectChanged`` when the source is
    gone or replaced.

    One CopyObject: up to 5 GB (a larger object would need a multipart copy).
    """
    try:
        response = s3_client().copy_object(
            Bucket=bucket,
            Key=target_key,
            CopySource={"Bucket": bucket, "Key": source_key},
            CopySourceIfMatch=etag,
            TaggingDirective="REPLACE",
            Tagging=urlencode(tags or {}),
            MetadataDirective="COPY",
        )
    except ClientError as error:
        if _code(error) in _MISSING | _REPLACED:
            raise ObjectChanged(source_key) from error
        raise _unavailable("copy", source_key, error) from error
    except BotoCoreError as error:
        raise _unavailable("copy", source_key, error) from error
    return str(response["CopyObjectResult"]["ETag"]).strip('"')


def presign_put(
    bucket: str,
    key: str,
    content_type: str,
    size: int,
    tagging: str,
    expires_in: int,
    checksum_sha256: str | None = None,
) -> tuple[str, dict[str, str]]:
    """A presigned PUT URL and the headers the client must send with it (they are signed).

    ``Content-Length`` is signed, so S3 refuses a body of any other size (a browser sets
    it from the body itself). ``If-None-Match: *`` makes S3 refuse (412) a second PUT to
    the key, so the URL cannot replace bytes already uploaded (and perhaps verified).
    A declared SHA-256 is signed too: S3 refuses a body that does not match it.
    """
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ContentType": content_type,
        "ContentLength": size,
        "Tagging": tagging,
        "IfNoneMatch": "*",
    }
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(size),
        "x-amz-tagging": tagging,
        "If-None-Match": "*",
    }
    if checksum_sha256:
        params["ChecksumSHA256"] = checksum_sha256
        headers["x-amz-checksum-sha256"] = checksum_sha256
    url = s3_client().generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
    return url, headers


def presign_post(
    bucket: str,
    key: str,
    content_type: str,
    size: int | tuple[int, int],
    tagging: str,
    expires_in: int,
    extra_fields: dict[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """A presigned POST policy: S3 itself enforces the size (exact, or a ``(min, max)``
    range when none was declared), the exact type, and every extra field as given."""
    tagging_xml = _tagging_document(tagging)
    smallest, largest = size if isinstance(size, tuple) else (size, size)
    fields = {"Content-Type": content_type, "tagging": tagging_xml, **(extra_fields or {})}
    post = s3_client().generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields=fields,
        Conditions=[
            *({name: value} for name, value in fields.items()),
            ["content-length-range", smallest, largest],
        ],
        ExpiresIn=expires_in,
    )
    return post["url"], post["fields"]


def put_object(bucket: str, key: str, body: bytes, content_type: str, tagging: str) -> None:
    """Store bytes the API itself received (a direct upload), tagged like a presigned one.

    ``If-None-Match: *``: a key is written once, as a presigned PUT is.
    """
    try:
        s3_client().put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            Tagging=tagging,
            IfNoneMatch="*",
        )
    except (ClientError, BotoCoreError) as error:
        raise _unavailable("write", key, error) from error


# --- multipart uploads ------------------------------------------------------------------


def create_multipart(bucket: str, key: str, content_type: str, tagging: str) -> str:
    """Start a multipart upload whose object will carry ``tagging``; its UploadId."""
    try:
        response = s3_client().create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type, Tagging=tagging
        )
    except (ClientError, BotoCoreError) as error:
        raise _unavailable("start upload", key, error) from error
    return str(response["UploadId"])


def presign_part(
    bucket: str,
    key: str,
    upload_id: str,
    part_number: int,
    expires_in: int,
    size: int | None = None,
    checksum_sha256: str | None = None,
) -> str:
    """A presigned PUT for one part. ``size`` is signed as its Content-Length (S3 refuses
    any other), and so is a declared SHA-256 (S3 refuses other bytes)."""
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "UploadId": upload_id,
        "PartNumber": part_number,
    }
    if size is not None:
        params["ContentLength"] = size
    if checksum_sha256:
        params["ChecksumSHA256"] = checksum_sha256
    return str(
        s3_client().generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_in)
    )


def list_parts(bucket: str, key: str, upload_id: str) -> list[UploadedPart]:
    """Every part uploaded so far, in part order; ``UploadGone`` when the upload is over."""
    parts: list[UploadedPart] = []
    try:
        pages = s3_client().get_paginator("list_parts")
        for page in pages.paginate(Bucket=bucket, Key=key, UploadId=upload_id):
            parts += [
                UploadedPart(int(item["PartNumber"]), item["ETag"].strip('"'), int(item["Size"]))
                for item in page.get("Parts", [])
            ]
    except ClientError as error:
        if _code(error) == "NoSuchUpload":
            raise UploadGone(upload_id) from error
        raise _unavailable("list parts", key, error) from error
    except BotoCoreError as error:
        raise _unavailable("list parts", key, error) from error
    return parts


def complete_multipart(bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
    """Complete with ``(partNumber, etag)`` pairs (nothing else goes to S3).

    ``UploadGone`` when it was completed or aborted already; ``PartsRefused`` when S3
    refuses the list (an ETag that is not the part's, a part too small, a wrong order).
    """
    listed = [{"PartNumber": number, "ETag": f'"{etag.strip(chr(34))}"'} for number, etag in parts]
    try:
        s3_client().complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
        )
    except ClientError as error:
        code = _code(error)
        if code == "NoSuchUpload":
            raise UploadGone(upload_id) from error
        if code in _PARTS_REFUSED:
            raise PartsRefused(code) from error
        raise _unavailable("complete upload", key, error) from error
    except BotoCoreError as error:
        raise _unavailable("complete upload", key, error) from error


def abort_multipart(bucket: str, key: str, upload_id: str) -> None:
    """Abort a multipart upload and free its parts (no error when it is already over)."""
    try:
        s3_client().abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except ClientError as error:
        if _code(error) == "NoSuchUpload":
            return
        raise _unavailable("abort upload", key, error) from error
    except BotoCoreError as error:
        raise _unavailable("abort upload", key, error) from error


_PARTS_REFUSED = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def presign_get(bucket: str, key: str, expires_in: int) -> str:
    """A short-lived download URL for a private object."""
    return str(
        s3_client().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
        )
    )


def presign_download(
    bucket: str, key: str, expires_in: int, filename: str, media_type: str | None
) -> str:
    """A short-lived URL that downloads the object as an attachment named ``filename``
    (RFC 6266: an ASCII fallback, and the exact name as RFC 5987 ``filename*``)."""
    params = {
        "Bucket": bucket,
        "Key": key,
        "ResponseContentDisposition": content_disposition(filename),
    }
    if media_type:
        params["ResponseContentType"] = media_type
    return str(
        s3_client().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
    )


def content_disposition(filename: str) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded``: the ASCII
    fallback drops accents (Été → Ete) and replaces anything else unsafe."""
    decomposed = unicodedata.normalize("NFKD", filename)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    fallback = (
        "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%;' else "_" for c in plain).strip()
        or "download"
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _tagging_document(tagging: str) -> str:
    # A POST upload takes its tags as an XML document rather than a query string.
    tags = "".join(
        f"<Tag><Key>{key}</Key><Value>{value}</Value></Tag>"
        for key, _, value in (pair.partition("=") for pair in tagging.split("&"))
    )
    return f"<Tagging><TagSet>{tags}</TagSet></Tagging>"


def _unavailable(doing: str, key: str, error: Exception) -> StorageUnavailable:
    # The cause (botocore's text) is for the log; the client gets a fixed sentence.
    logger.warning(
        "storage request failed", extra={"doing": doing, "key": key, "error": str(error)}
    )
    return StorageUnavailable()
