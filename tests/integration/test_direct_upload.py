"""POST /media/upload: a small file in a multipart/form-data request, stored and verified
before the answer — 201 READY, 422 REJECTED — or refused before anything is recorded."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from werkzeug.test import TestResponse

from infra.local import lambdas
from infra.local.events import http_api_event
from mediaport.adapters import storage
from mediaport.direct import MAX_DIRECT_REQUEST_BYTES, MAX_DIRECT_UPLOAD_BYTES
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.faults import aws_fails

PROBLEM_JSON = "application/problem+json"
_NO_TYPE = object()


def form_data_request(
    file: tuple[str | None, bytes, Any] | None = None, **fields: str
) -> dict[str, Any]:
    """``data`` and ``headers`` for a multipart/form-data request, as a browser builds it:
    the text fields, then ``file`` as ``(filename, bytes, content type)``. A filename of
    None sends the part without one; a type of ``_NO_TYPE`` sends it without a type."""
    boundary = f"----mediaport{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    if file is not None:
        filename, data, content_type = file
        disposition = 'form-data; name="file"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type is not _NO_TYPE:
            head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return {
        "data": b"".join(chunks),
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    }


def direct_upload(
    stack: Stack,
    file: tuple[str | None, bytes, Any] | None,
    user: str = "alice",
    **fields: str,
) -> TestResponse:
    return stack.call("POST", "/media/upload", user=user, **form_data_request(file, **fields))


def invoke(event_body: bytes, *, base64_encoded: bool, **headers: str) -> dict[str, Any]:
    """Call the function itself with an HTTP API event, as API Gateway would (so the
    event's body and headers are exactly as given)."""
    event = http_api_event(
        method="POST",
        path="/media/upload",
        route_key="POST /media/upload",
        headers=headers,
        claims={"sub": "alice"},
    )
    event["isBase64Encoded"] = base64_encoded
    event["body"] = base64.b64encode(event_body).decode() if base64_encoded else event_body.decode()
    result: dict[str, Any] = lambdas.invoke("direct_upload", event)
    return result


def problem_of(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    problem: dict[str, Any] = response.get_json()
    assert problem["status"] == status
    return problem


def items(stack: Stack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = stack.dynamodb.Table(stack.table).scan()["Items"]
    return found


def test_a_real_jpeg_is_stored_verified_and_ready(stack: Stack) -> None:
    photo = samples.jpeg_bytes(800, 600)

    response = direct_upload(stack, ("holiday photo.jpg", photo, "image/jpeg"))

    assert response.status_code == 201, response.get_data(as_text=True)
    asset = response.get_json()
    assert asset["status"] == "READY"
    assert asset["mimeType"] == "image/jpeg"
    assert (asset["width"], asset["height"]) == (800, 600)
    assert asset["size"] == asset["declaredSize"] == len(photo)
    assert asset["scope"] == "GENERIC"
    assert asset["originalFilename"] == "holiday photo.jpg"
    assert asset["url"]
    (item,) = items(stack)
    assert item["assetId"] == asset["assetId"]
    assert item["status"] == "READY"
    assert item["key"] == f"media/alice/{asset['assetId']}/holiday-photo.jpg"
    stored = stack.s3.get_object(Bucket=stack.bucket, Key=item["key"])
    assert stored["Body"].read() == photo
    assert stored["ContentType"] == "image/jpeg"
    # READY: the pending tag the lifecycle rule expires on is gone.
    assert stack.s3.get_object_tagging(Bucket=stack.bucket, Key=item["key"])["TagSet"] == []
    assert "expiresAt" not in item


def test_a_png_declared_as_jpeg_is_rejected_and_its_object_deleted(stack: Stack) -> None:
    response = direct_upload(stack, ("photo.jpg", samples.png_bytes(), "image/jpeg"))

    problem = problem_of(response, 422)
    assert problem["rejectReason"] == "TYPE_MISMATCH"
    (item,) = items(stack)
    assert item["status"] == "REJECTED"
    assert item["rejectReason"] == "TYPE_MISMATCH"
    assert not stack.object_exists(item["key"])


def test_scope_folder_and_alt_text_are_stored(stack: Stack) -> None:
    response = direct_upload(
        stack,
        ("avatar.png", samples.png_bytes(), "image/png"),
        scope="PROFILE_AVATAR",
        folder="/trips/2026/alps/",
        altText="Me, on a glacier",
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    asset = response.get_json()
    assert asset["scope"] == "PROFILE_AVATAR"
    assert asset["folder"] == "trips/2026/alps"
    assert asset["altText"] == "Me, on a glacier"
    (item,) = items(stack)
    assert (item["folder"], item["altText"]) == ("trips/2026/alps", "Me, on a glacier")


def test_empty_optional_fields_are_left_out(stack: Stack) -> None:
    # An HTML form sends the inputs left empty as "".
    response = direct_upload(
        stack, ("a.png", samples.png_bytes(), "image/png"), scope="", folder="", altText=""
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    asset = response.get_json()
    assert (asset["scope"], asset["folder"], asset["altText"]) == ("GENERIC", None, None)


@pytest.mark.parametrize(
    ("part_type", "filename", "declared"),
    [
        ("Image/JPG; name=x", "a.jpg", "image/jpeg"),  # normalised as the JSON API does
        (_NO_TYPE, "a.jpeg", "image/jpeg"),  # no type: the extension says
        ("application/octet-stream", "scan.pdf", "application/pdf"),
    ],
)
def test_the_declared_type_is_the_parts_type_or_else_the_extensions(
    stack: Stack, part_type: Any, filename: str, declared: str
) -> None:
    data = samples.PDF_BYTES if declared == "application/pdf" else samples.jpeg_bytes(32, 32)

    response = direct_upload(stack, (filename, data, part_type))

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["declaredType"] == declared


def test_a_file_of_exactly_4_mib_is_taken(stack: Stack) -> None:
    photo = samples.jpeg_bytes(64, 64)
    # Bytes after a JPEG's end-of-image marker are ignored by every decoder.
    data = photo + b"\x00" * (MAX_DIRECT_UPLOAD_BYTES - len(photo))

    response = direct_upload(stack, ("big.jpg", data, "image/jpeg"))

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["size"] == MAX_DIRECT_UPLOAD_BYTES


def test_a_file_one_byte_over_4_mib_gets_413_with_the_limit(stack: Stack) -> None:
    data = b"\xff" * (MAX_DIRECT_UPLOAD_BYTES + 1)

    response = direct_upload(stack, ("big.jpg", data, "image/jpeg"))

    problem = problem_of(response, 413)
    assert problem["limitBytes"] == MAX_DIRECT_UPLOAD_BYTES == 4_194_304
    assert "presign" in problem["detail"]
    assert items(stack) == []


def test_a_body_over_the_limit_gets_413_from_its_content_length(stack: Stack) -> None:
    data = b"\xff" * (MAX_DIRECT_REQUEST_BYTES + 1)

    response = direct_upload(stack, ("big.jpg", data, "image/jpeg"))

    assert problem_of(response, 413)["limitBytes"] == MAX_DIRECT_UPLOAD_BYTES
    assert items(stack) == []


def test_the_content_length_header_is_checked_before_the_body_is_read(stack: Stack) -> None:
    form = form_data_request(("a.png", samples.png_bytes(), "image/png"))

    result = invoke(
        form["data"],
        base64_encoded=True,
        **form["headers"],
        **{"Content-Length": str(MAX_DIRECT_REQUEST_BYTES + 1)},
    )

    assert result["statusCode"] == 413
    assert json.loads(result["body"])["limitBytes"] == MAX_DIRECT_UPLOAD_BYTES
    assert items(stack) == []


@pytest.mark.parametrize(
    ("content_length", "status"),
    [("9" * 40, 413), ("²", 201), ("12, 12", 201), ("-1", 201)],
    ids=["a huge number", "not ascii digits", "two values", "negative"],
)
def test_an_odd_content_length_is_never_a_500(
    stack: Stack, content_length: str, status: int
) -> None:
    form = form_data_request(("a.png", samples.png_bytes(), "image/png"))

    result = invoke(
        form["data"], base64_encoded=True, **form["headers"], **{"Content-Length": content_length}
    )

    assert result["statusCode"] == status, result["body"]


def test_a_body_whose_content_length_lies_gets_413(stack: Stack) -> None:
    form = form_data_request(("big.jpg", b"\xff" * (MAX_DIRECT_REQUEST_BYTES + 1), "image/jpeg"))

    result = invoke(
        form["data"], base64_encoded=True, **form["headers"], **{"Content-Length": "10"}
    )

    assert result["statusCode"] == 413
    assert result["headers"]["Content-Type"] == PROBLEM_JSON
    assert json.loads(result["body"])["limitBytes"] == MAX_DIRECT_UPLOAD_BYTES
    assert items(stack) == []


@pytest.mark.parametrize(
    ("data", "base64_encoded"),
    [
        (samples.jpeg_bytes(40, 30), True),  # what API Gateway does with a multipart body
        (samples.PDF_BYTES, False),  # a body that is text may come as it is
    ],
    ids=["base64", "text"],
)
def test_base64_and_text_events_are_both_read(
    stack: Stack, data: bytes, base64_encoded: bool
) -> None:
    content_type = "image/jpeg" if base64_encoded else "application/pdf"
    form = form_data_request(("file.bin", data, content_type))

    result = invoke(form["data"], base64_encoded=base64_encoded, **form["headers"])

    assert result["statusCode"] == 201, result["body"]
    (item,) = items(stack)
    assert item["status"] == "READY"
    stored = stack.s3.get_object(Bucket=stack.bucket, Key=item["key"])["Body"].read()
    assert stored == data


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"filename": "a.jpg"}', "application/json"),
        (b"file=a.jpg", "application/x-www-form-urlencoded"),
        (samples.jpeg_bytes(8, 8), "image/jpeg"),
        (samples.jpeg_bytes(8, 8), None),
        (b"", "application/json"),
    ],
    ids=["json", "urlencoded", "raw bytes", "bytes of no stated type", "an empty json body"],
)
def test_a_body_that_is_not_a_form_gets_415(
    stack: Stack, body: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}

    response = stack.call("POST", "/media/upload", data=body, headers=headers)

    assert "multipart/form-data" in problem_of(response, 415)["detail"]
    assert items(stack) == []


def test_a_form_without_a_file_gets_400_naming_file(stack: Stack) -> None:
    response = direct_upload(stack, None, scope="GENERIC")

    problem = problem_of(response, 400)
    assert problem["errors"] == [{"field": "file", "detail": "is required"}]
    assert items(stack) == []


def test_a_request_with_no_body_at_all_gets_400_naming_file(stack: Stack) -> None:
    response = stack.call("POST", "/media/upload")

    assert problem_of(response, 400)["errors"] == [{"field": "file", "detail": "is required"}]
    assert items(stack) == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"file": (None, b"not a file", "image/png")}, "file"),  # a field, not a file
        ({"file": ("", b"", "application/octet-stream")}, "file"),  # no file chosen
        ({"file": ("a.jpg", b"", "image/jpeg")}, "file"),  # empty
        ({"file": ("a.exe", b"MZ\x90\x00", "application/x-msdownload")}, "file"),
        # The scope's own rules: a GIF is not an avatar, and 3 MiB is over its 2 MiB.
        ({"file": ("a.gif", samples.gif_bytes(), "image/gif"), "scope": "PROFILE_AVATAR"}, "file"),
        (
            {
                "file": ("a.png", b"\x89PNG" + b"\x00" * 3 * 1024**2, "image/png"),
                "scope": "PROFILE_AVATAR",
            },
            "file",
        ),
        ({"file": ("a.png", b"png", "image/png"), "scope": "NOPE"}, "scope"),
        ({"file": ("a.png", b"png", "image/png"), "scope": "no spaces"}, "scope"),
        ({"file": ("a.png", b"png", "image/png"), "folder": "../etc"}, "folder"),
        ({"file": ("a.png", b"png", "image/png"), "folder": "a/" * 11 + "b"}, "folder"),
        ({"file": ("a.png", b"png", "image/png"), "altText": "x" * 501}, "altText"),
        ({"file": ("a.png", b"png", "image/png"), "altText": "bell\x07"}, "altText"),
    ],
    ids=[
        "no filename",
        "no file chosen",
        "empty file",
        "type never taken",
        "type not in scope",
        "over the scope's size",
        "unknown scope",
        "malformed scope",
        "folder escaping",
        "folder too deep",
        "alt text too long",
        "alt text with a control character",
    ],
)
def test_a_form_the_json_api_would_refuse_gets_400_and_records_nothing(
    stack: Stack, form: dict[str, Any], field: str
) -> None:
    file = form.pop("file")

    response = direct_upload(stack, file, **form)

    problem = problem_of(response, 400)
    assert field in {error["field"] for error in problem["errors"]}, problem
    assert items(stack) == []
    assert "Contents" not in stack.s3.list_objects_v2(Bucket=stack.bucket)


