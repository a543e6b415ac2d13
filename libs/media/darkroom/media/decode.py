"""Safe decoding of user-supplied image bytes: PNG, JPEG and WebP only, bounded in bytes and pixels.

The format is sniffed from the content, never taken from a file name or Content-Type. The pixel
count and the decoded bytes (pixels x bytes a pixel: a 16-bit RGBA pixel is 8) are checked from
the header before anything is decoded, so a small file that declares a huge canvas (a
decompression bomb) is refused without allocating it. The limits are explicit arguments rather
than Pillow's process-wide `Image.MAX_IMAGE_PIXELS`; Pillow's own bomb check still runs inside
`Image.open`, so limits above its threshold are capped by it.

Animated images (APNG, animated WebP) are accepted, but only their first frame is used.
"""

import io
import math
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from darkroom.media.header import PNG_SIGNATURE, BadHeader, Header, is_webp, read_header

ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
# A JPEG carrying several pictures (cameras' MPO) opens as "MPO"; its first frame is the JPEG.
_ALIASES = {"MPO": "JPEG"}
# What Pillow raises on malformed or truncated data (zlib.error and struct.error from chunks).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)
_ORIENTATION = 0x0112  # EXIF tag; values 5-8 turn the picture a quarter

RejectReason = Literal[
    "too_large", "unsupported_format", "too_many_pixels", "too_many_decoded_bytes", "corrupt"
]


@dataclass(frozen=True)
class ImageLimits:
    """How big an accepted image may be: bytes of the file, pixels of its canvas, and bytes its
    pixels decode to (160 MB: every 8-bit image of 40 MP fits, RGBA included; 16-bit samples
    count twice, so a 16-bit RGBA image gets 20 MP)."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_decoded_bytes: int = 160_000_000


@dataclass(frozen=True)
class ImageInfo:
    """What the header of an accepted image says."""

    format: str  # "PNG" | "JPEG" | "WEBP"
    content_type: str  # "image/png" | "image/jpeg" | "image/webp"
    width: int
    height: int
    extension: str  # "png" | "jpg" | "webp"


class ImageRejected(ValueError):
    """A user-supplied image we refuse; `reason` is a short machine code, str(exc) says why in words."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason: RejectReason = reason


def probe_image(data: bytes, limits: ImageLimits) -> ImageInfo:
    """Identify `data` and check it against `limits` without decoding its pixels.

    Raises ImageRejected. `verify()` checks a PNG's chunks to the end; damaged pixel data is only
    found by decoding (`verify_image`, `load_image`).
    """
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            "too_large", f"image is {len(data):,} bytes; the limit is {limits.max_bytes:,}"
        )
    try:
        declared = read_header(data)
    except BadHeader as exc:
        raise _corrupt("WEBP") from exc
    if declared is not None:
        _check(declared, limits)
    with _open(data, limits.max_pixels) as image:
        info = _info(image)
        if declared is None:
            _check(Header(info.width, info.height, len(image.getbands())), limits)
        try:
            image.verify()
        except _DECODE_ERRORS as exc:
            raise _corrupt(info.format) from exc
    return info


def verify_image(data: bytes, limits: ImageLimits) -> ImageInfo:
    """Probe `data`, then decode all of its pixels once and let them go: a file whose pixel data
    is broken is refused here rather than in whoever uses it later. Raises ImageRejected.

    A JPEG is decoded at 1/8 scale: every coefficient is still read, into a 64th of the memory.
    """
    info = probe_image(data, limits)
    with _open(data, limits.max_pixels) as image:
        try:
            if info.format == "JPEG":
                image.draft(None, (1, 1))
            image.load()
        except _DECODE_ERRORS as exc:
            raise _corrupt(info.format) from exc
    return info


