"""Image operations on demand, as data: what a resize, a crop or an optimize asks for, the
size it makes, the name and key of the variant it makes, and the limits it must keep.

Everything here is decided before a pixel is touched: the request is answered (202, or a
422 naming the limit, or a 400 for a crop outside the image) from the asset's recorded
width and height, and ``mediaport.transforms`` then makes exactly the size decided here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mediaport.policy import GIF, JPEG, PNG, WEBP

# Output at most this many pixels per side (and within the deployment's pixel budget).
MAX_OUTPUT_EDGE = 4096
DEFAULT_QUALITY = 80
# The automatic thumbnails: name → the longest edge in pixels (rendering makes them, as
# WebP at THUMBNAIL_QUALITY); a requested variant's name never takes one of these.
THUMBNAIL_SIZES: dict[str, int] = {"1024": 1024, "512": 512, "128": 128}
THUMBNAIL_QUALITY = 80
OPTIMIZED_NAME = "optimized"


class Operation(StrEnum):
    RESIZE = "resize"
    CROP = "crop"
    OPTIMIZE = "optimize"


class Fit(StrEnum):
    """How a resize fills the box it is given (as sharp and libvips name them)."""

    COVER = "cover"  # exactly the box: scaled to cover it, the overflow cropped (centred)
    CONTAIN = "contain"  # exactly the box: scaled to fit in it, the rest padded
    INSIDE = "inside"  # aspect kept, as large as fits in the box (no padding)
    FILL = "fill"  # exactly the box: stretched, aspect not kept


class OutputFormat(StrEnum):
    WEBP = "webp"
    AVIF = "avif"
    JPEG = "jpeg"
    PNG = "png"

    @property
    def media_type(self) -> str:
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        return "jpg" if self is OutputFormat.JPEG else self.value


# The format an original keeps when a crop or an optimize names none (a GIF, whose
# animation a variant would not keep, becomes WebP).
_SAME_FORMAT = {JPEG: OutputFormat.JPEG, PNG: OutputFormat.PNG, WEBP: OutputFormat.WEBP}


def same_format(media_type: str) -> OutputFormat:
    """The output format of a variant that keeps the original's (WebP for a GIF)."""
    return _SAME_FORMAT.get(media_type, OutputFormat.WEBP)


class OutsideImage(ValueError):
    """A crop that is not inside the image (400: the request is wrong for this image)."""


class LimitExceeded(ValueError):
    """A variant that would break a limit (422): ``limit`` names which one."""

    def __init__(self, limit: str, maximum: int, detail: str) -> None:
        super().__init__(detail)
        self.limit, self.maximum, self.detail = limit, maximum, detail


