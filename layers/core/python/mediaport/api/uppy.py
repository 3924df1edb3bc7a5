"""The Uppy side of the HTTP API: upload sessions, and Companion's S3 contract in exactly
the shapes ``@uppy/aws-s3`` 6.x sends and reads (so some names are PascalCase), plus the
doorway that keeps a session's token out of everything after it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from mediaport.api.schemas import (
    CONTROL_CHARACTERS,
    AltText,
    Caption,
    Filename,
    FolderPath,
    KnownMediaType,
    RequestModel,
    Tags,
)
from mediaport.companion import UppyFile
from mediaport.errors import InvalidRequest
from mediaport.model import CamelModel
from mediaport.policy import normalize_media_type
from mediaport.sessions import session_id_of

# The path parameters that carry a session's token.
TOKEN_PARAMETERS = ("session", "token")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def hide_session_token(event: dict[str, Any]) -> dict[str, Any]:
    """The event with the session token in its path swapped for the session id (the
    token's SHA-256) wherever the path appears.

    Run before Powertools sees the event: nothing after it (a logged event, Powertools'
    debug lines, a problem's ``instance``, a trace) can then hold the token. The routes
    receive the session id, which is all they need.
    """
    parameters = dict(event.get("pathParameters") or {})
    token = next((parameters[name] for name in TOKEN_PARAMETERS if name in parameters), None)
    if token is None:
        return event
    session_id = session_id_of(token)

    def swap(path: str) -> str:
        return "/".join(
            session_id if unquote(segment) == token else segment for segment in path.split("/")
        )

    hidden = {
        **event,
        "pathParameters": {
            name: session_id if name in TOKEN_PARAMETERS else value
            for name, value in parameters.items()
        },
    }
    if isinstance(event.get("rawPath"), str):
        hidden["rawPath"] = swap(event["rawPath"])
    context = event.get("requestContext")
    if isinstance(context, dict) and isinstance(context.get("http"), dict):
        http = dict(context["http"])
        if isinstance(http.get("path"), str):
            http["path"] = swap(http["path"])
        hidden["requestContext"] = {**context, "http": http}
    return hidden


def api_base_url(event: APIGatewayProxyEventV2) -> str:
    """The URL this request reached the API at: its domain, and its stage unless the
    default one. API Gateway says the scheme (X-Forwarded-Proto); the local gateway, plain
    HTTP on loopback, says none."""
    host = event.request_context.domain_name
    scheme = event.headers.get("x-forwarded-proto") or (
        "http" if host.rsplit(":", 1)[0] in _LOOPBACK_HOSTS or host in _LOOPBACK_HOSTS else "https"
    )
    stage = event.request_context.stage
    return f"{scheme}://{host}" + ("" if stage in (None, "$default") else f"/{stage}")


# --- sessions ----------------------------------------------------------------------------


class OpenSessionRequest(RequestModel):
    scope: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The scope every upload of the session goes to.",
        examples=["GENERIC"],
    )
    folder: FolderPath | None = Field(
        default=None, description="The folder every upload of the session goes to."
    )


class UploadSessionView(CamelModel):
    companion_endpoint: str = Field(
        description="Give it to Uppy: `new Uppy().use(AwsS3, { companionEndpoint })`. It is "
        "a capability URL: whoever holds it may upload as you into the session's scope and "
        "folder until `expiresAt`. Its last path segment is the token that revokes it.",
        examples=["https://api.example.com/uppy/Zq3…"],
    )
    expires_at: datetime


# --- Companion's S3 contract ---------------------------------------------------------------


def normalized_type(value: object) -> object:
    """``Image/JPG`` → ``image/jpeg`` (case, parameters and aliases), as at presign."""
    return normalize_media_type(value) if isinstance(value, str) else value


MediaType = Annotated[KnownMediaType, BeforeValidator(normalized_type)]


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def split_tags(value: object) -> object:
    """Tags as Uppy may send them: a JSON list (a multipart body), or text (a query turns a
    list into ``a,b``): a JSON array, or a comma-separated list whose blanks are dropped."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        parsed = json.loads(text)
        if not isinstance(parsed, list) or not all(isinstance(tag, str) for tag in parsed):
            raise ValueError("a JSON array of tags holds strings only")
        return parsed
    return [tag for tag in text.split(",") if tag.strip()]


class UppyMetadata(RequestModel):
    """A file's Uppy metadata: altText, caption and tags are kept (blank is none); every
    other field (name, type, relativePath…) is ignored."""

    alt_text: Annotated[AltText | None, BeforeValidator(_blank_is_none)] = None
    caption: Annotated[Caption | None, BeforeValidator(_blank_is_none)] = None
    tags: Annotated[Tags | None, BeforeValidator(split_tags)] = Field(
        default=None,
        description="A JSON array, or text: a JSON array or a comma-separated list. At most "
        "20 tags of at most 50 characters; trimmed, lower-cased and de-duplicated.",
    )


class UppyFileRequest(RequestModel):
    """What Uppy says about a file before uploading it (``POST /s3/multipart``'s body)."""

    filename: Filename = Field(description="The file's name; the server builds the key.")
    type: MediaType = Field(description="The file's media type; the session's scope must allow it.")
    metadata: UppyMetadata | None = None

    def to_file(self) -> UppyFile:
        metadata = self.metadata or UppyMetadata()
        return UppyFile(
            filename=self.filename,
            original_filename=CONTROL_CHARACTERS.sub("", self.filename),
            media_type=self.type,
            alt_text=metadata.alt_text,
            caption=metadata.caption,
            tags=tuple(metadata.tags or ()),
        )


def file_from_query(
    filename: str, media_type: str, alt_text: str | None, caption: str | None, tags: str | None
) -> UppyFile:
    """The file ``GET /s3/params`` describes (``metadata[…]`` parameters), checked by the
    same rules as a multipart body; a problem names the query parameter."""
    try:
        request = UppyFileRequest.model_validate(
            {
                "filename": filename,
                "type": media_type,
                "metadata": {"altText": alt_text, "caption": caption, "tags": tags},
            }
        )
    except ValidationError as error:
        errors = [
            {"field": _query_name(item["loc"]), "detail": str(item.get("msg", "is not valid"))}
            for item in error.errors()
        ]
        fields = ", ".join(dict.fromkeys(problem["field"] for problem in errors))
        raise InvalidRequest(f"invalid {fields}", errors=errors) from None
    return request.to_file()


def _query_name(location: tuple[Any, ...]) -> str:
    if len(location) >= 2 and location[0] == "metadata":
        return f"metadata[{location[1]}]"
    return str(location[0]) if location else "query"


class S3PostParams(BaseModel):
    method: Literal["POST"] = "POST"
    url: str = Field(description="The bucket's URL: POST the form here.")
    fields: dict[str, str] = Field(
        description="Send these form fields, then the file. `key` is the object key the "
        "server chose; the policy bounds the size by the scope's maximum."
    )


class MultipartCreated(CamelModel):
    upload_id: str
    key: str


class SignedPart(BaseModel):
    url: str = Field(description="A presigned PUT for this part's bytes.")


class UppyPart(BaseModel):
    """A part storage holds, named as S3 names it."""

    model_config = ConfigDict(populate_by_name=True)

    part_number: int = Field(alias="PartNumber")
    etag: str = Field(alias="ETag")
    size: int = Field(alias="Size")


class UppyCompletedPart(RequestModel):
    """One uploaded part; any other field is ignored."""

    part_number: int = Field(alias="PartNumber", ge=1, le=10_000, strict=True)
    etag: str = Field(alias="ETag", min_length=1, max_length=128, pattern=r'^"?[A-Za-z0-9-]+"?$')


class UppyCompleteRequest(RequestModel):
    parts: list[UppyCompletedPart] = Field(min_length=1, max_length=10_000)


class MultipartCompleted(BaseModel):
    location: str = Field(description="The object's storage URL (private: not fetchable).")
    key: str = Field(description="The object key; its third segment is the assetId.")
    bucket: str
