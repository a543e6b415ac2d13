"""What a PNG, JPEG or WebP header declares, read before any decoder opens the file.

The canvas and the samples of each pixel (channels and bits) give what the file decodes to, so
both the pixel and the decoded-bytes limits are checked without allocating anything. Pillow's WebP
plugin allocates the whole canvas as soon as it opens a file, which is why this reads bytes itself.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> channels; a palette index stands for an RGB colour, so it counts three.
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}
_KINDS = {1: "grey", 2: "grey+alpha", 3: "RGB", 4: "RGBA"}


class BadHeader(ValueError):
    """The header says it is a WebP but its size cannot be read: not a valid WebP."""


@dataclass(frozen=True)
class Header:
    """A canvas and the samples each of its pixels decodes to."""

    width: int
    height: int
    channels: int = 3  # 1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha (or CMYK)
    bits: int = 8  # per sample: 8, 16 for deep PNGs, 12 for some JPEGs

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def bytes_per_pixel(self) -> int:
        return self.channels * ((self.bits + 7) // 8)

    @property
    def decoded_bytes(self) -> int:
        return self.pixels * self.bytes_per_pixel

    def describe(self) -> str:
        """e.g. '6000x6000, 16-bit RGBA: 8 bytes a pixel'."""
        kind = _KINDS.get(self.channels, f"{self.channels}-channel")
        depth = max(8, self.bits)
        return (
            f"{self.width}x{self.height}, {depth}-bit {kind}: {self.bytes_per_pixel} bytes a pixel"
        )


def read_header(data: bytes) -> Header | None:
    """The header of a PNG, JPEG or WebP; None when it is none of them or cannot be read.

    Raises BadHeader for a WebP whose size cannot be read (Pillow would allocate first).
    """
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR" and len(data) >= 26:
        width, height = struct.unpack(">II", data[16:24])
        channels = _PNG_CHANNELS.get(data[25], 4)
        return Header(int(width), int(height), channels, 16 if data[24] == 16 else 8)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_header(data)
    if is_webp(data):
        return _webp_header(data)
    return None


def _jpeg_header(data: bytes) -> Header | None:
    """From the first frame header (SOFn) of a JPEG; None if it cannot be found."""
    pos = 2
    while pos + 10 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            bits, height, width, channels = struct.unpack(">BHHB", data[pos + 4 : pos + 10])
            return Header(int(width), int(height), max(1, int(channels)), int(bits))
        elif 0xD0 <= marker <= 0xD9 or marker == 0x01:  # markers without a length
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _webp_header(data: bytes) -> Header:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return Header(int(width) & 0x3FFF, int(height) & 0x3FFF, 3)
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return Header(width, height, 4 if data[20] & 0x10 else 3)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        alpha = (bits >> 28) & 1
        return Header((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 4 if alpha else 3)
    raise BadHeader("the WebP header cannot be read")


def is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
