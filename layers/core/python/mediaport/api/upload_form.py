"""The direct upload's request: ``multipart/form-data`` read with python-multipart's
streaming parser, within the size limit, and its fields checked by the JSON API's rules.

Everything is checked here, before anything is recorded: a request this module refuses
leaves no trace.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from mediaport.api.schemas import (
    CONTROL_CHARACTERS,
    AltText,
    Filename,
    FolderPath,
    KnownMediaType,
    RequestModel,
)
from mediaport.direct import MAX_DIRECT_REQUEST_BYTES, MAX_DIRECT_UPLOAD_BYTES, file_too_large
from mediaport.errors import InvalidRequest, UnsupportedMediaType
from mediaport.policy import DEFAULT_SCOPE, EXTENSIONS, normalize_media_type
from mediaport.uploads import UploadIntent

FORM_DATA = "multipart/form-data"
FILE_FIELD = "file"
TEXT_FIELDS = ("scope", "folder", "altText")
# The body is parsed as it would be streamed, a chunk at a time.
_CHUNK_BYTES = 64 * 1024
# What a client sends when it does not know the type: the file name's extension then says.
_UNKNOWN_TYPES = {"", "application/octet-stream"}


def _normalized(value: object) -> object:
    return normalize_media_type(value) if isinstance(value, str) else value


class DirectUploadForm(RequestModel):
    """The form's fields, by the same rules as the JSON API's."""

    filename: Filename
    content_type: Annotated[KnownMediaType, BeforeValidator(_normalized)]
    scope: str = Field(
        default=DEFAULT_SCOPE, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"
    )
    folder: FolderPath | None = None
    alt_text: AltText | None = None

    def to_intent(self, size: int) -> UploadIntent:
        return UploadIntent(
            filename=self.filename,
            original_filename=CONTROL_CHARACTERS.sub("", self.filename),
            media_type=self.content_type,
            size=size,
            scope=self.scope,
            folder=self.folder,
            alt_text=self.alt_text,
        )


@dataclass(frozen=True)
class DirectUploadRequest:
    intent: UploadIntent
    body: bytes


def read_direct_upload(event: Mapping[str, Any]) -> DirectUploadRequest:
    """The upload an HTTP API event carries; the problem to answer when it carries none.

    413 when the Content-Length header (checked before anything is decoded), the decoded
    body or the file part is over the limit; 415 when the body is not a form; 400 for a
    malformed form, no ``file`` field, or a field the JSON API would refuse.
    """
    headers = {
        str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()
    }
    if _declared_length_over_the_limit(headers.get("content-length", "")):
        raise file_too_large()
    if not headers.get("content-type") and not event.get("body"):
        # Nothing was sent, in no format: the file is missing (415 is for a body whose
        # type is not taken).
        raise _no_file()
    boundary = _form_boundary(headers.get("content-type", ""))
    body = _body_bytes(event)
    if len(body) > MAX_DIRECT_REQUEST_BYTES:
        raise file_too_large()
    parts = _parse_form(body, boundary)
    file = _the_file(parts)
    form = _validated(file, _text_fields(parts))
    return DirectUploadRequest(intent=form.to_intent(len(file.data)), body=bytes(file.data))


def _declared_length_over_the_limit(value: str) -> bool:
    # Only a plain number counts (API Gateway refuses a malformed one itself); the decoded
    # body is measured anyway. A number of 16 digits or more is over any limit.
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()):
        return False
    return len(digits) > 15 or int(digits) > MAX_DIRECT_REQUEST_BYTES


@dataclass
class _Part:
    name: str | None = None
    filename: str | None = None
    content_type: str | None = None
    data: bytearray = field(default_factory=bytearray)


def _form_boundary(content_type: str) -> bytes:
    # The parser takes header text as latin-1 (one character per byte of the header): a
    # character beyond it cannot be in a real header, so it becomes "?" rather than fail.
    header = content_type.encode("latin-1", "replace").decode("latin-1")
    kind, options = parse_options_header(header)
    if kind.decode("latin-1") != FORM_DATA:
        shown = kind.decode("latin-1") or "a body of no stated type"
        raise UnsupportedMediaType(
            f"a direct upload is {FORM_DATA} with a file field, not {shown[:100]}"
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise _malformed("its Content-Type names no boundary")
    return boundary


def _body_bytes(event: Mapping[str, Any]) -> bytes:
    # The raw bytes matter: API Gateway base64-encodes a body that is not text (every
    # multipart one); one it passed as text is the UTF-8 of the bytes sent.
    raw = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            return base64.b64decode(raw, validate=True)
        return str(raw).encode("utf-8")
    except (binascii.Error, ValueError):
        raise _malformed("it could not be decoded") from None


def _parse_form(body: bytes, boundary: bytes) -> list[_Part]:
    parts: list[_Part] = []
    current = _Part()
    header_name, header_value = bytearray(), bytearray()

    def on_part_begin() -> None:
        nonlocal current
        current = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        _read_part_header(current, bytes(header_name), bytes(header_value))
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current.data.extend(data[start:end])
        # Stop reading a file over the limit at once (the body check allows the overhead).
        if current.name == FILE_FIELD and len(current.data) > MAX_DIRECT_UPLOAD_BYTES:
            raise file_too_large()

    def on_part_end() -> None:
        parts.append(current)

    if not body:
        return parts
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": on_part_begin,
                "on_header_field": on_header_field,
                "on_header_value": on_header_value,
                "on_header_end": on_header_end,
                "on_part_data": on_part_data,
                "on_part_end": on_part_end,
            },
        )
        for offset in range(0, len(body), _CHUNK_BYTES):
            parser.write(body[offset : offset + _CHUNK_BYTES])
        parser.finalize()
    except FormParserError:
        raise _malformed("it is not valid multipart/form-data") from None
    if parser.state != MultipartState.END:
        raise _malformed("it ends before the form's closing boundary")
    return parts


def _read_part_header(part: _Part, name: bytes, value: bytes) -> None:
    # Header bytes are kept as they came (latin-1 maps each byte to one character);
    # browsers send non-ASCII file names as raw UTF-8.
    header = name.decode("latin-1").strip().lower()
    if header == "content-disposition":
        disposition, options = parse_options_header(value.decode("latin-1"))
        if disposition != b"form-data":
            raise _malformed("a part is not form-data")
        part.name = _text(options.get(b"name"))
        part.filename = _text(options.get(b"filename"))
    elif header == "content-type":
        part.content_type = value.decode("latin-1").strip()


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _the_file(parts: list[_Part]) -> _Part:
    files = [part for part in parts if part.name == FILE_FIELD]
    if not files:
        raise _no_file()
    if len(files) > 1:
        raise InvalidRequest(
            "a direct upload takes one file", errors=[_problem(FILE_FIELD, "is given twice")]
        )
    if files[0].filename is None:
        raise InvalidRequest(
            "the file field is not a file",
            errors=[_problem(FILE_FIELD, "must be a file, with a filename")],
        )
    return files[0]


def _text_fields(parts: list[_Part]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in parts:
        if part.name not in TEXT_FIELDS:
            continue  # other fields are ignored, as a JSON body's unknown keys are
        if part.name in fields:
            raise InvalidRequest(
                f"{part.name} is given twice", errors=[_problem(part.name, "is given twice")]
            )
        try:
            fields[part.name] = bytes(part.data).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest(
                f"{part.name} is not UTF-8 text",
                errors=[_problem(part.name, "is not UTF-8 text")],
            ) from None
    # An HTML form sends an empty input as "": the field was left out.
    return {name: value for name, value in fields.items() if value != ""}


def _validated(file: _Part, fields: dict[str, str]) -> DirectUploadForm:
    filename = file.filename or ""
    try:
        return DirectUploadForm.model_validate(
            {
                **fields,
                "filename": filename,
                "contentType": _declared_type(file.content_type, filename),
            }
        )
    except ValidationError as error:
        problems = [_field_problem(item) for item in error.errors()]
        names = ", ".join(dict.fromkeys(problem["field"] for problem in problems))
        raise InvalidRequest(f"invalid {names}", errors=problems) from None


def _declared_type(part_type: str | None, filename: str) -> str:
    """The file part's Content-Type, or, when the client did not know it, the type the
    file name's extension names. Verification still decides from the bytes."""
    declared = normalize_media_type(part_type or "")
    if declared not in _UNKNOWN_TYPES:
        return declared
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    for media_type, extensions in EXTENSIONS.items():
        if extension in extensions:
            return media_type
    return declared or "application/octet-stream"


def _field_problem(item: Any) -> dict[str, str]:
    location = [str(part) for part in item.get("loc", ())]
    name = location[0] if location else "body"
    # The file's name and type are the file part's.
    field_name = FILE_FIELD if name in ("filename", "contentType") else name
    detail = "is required" if item.get("type") == "missing" else str(item.get("msg"))
    if name == "contentType":
        detail = f"has a type that cannot be uploaded ({detail})"
    return _problem(field_name, detail)


def _problem(field_name: str, detail: str) -> dict[str, str]:
    return {"field": field_name, "detail": detail}


def _no_file() -> InvalidRequest:
    return InvalidRequest(
        "the form has no file field", errors=[_problem(FILE_FIELD, "is required")]
    )


def _malformed(why: str) -> InvalidRequest:
    return InvalidRequest(f"the body is not a readable form: {why}", errors=[_problem("body", why)])