def load_image(
    data: bytes, limits: ImageLimits, *, cover: tuple[int, int] | None = None
) -> Image.Image:
    """Probe `data`, then decode its first frame upright (EXIF orientation applied).

    Returns an "RGBA" image when the file has transparency, else "RGB". With `cover`, the image
    is reduced (never enlarged, aspect kept) to the smallest size that still covers `cover`, and a
    JPEG is decoded at a reduced scale where it can: a big input then costs what its use needs.
    Raises ImageRejected.
    """
    info = probe_image(data, limits)
    # Not closed: closing an image frees its pixels, and copying them out would double the peak.
    image = _open(data, limits.max_pixels)
    try:
        if cover is not None and info.format == "JPEG":
            image.draft(None, _stored_size_covering(image, cover))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        mode = "RGBA" if image.has_transparency_data else "RGB"
        image = image if image.mode == mode else image.convert(mode)
    except _DECODE_ERRORS as exc:
        raise _corrupt(info.format) from exc
    return image if cover is None else _reduced(image, cover)


def _reduced(image: Image.Image, cover: tuple[int, int]) -> Image.Image:
    """`image` at the smallest size covering `cover`, aspect kept; as it is if already smaller."""
    scale = max(cover[0] / image.width, cover[1] / image.height)
    if scale >= 1:
        return image
    size = (max(cover[0], round(image.width * scale)), max(cover[1], round(image.height * scale)))
    # reducing_gap: a cheap box reduce() first, then Lanczos; visually the same, much faster.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _stored_size_covering(image: Image.Image, cover: tuple[int, int]) -> tuple[int, int]:
    """The size, as stored (before the EXIF turn), whose upright picture covers `cover`."""
    width, height = image.size
    turned = image.getexif().get(_ORIENTATION) in (5, 6, 7, 8)
    upright = (height, width) if turned else (width, height)
    scale = min(1.0, max(cover[0] / upright[0], cover[1] / upright[1]))
    return math.ceil(width * scale), math.ceil(height * scale)


def _open(data: bytes, limit: int) -> Image.Image:
    """Image.open restricted to the allowed formats, with Pillow's bomb warning made an error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Only reached when Pillow's process-wide threshold is below our limit or the header
        # pre-check could not read the size; Pillow's own message talks of attacks, so not used.
        raise ImageRejected(
            "too_many_pixels", f"image has too many pixels to decode; the limit is {limit:,}"
        ) from exc
    except UnidentifiedImageError as exc:
        if _has_known_signature(data):
            raise _corrupt(None) from exc
        raise ImageRejected("unsupported_format", "not a PNG, JPEG or WebP image") from exc
    except _DECODE_ERRORS as exc:
        raise _corrupt(None) from exc


def _info(image: Image.Image) -> ImageInfo:
    fmt = _ALIASES.get(image.format or "", image.format or "")
    if fmt not in ALLOWED_FORMATS:  # cannot happen with formats=..., kept as a guard
        raise ImageRejected("unsupported_format", "not a PNG, JPEG or WebP image")
    width, height = image.size
    return ImageInfo(fmt, ALLOWED_FORMATS[fmt], width, height, EXTENSIONS[fmt])


def _check(header: Header, limits: ImageLimits) -> None:
    width, height = header.width, header.height
    if header.pixels > limits.max_pixels:
        raise ImageRejected(
            "too_many_pixels",
            f"image is {header.pixels:,} pixels ({width}x{height}); "
            f"the limit is {limits.max_pixels:,}",
        )
    if header.decoded_bytes > limits.max_decoded_bytes:
        raise ImageRejected(
            "too_many_decoded_bytes",
            f"image decodes to {header.decoded_bytes:,} bytes ({header.describe()}); "
            f"the limit is {limits.max_decoded_bytes:,}",
        )


def _has_known_signature(data: bytes) -> bool:
    return data.startswith((PNG_SIGNATURE, b"\xff\xd8\xff")) or is_webp(data)


def _corrupt(fmt: str | None) -> ImageRejected:
    name = {"WEBP": "WebP"}.get(fmt or "", fmt or "")
    what = f"the {name} image" if name else "the image"
    return ImageRejected("corrupt", f"{what} is corrupt or truncated")
