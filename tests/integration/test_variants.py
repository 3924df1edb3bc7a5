"""Image operations on demand: resize, crop and optimize answer 202 with a PENDING variant,
transform_media makes it from the jobs queue, and the variant is READY with a URL to the
bytes it says. The same request is the same variant; every limit is a 422 naming it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from mediaport.config import get_settings
from tests import samples
from tests.integration.conftest import Stack
from tests.integration.jobs import queued_jobs, run_jobs
from tests.samples import PDF_BYTES, encode, photo

QUADRANTS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0))


def quadrant_png(width: int = 400, height: int = 200) -> bytes:
    """Red, green / blue, yellow quadrants: where a crop or a cover came from shows."""
    image = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    for index, colour in enumerate(QUADRANTS):
        left, top = (index % 2) * half_w, (index // 2) * half_h
        image.paste(colour, (left, top, left + half_w, top + half_h))
    return encode(image, "PNG")


def ready_image(stack: Stack, data: bytes, content_type: str, user: str = "alice") -> str:
    ticket = stack.start_upload(data, content_type, user=user, filename="picture")
    response = stack.call("PATCH", f"/media/{ticket['assetId']}/confirm", user=user)
    assert response.status_code == 204, response.get_data(as_text=True)
    return str(ticket["assetId"])


def ask(stack: Stack, asset_id: str, operation: str, body: dict[str, Any]) -> Any:
    return stack.call("POST", f"/media/{asset_id}/{operation}", json=body)


def made(stack: Stack, asset_id: str, name: str) -> dict[str, Any]:
    response = stack.call("GET", f"/media/{asset_id}/variants/{name}")
    assert response.status_code == 200, response.get_data(as_text=True)
    variant: dict[str, Any] = response.get_json()
    return variant


def stored_image(stack: Stack, asset_id: str, name: str) -> tuple[Image.Image, dict[str, Any]]:
    item = stack.asset_item(asset_id)
    key = item["requestedVariants"][name]["key"]
    stored = stack.s3.get_object(Bucket=stack.bucket, Key=key)
    data = stored["Body"].read()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image, {"content_type": stored["ContentType"], "bytes": len(data), "key": key}


@pytest.fixture
def image(stack: Stack) -> str:
    return ready_image(stack, quadrant_png(), "image/png")


def test_a_resize_is_accepted_then_made_and_served(stack: Stack, image: str) -> None:
    response = ask(stack, image, "resize", {"width": 100, "height": 100, "fit": "cover"})

    assert response.status_code == 202, response.get_data(as_text=True)
    accepted = response.get_json()
    name = accepted["name"]
    assert response.headers["Location"] == f"/media/{image}/variants/{name}"
    assert accepted["status"] == "PENDING"
    assert (accepted["width"], accepted["height"], accepted["format"]) == (100, 100, "webp")
    assert accepted["url"] is None
    assert accepted["bytes"] is None
    assert accepted["params"] == {
        "operation": "resize",
        "width": 100,
        "height": 100,
        "fit": "cover",
        "format": "webp",
        "quality": 80,
    }

    assert run_jobs(stack) == 1
    variant = made(stack, image, name)
    assert variant["status"] == "READY"
    assert variant["url"]
    assert variant["bytes"] > 0
    picture, stored = stored_image(stack, image, name)
    assert (picture.format, picture.size) == ("WEBP", (100, 100))
    assert stored["content_type"] == "image/webp"
    assert stored["bytes"] == variant["bytes"]
    # cover of a 2:1 image into a square keeps its middle: the left half red/blue, the
    # right half green/yellow, nothing squeezed.
    rgb = picture.convert("RGB")
    assert _near(rgb.getpixel((5, 5)), QUADRANTS[0])
    assert _near(rgb.getpixel((94, 5)), QUADRANTS[1])
    assert _near(rgb.getpixel((5, 94)), QUADRANTS[2])


@pytest.mark.parametrize(
    ("body", "size"),
    [
        ({"width": 100, "height": 100, "fit": "contain"}, (100, 100)),
        ({"width": 100, "height": 100, "fit": "inside"}, (100, 50)),
        ({"width": 100, "height": 100, "fit": "fill"}, (100, 100)),
        ({"width": 300}, (300, 150)),
        ({"height": 50}, (100, 50)),
        ({"width": 100, "height": 80, "format": "avif"}, (100, 80)),
        ({"width": 100, "height": 80, "format": "jpeg", "quality": 60}, (100, 80)),
        ({"width": 100, "height": 80, "format": "png"}, (100, 80)),
    ],
)
def test_every_fit_and_format_makes_the_size_it_says(
    stack: Stack, image: str, body: dict[str, Any], size: tuple[int, int]
) -> None:
    accepted = ask(stack, image, "resize", body).get_json()
    assert (accepted["width"], accepted["height"]) == size

    run_jobs(stack)

    picture, stored = stored_image(stack, image, accepted["name"])
    assert picture.size == size
    expected = body.get("format", "webp")
    assert (
        picture.format == {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}[expected]
    )
    assert stored["content_type"] == f"image/{expected}"
    assert stored["key"].endswith({"jpeg": ".jpg"}.get(expected, f".{expected}"))


def test_the_same_request_is_the_same_variant(stack: Stack, image: str) -> None:
    first = ask(stack, image, "resize", {"width": 64, "height": 64, "fit": "fill"})
    again = ask(stack, image, "resize", {"height": 64, "width": 64, "fit": "fill"})

    # Still PENDING: accepted again (its job sent again), the same variant.
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.get_json()["name"] == again.get_json()["name"]
    run_jobs(stack)
    done = ask(stack, image, "resize", {"width": 64, "height": 64, "fit": "fill"})
    assert done.status_code == 200
    assert done.get_json()["status"] == "READY"
    assert done.headers["Location"].endswith(first.get_json()["name"])
    other = ask(stack, image, "resize", {"width": 64, "height": 64, "fit": "cover"})
    assert other.status_code == 202
    assert other.get_json()["name"] != first.get_json()["name"]
    assert len(stack.asset_item(image)["requestedVariants"]) == 2


def test_a_job_delivered_twice_changes_nothing_the_second_time(stack: Stack, image: str) -> None:
    name = ask(stack, image, "resize", {"width": 50}).get_json()["name"]
    jobs = queued_jobs(stack)
    assert len(jobs) == 1
    from infra.local.events import sqs_event
    from infra.local.lambdas import invoke

    event = sqs_event(jobs, stack.queues["jobs_queue_arn"], "us-east-1")
    assert invoke("transform_media", event)["batchItemFailures"] == []
    after_first = stack.asset_item(image)

    assert invoke("transform_media", event)["batchItemFailures"] == []

    assert stack.asset_item(image) == after_first
    assert made(stack, image, name)["status"] == "READY"


def test_a_crop_takes_the_pixels_it_names(stack: Stack, image: str) -> None:
    # The bottom-right quadrant of the 400x200 image: yellow.
    response = ask(stack, image, "crop", {"x": 210, "y": 110, "width": 150, "height": 80})
    assert response.status_code == 202, response.get_data(as_text=True)
    accepted = response.get_json()
    # A PNG keeps its format when none is asked for.
    assert (accepted["width"], accepted["height"], accepted["format"]) == (150, 80, "png")

    run_jobs(stack)

    picture, _ = stored_image(stack, image, accepted["name"])
    assert (picture.format, picture.size) == ("PNG", (150, 80))
    colours = picture.convert("RGB").getcolors(maxcolors=4)
    assert colours == [(150 * 80, QUADRANTS[3])]


def test_a_crop_of_an_exif_rotated_photo_is_in_displayed_pixels(stack: Stack) -> None:
    # Stored 300x200 landscape, orientation 6: displayed 200x300 portrait.
    asset = ready_image(stack, samples.jpeg_with_exif(300, 200, orientation=6), "image/jpeg")
    response = ask(stack, asset, "crop", {"x": 0, "y": 0, "width": 200, "height": 300})
    assert response.status_code == 202, response.get_data(as_text=True)
    outside = ask(stack, asset, "crop", {"x": 0, "y": 0, "width": 300, "height": 200})
    assert outside.status_code == 400

    run_jobs(stack)

    picture, _ = stored_image(stack, asset, response.get_json()["name"])
    assert picture.size == (200, 300)
    assert not picture.getexif()  # no metadata in a variant


@pytest.mark.parametrize(
    "body",
    [
        {"x": 300, "y": 0, "width": 101, "height": 10},
        {"x": 0, "y": 150, "width": 10, "height": 51},
        {"x": 400, "y": 200, "width": 1, "height": 1},
    ],
)
def test_a_crop_outside_the_image_is_a_400_that_records_nothing(
    stack: Stack, image: str, body: dict[str, Any]
) -> None:
    before = stack.asset_item(image)

    response = ask(stack, image, "crop", body)

    assert response.status_code == 400
    problem = response.get_json()
    assert problem["type"].endswith("crop-outside-image")
    assert "400×200" in problem["detail"]
    assert stack.asset_item(image) == before
    assert queued_jobs(stack) == []


def test_optimize_records_the_saving_on_the_asset(stack: Stack) -> None:
    original = encode(photo(800, 600), "JPEG", quality=98)
    asset = ready_image(stack, original, "image/jpeg")

    response = ask(stack, asset, "optimize", {"quality": 60})

    assert response.status_code == 202
    assert response.get_json()["name"] == "optimized"
    assert response.get_json()["format"] == "jpeg"
    run_jobs(stack)
    variant = made(stack, asset, "optimized")
    assert variant["status"] == "READY"
    picture, stored = stored_image(stack, asset, "optimized")
    assert (picture.format, picture.size) == ("JPEG", (800, 600))
    read = stack.call("GET", f"/media/{asset}").get_json()
    assert read["originalSize"] == len(original)
    assert read["optimizedSize"] == stored["bytes"] < len(original)
    assert read["compressionRatio"] == pytest.approx(len(original) / stored["bytes"], rel=1e-3)


def test_optimize_that_saves_nothing_says_so_and_keeps_no_copy(stack: Stack) -> None:
    # A flat PNG is already about as small as PNG gets.
    asset = ready_image(stack, samples.flat_png(64, 64), "image/png")

    ask(stack, asset, "optimize", {})
    run_jobs(stack)

    variant = made(stack, asset, "optimized")
    assert (variant["status"], variant["reason"], variant["url"]) == ("FAILED", "NOT_SMALLER", None)
    assert "not smaller" in variant["detail"]
    key = stack.asset_item(asset)["requestedVariants"]["optimized"]["key"]
    assert not stack.object_exists(key)
    assert "originalSize" not in stack.call("GET", f"/media/{asset}").get_json() or (
        stack.call("GET", f"/media/{asset}").get_json()["originalSize"] is None
    )
    # Asked again with the same parameters: the answer stands (200), nothing queued.
    again = ask(stack, asset, "optimize", {})
    assert again.status_code == 200
    assert queued_jobs(stack) == []


def test_optimize_with_other_parameters_replaces_the_optimized_variant(stack: Stack) -> None:
    asset = ready_image(stack, encode(photo(400, 300), "JPEG", quality=98), "image/jpeg")
    ask(stack, asset, "optimize", {"quality": 70})
    run_jobs(stack)
    first_key = stack.asset_item(asset)["requestedVariants"]["optimized"]["key"]

    response = ask(stack, asset, "optimize", {"quality": 40})
    run_jobs(stack)

    assert response.status_code == 202
    variants = stack.asset_item(asset)["requestedVariants"]
    assert list(variants) == ["optimized"]
    assert variants["optimized"]["key"] != first_key
    assert not stack.object_exists(first_key)
    assert stack.object_exists(variants["optimized"]["key"])


def test_the_list_has_the_thumbnails_and_the_requested_ones(stack: Stack) -> None:
    asset = ready_image(stack, encode(photo(1600, 1200), "JPEG"), "image/jpeg")
    from tests.integration.test_processing import deliver, receive_all

    deliver(stack, receive_all(stack))  # the S3 event makes the thumbnails
    ask(stack, asset, "resize", {"width": 10})

    listed = stack.call("GET", f"/media/{asset}/variants").get_json()["items"]

    assert [v["name"] for v in listed][:3] == ["1024", "512", "128"]
    assert listed[0]["params"] == {
        "operation": "thumbnail",
        "maxEdge": 1024,
        "format": "webp",
        "quality": 80,
    }
    assert all(v["status"] == "READY" and v["url"] for v in listed[:3])
    assert listed[3]["status"] == "PENDING"
    assert listed[3]["url"] is None


def test_past_4096_pixels_a_side_is_a_422_naming_the_limit(stack: Stack, image: str) -> None:
    response = ask(stack, image, "resize", {"width": 5000})

    assert response.status_code == 422
    problem = response.get_json()
    assert (problem["limit"], problem["maximum"]) == ("max-output-edge", 4096)
    assert queued_jobs(stack) == []


def test_past_the_pixel_budget_is_a_422_naming_the_limit(
    stack: Stack, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAPORT_MAX_IMAGE_PIXELS", "100000")
    get_settings.cache_clear()

    response = ask(stack, image, "resize", {"width": 1000, "height": 1000, "fit": "fill"})

    assert response.status_code == 422
    assert response.get_json()["limit"] == "max-image-pixels"


def test_past_the_variant_count_is_a_422_naming_the_limit(
    stack: Stack, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAPORT_MAX_VARIANTS", "2")
    get_settings.cache_clear()
    assert ask(stack, image, "resize", {"width": 10}).status_code == 202
    assert ask(stack, image, "resize", {"width": 20}).status_code == 202

    response = ask(stack, image, "resize", {"width": 30})

    assert response.status_code == 422
    assert (response.get_json()["limit"], response.get_json()["maximum"]) == ("max-variants", 2)
    assert len(stack.asset_item(image)["requestedVariants"]) == 2
    # The same as an existing one is no new variant.
    assert ask(stack, image, "resize", {"width": 20}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"fit": "cover"},
        {"width": 0},
        {"width": "100"},
        {"width": 10, "fit": "stretch"},
        {"width": 10, "format": "tiff"},
        {"width": 10, "quality": 101},
        {"width": 10, "colour": "red"},
    ],
)
def test_a_malformed_resize_is_a_400(stack: Stack, image: str, body: dict[str, Any]) -> None:
    response = ask(stack, image, "resize", body)

    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_anything_but_a_ready_image_is_a_409(stack: Stack) -> None:
    document = ready_image(stack, PDF_BYTES, "application/pdf")
    pending = stack.start_upload(samples.png_bytes(), "image/png")["assetId"]

    for asset, slug in ((document, "not-an-image"), (pending, "asset-not-ready")):
        response = ask(stack, asset, "resize", {"width": 10})
        assert response.status_code == 409, response.get_data(as_text=True)
        assert response.get_json()["type"].endswith(slug)


def test_an_unknown_variant_is_a_404(stack: Stack, image: str) -> None:
    response = stack.call("GET", f"/media/{image}/variants/resize-000000000000")

    assert response.status_code == 404
    assert response.get_json()["type"].endswith("variant-not-found")


def test_deleting_the_asset_stops_serving_its_variants(stack: Stack, image: str) -> None:
    name = ask(stack, image, "resize", {"width": 40}).get_json()["name"]
    run_jobs(stack)
    assert stack.call("DELETE", f"/media/{image}").status_code == 204

    assert stack.call("GET", f"/media/{image}/variants/{name}").status_code == 404
    assert ask(stack, image, "resize", {"width": 41}).status_code == 404


def _near(actual: Any, expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))
