"""Safe decoding: only PNG, JPEG and WebP, sniffed from content, bounded before any decode."""

import io
import struct
import time
import zlib

import pytest
from PIL import Image

from darkroom.media.decode import ImageInfo, ImageLimits, ImageRejected, load_image, probe_image

LIMITS = ImageLimits()
RED, BLUE = (255, 0, 0), (0, 0, 255)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A well-formed PNG header for a huge RGB canvas, with only a few bytes of pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to claim a huge size."""
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def rejection(data: bytes, limits: ImageLimits = LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        probe_image(data, limits)
    return caught.value


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("PNG", ImageInfo("PNG", "image/png", 40, 30, "png")),
        ("JPEG", ImageInfo("JPEG", "image/jpeg", 40, 30, "jpg")),
        ("WEBP", ImageInfo("WEBP", "image/webp", 40, 30, "webp")),
    ],
)
def test_png_jpeg_and_webp_are_accepted_with_their_format_and_size(
    fmt: str, expected: ImageInfo
) -> None:
    data = encode(Image.new("RGB", (40, 30), RED), fmt)

    assert probe_image(data, LIMITS) == expected
    assert load_image(data, LIMITS).size == (40, 30)


@pytest.mark.parametrize(
    "data",
    [
        encode(Image.new("RGB", (8, 8)), "GIF"),
        encode(Image.new("RGB", (8, 8)), "BMP"),
        encode(Image.new("RGB", (8, 8)), "TIFF"),
        b"<html><body>not an image</body></html>",
        b"",
    ],
    ids=["gif", "bmp", "tiff", "html", "empty"],
)
def test_other_formats_and_non_images_are_refused_as_unsupported(data: bytes) -> None:
    refused = rejection(data)

    assert refused.reason == "unsupported_format"
    assert str(refused) == "not a PNG, JPEG or WebP image"


def test_a_file_over_the_byte_limit_is_refused_before_parsing() -> None:
    data = encode(Image.new("RGB", (64, 64), RED), "PNG")

    refused = rejection(data, ImageLimits(max_bytes=len(data) - 1))

    assert refused.reason == "too_large"
    assert "the limit is" in str(refused)


def test_a_tiny_png_declaring_30000x30000_is_refused_quickly_without_decoding() -> None:
    bomb = png_declaring(30_000, 30_000)
    assert len(bomb) < 200

    started = time.perf_counter()
    refused = rejection(bomb)
    with pytest.raises(ImageRejected):
        load_image(bomb, LIMITS)

    assert time.perf_counter() - started < 0.5
    assert refused.reason == "too_many_pixels"
    assert str(refused) == "image is 900,000,000 pixels (30000x30000); the limit is 40,000,000"


# Below, between and above Pillow's own warning (89M) and error (179M) thresholds.
@pytest.mark.parametrize(("width", "height"), [(7000, 7429), (10_000, 10_000), (30_000, 30_000)])
def test_a_jpeg_declaring_too_many_pixels_is_refused_naming_its_size(
    width: int, height: int
) -> None:
    refused = rejection(jpeg_declaring(width, height))

    assert refused.reason == "too_many_pixels"
    assert f"({width}x{height})" in str(refused)


def test_the_pixel_limit_message_gives_the_count_the_size_and_the_limit() -> None:
    refused = rejection(jpeg_declaring(7000, 7429))

    assert str(refused) == "image is 52,003,000 pixels (7000x7429); the limit is 40,000,000"


def test_a_webp_declaring_a_huge_canvas_is_refused_before_pillow_allocates_it() -> None:
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "WEBP", lossless=True))
    assert data[12:16] == b"VP8L"
    bits = (12_000 - 1) | ((12_000 - 1) << 14)
    data[21:25] = (bits | (int.from_bytes(data[21:25], "little") & ~0xFFFFFFF)).to_bytes(
        4, "little"
    )

    refused = rejection(bytes(data))

    assert refused.reason == "too_many_pixels"
    assert "(12000x12000)" in str(refused)


def test_a_smaller_pixel_limit_is_applied_to_ordinary_images() -> None:
    data = encode(Image.new("RGB", (100, 100), RED), "PNG")

    assert rejection(data, ImageLimits(max_pixels=9_999)).reason == "too_many_pixels"


def test_a_truncated_png_is_refused_as_corrupt() -> None:
    data = encode(Image.effect_noise((64, 64), 64).convert("RGB"), "PNG")

    refused = rejection(data[: len(data) // 2])

    assert refused.reason == "corrupt"
    assert str(refused) == "the PNG image is corrupt or truncated"


def test_a_png_cut_inside_its_header_is_refused_as_corrupt_not_unsupported() -> None:
    data = encode(Image.new("RGB", (8, 8)), "PNG")

    assert rejection(data[:20]).reason == "corrupt"


def test_a_truncated_jpeg_fails_to_load_as_corrupt() -> None:
    data = encode(Image.effect_noise((64, 64), 64).convert("RGB"), "JPEG")

    with pytest.raises(ImageRejected) as caught:
        load_image(data[: len(data) // 2], LIMITS)

    assert caught.value.reason == "corrupt"


def test_an_exif_rotated_jpeg_loads_upright() -> None:
    stored = Image.new("RGB", (40, 20), BLUE)
    stored.paste(RED, (0, 0, 20, 20))  # left half red as stored; upright, the top is red
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display

    image = load_image(encode(stored, "JPEG", exif=exif, quality=95), LIMITS)

    assert image.size == (20, 40)
    top, bottom = image.getpixel((10, 5)), image.getpixel((10, 35))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_transparency_is_kept_as_rgba(fmt: str) -> None:
    data = encode(Image.new("RGBA", (8, 8), (255, 0, 0, 128)), fmt, lossless=True)

    image = load_image(data, LIMITS)

    assert image.mode == "RGBA"
    assert image.getpixel((4, 4)) == (255, 0, 0, 128)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "RGB"])
def test_opaque_images_load_as_rgb(mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    data = encode(Image.new("RGB", (8, 8), RED).convert(mode), fmt)

    assert load_image(data, LIMITS).mode == "RGB"


def test_an_animated_png_is_accepted_and_only_its_first_frame_is_used() -> None:
    frames = [Image.new("RGB", (8, 8), RED), Image.new("RGB", (8, 8), BLUE)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])

    assert probe_image(data, LIMITS).format == "PNG"
    assert load_image(data, LIMITS).getpixel((4, 4)) == RED
