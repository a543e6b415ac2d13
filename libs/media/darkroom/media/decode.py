"""Safe decoding of user-supplied image bytes: PNG, JPEG and WebP only, bounded in bytes and pixels.

The format is sniffed from the content, never taken from a file name or Content-Type. The pixel
count is checked from the header before anything is decoded, so a small file that declares a
huge canvas (a decompression bomb) is refused without allocating it. The limits are explicit
arguments rather than Pillow's process-wide `Image.MAX_IMAGE_PIXELS`; Pillow's own bomb check
still runs inside `Image.open`, so limits above its threshold are capped by it.

Animated images (APNG, animated WebP) are accepted, but only their first frame is used.
"""

import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
# A JPEG carrying several pictures (cameras' MPO) opens as "MPO"; its first frame is the JPEG.
_ALIASES = {"MPO": "JPEG"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What Pillow raises on malformed or truncated data (zlib.error and struct.error from chunks).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)

RejectReason = Literal["too_large", "unsupported_format", "too_many_pixels", "corrupt"]


@dataclass(frozen=True)
class ImageLimits:
    """How big an accepted image may be, in bytes of the file and in pixels of its canvas."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000


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

    Raises ImageRejected. `verify()` checks a PNG's chunks to the end; a JPEG or WebP damaged in
    its pixel data is only found by `load_image`.
    """
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            "too_large", f"image is {len(data):,} bytes; the limit is {limits.max_bytes:,}"
        )
    declared = _declared_size(data)
    if declared is not None:
        _check_pixels(*declared, limits)
    with _open(data, limits.max_pixels) as image:
        info = _info(image)
        _check_pixels(info.width, info.height, limits)
        try:
            image.verify()
        except _DECODE_ERRORS as exc:
            raise _corrupt(info.format) from exc
    return info


def load_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """Probe `data`, then decode its first frame upright (EXIF orientation applied).

    Returns an "RGBA" image when the file has transparency, else "RGB". Raises ImageRejected.
    """
    info = probe_image(data, limits)
    with _open(data, limits.max_pixels) as image:
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
            mode = "RGBA" if upright.has_transparency_data else "RGB"
            return upright if upright.mode == mode else upright.convert(mode)
        except _DECODE_ERRORS as exc:
            raise _corrupt(info.format) from exc


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


def _check_pixels(width: int, height: int, limits: ImageLimits) -> None:
    pixels = width * height
    if pixels > limits.max_pixels:
        raise ImageRejected(
            "too_many_pixels",
            f"image is {pixels:,} pixels ({width}x{height}); the limit is {limits.max_pixels:,}",
        )


def _declared_size(data: bytes) -> tuple[int, int] | None:
    """Canvas size from a PNG, JPEG or WebP header, read before Pillow opens the file.

    Pillow's WebP plugin allocates the whole canvas as soon as it opens a file, so the size must
    be checked first. A WebP whose size cannot be read is not a valid WebP.
    """
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if not _is_webp(data):
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise _corrupt("WEBP")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Size from the first frame header (SOFn) of a JPEG; None if it cannot be found."""
    pos = 2
    while pos + 9 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        elif 0xD0 <= marker <= 0xD9 or marker == 0x01:  # markers without a length
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _has_known_signature(data: bytes) -> bool:
    return data.startswith((_PNG_SIGNATURE, b"\xff\xd8\xff")) or _is_webp(data)


def _corrupt(fmt: str | None) -> ImageRejected:
    name = {"WEBP": "WebP"}.get(fmt or "", fmt or "")
    what = f"the {name} image" if name else "the image"
    return ImageRejected("corrupt", f"{what} is corrupt or truncated")