def test_a_text_field_that_is_not_utf8_gets_400(stack: Stack) -> None:
    form = form_data_request(("a.png", samples.png_bytes(), "image/png"), altText="café")
    form["data"] = form["data"].replace("café".encode(), "café".encode("latin-1"))

    response = stack.call("POST", "/media/upload", **form)

    assert problem_of(response, 400)["errors"] == [
        {"field": "altText", "detail": "is not UTF-8 text"}
    ]


def test_a_non_ascii_filename_is_kept_as_sent_and_made_key_safe(stack: Stack) -> None:
    response = direct_upload(stack, ("Été à Zürich.png", samples.png_bytes(), "image/png"))

    assert response.status_code == 201, response.get_data(as_text=True)
    asset = response.get_json()
    assert asset["originalFilename"] == "Été à Zürich.png"
    assert asset["filename"] == "Ete-a-Zurich.png"


def test_two_files_get_400(stack: Stack) -> None:
    form = form_data_request(("a.png", samples.png_bytes(), "image/png"))
    second = form_data_request(("b.png", samples.png_bytes(), "image/png"))
    boundary = form["headers"]["Content-Type"].split("boundary=")[1]
    other = second["headers"]["Content-Type"].split("boundary=")[1]
    part = second["data"].split(b"--" + other.encode())[1]
    form["data"] = form["data"].replace(
        f"--{boundary}--".encode(), f"--{boundary}".encode() + part + f"--{boundary}--".encode()
    )

    response = stack.call("POST", "/media/upload", **form)

    assert problem_of(response, 400)["errors"][0]["field"] == "file"
    assert items(stack) == []