@dataclass(frozen=True)
class VariantSpec:
    """One requested operation, with every default filled in (so equal requests are equal).

    resize: ``width`` and/or ``height``, ``fit``; crop: ``x``, ``y``, ``width``, ``height``
    of the oriented original; optimize: neither. ``format`` and ``quality`` for all.
    """

    operation: Operation
    format: OutputFormat
    quality: int = DEFAULT_QUALITY
    width: int | None = None
    height: int | None = None
    fit: Fit | None = None
    x: int | None = None
    y: int | None = None

    @classmethod
    def resize(
        cls,
        *,
        width: int | None,
        height: int | None,
        fit: Fit,
        format: OutputFormat,
        quality: int = DEFAULT_QUALITY,
    ) -> VariantSpec:
        """A resize; with one dimension every fit makes the same image, so the fit is
        dropped: one variant, not four."""
        return cls(
            Operation.RESIZE,
            format,
            quality,
            width=width,
            height=height,
            fit=fit if width and height else None,
        )

    @classmethod
    def crop(
        cls,
        *,
        x: int,
        y: int,
        width: int,
        height: int,
        format: OutputFormat | None,
        original_type: str,
        quality: int = DEFAULT_QUALITY,
    ) -> VariantSpec:
        """A crop, in the original's format unless ``format`` names another."""
        chosen = format or same_format(original_type)
        return cls(Operation.CROP, chosen, quality, width=width, height=height, x=x, y=y)

    @classmethod
    def optimize(
        cls, *, format: OutputFormat | None, original_type: str, quality: int = DEFAULT_QUALITY
    ) -> VariantSpec:
        """An optimize, in the original's format unless ``format`` names another."""
        return cls(Operation.OPTIMIZE, format or same_format(original_type), quality)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> VariantSpec:
        """The spec a variant's recorded ``params`` were made from."""

        def number(name: str) -> int | None:
            return int(params[name]) if params.get(name) is not None else None

        return cls(
            operation=Operation(params["operation"]),
            format=OutputFormat(params["format"]),
            quality=int(params.get("quality", DEFAULT_QUALITY)),
            width=number("width"),
            height=number("height"),
            fit=Fit(params["fit"]) if params.get("fit") else None,
            x=number("x"),
            y=number("y"),
        )

    def params(self) -> dict[str, Any]:
        """The request as recorded on the variant (camelCase JSON, no absent fields)."""
        values = {
            "operation": self.operation.value,
            "width": self.width,
            "height": self.height,
            "fit": self.fit.value if self.fit else None,
            "x": self.x,
            "y": self.y,
            "format": self.format.value,
            "quality": self.quality,
        }
        return {name: value for name, value in values.items() if value is not None}

    @property
    def digest(self) -> str:
        """12 hex digits naming these exact parameters."""
        canonical = json.dumps(self.params(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    @property
    def name(self) -> str:
        """The variant's name: ``optimized`` (one per asset), else ``{operation}-{digest}``."""
        if self.operation is Operation.OPTIMIZE:
            return OPTIMIZED_NAME
        return f"{self.operation.value}-{self.digest}"

    @property
    def file_stem(self) -> str:
        """The variant's file name without extension: names the parameters, so a key's
        content never changes (another optimize gets another key)."""
        return f"{self.operation.value}-{self.digest}"

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The size of the variant of an (oriented) ``width`` × ``height`` image.

        Raises ``OutsideImage`` for a crop not inside the image.
        """
        if self.operation is Operation.OPTIMIZE:
            return width, height
        if self.operation is Operation.CROP:
            x, y, w, h = self.x or 0, self.y or 0, self.width or 0, self.height or 0
            if x + w > width or y + h > height:
                raise OutsideImage(
                    f"the crop ({w}×{h} at {x},{y}) is not inside the image "
                    f"({width}×{height} pixels, as displayed)"
                )
            return w, h
        if self.width and self.height:
            if self.fit is Fit.INSIDE:
                scale = min(self.width / width, self.height / height)
                return max(1, round(width * scale)), max(1, round(height * scale))
            return self.width, self.height
        if self.width:
            return self.width, max(1, round(height * self.width / width))
        if self.height:
            return max(1, round(width * self.height / height)), self.height
        raise ValueError("a resize names a width or a height")

    def check_limits(self, width: int, height: int, max_pixels: int) -> tuple[int, int]:
        """The output size, once it is within every limit (``LimitExceeded`` otherwise)."""
        out_width, out_height = self.output_size(width, height)
        if max(out_width, out_height) > MAX_OUTPUT_EDGE:
            raise LimitExceeded(
                "max-output-edge",
                MAX_OUTPUT_EDGE,
                f"the variant would be {out_width}×{out_height} pixels; at most "
                f"{MAX_OUTPUT_EDGE} pixels per side are made",
            )
        if out_width * out_height > max_pixels:
            raise LimitExceeded(
                "max-image-pixels",
                max_pixels,
                f"the variant would have {out_width * out_height:,} pixels; at most "
                f"{max_pixels:,} are allowed",
            )
        return out_width, out_height


# Formats a variant can be written in, as the original's media types (GIF: read only).
READABLE_TYPES = frozenset({JPEG, PNG, WEBP, GIF})