@pytest.mark.parametrize(
    "mangle",
    [
        lambda body: body[: len(body) // 2],  # cut short
        lambda body: body.replace(b"--\r\n", b"\r\n"),  # no closing boundary
        lambda body: body.replace(b"Content-Disposition: form-data", b"Content-Disposition: x"),
        lambda body: body.replace(b"\r\n\r\n", b"\r\n" + b"X-Pad: p\r\n" * 20 + b"\r\n", 1),
        lambda body: b"no boundary anywhere",
    ],
    ids=["cut short", "unterminated", "not form-data", "too many part headers", "garbage"],
)
def test_a_malformed_form_gets_400(stack: Stack, mangle: Any) -> None:
    form = form_data_request(("a.png", samples.png_bytes(), "image/png"), scope="GENERIC")

    response = stack.call(
        "POST", "/media/upload", data=mangle(form["data"]), headers=form["headers"]
    )

    problem_of(response, 400)
    assert items(stack) == []


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=" + "b" * 300,
        "multipart/form-data; boundary=é",
    ],
)
def test_a_form_without_a_usable_boundary_gets_400(stack: Stack, content_type: str) -> None:
    form = form_data_request(("a.png", samples.png_bytes(), "image/png"))

    response = stack.call(
        "POST", "/media/upload", data=form["data"], headers={"Content-Type": content_type}
    )

    problem_of(response, 400)
    assert items(stack) == []


def test_when_storage_fails_the_answer_is_503_and_nothing_is_left_but_a_pending_record(
    stack: Stack,
) -> None:
    with aws_fails(storage.s3_client(), "PutObject", code="ServiceUnavailable", status=503):
        response = direct_upload(stack, ("a.png", samples.png_bytes(), "image/png"))

    problem_of(response, 503)
    assert response.headers["Retry-After"] == "2"
    # The PENDING record expires by TTL like any upload that never came; no object exists.
    (item,) = items(stack)
    assert item["status"] == "PENDING"
    assert item["expiresAt"] > 0
    assert not stack.object_exists(item["key"])


def test_each_user_uploads_under_their_own_key(stack: Stack) -> None:
    response = direct_upload(stack, ("a.png", samples.png_bytes(), "image/png"), user="bob")

    assert response.status_code == 201
    assert stack.asset_item(response.get_json()["assetId"])["key"].startswith("media/bob/")
