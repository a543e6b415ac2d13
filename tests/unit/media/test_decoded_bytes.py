"""What an image costs once decoded: the decoded-bytes limit read from the header, a full decode
that finds broken pixel data, and inputs reduced to what their use needs."""

import io
import struct
import zlib

import pytest
from PIL import Image

from darkroom.media.decode import ImageLimits, ImageRejected, load_image, probe_image, verify_image
from darkroom.media.header import Header, read_header

LIMITS = ImageLimits()
RED, BLUE = (255, 0, 0), (0, 0, 255)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, depth: int, colour: int, idat: bytes) -> bytes:
    """A PNG with the given header and IDAT body, every chunk's CRC right."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def rejection(data: bytes, limits: ImageLimits = LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        probe_image(data, limits)
    return caught.value


def test_a_16_bit_rgba_png_of_36_mp_is_refused_from_its_header_for_its_decoded_bytes() -> None:
    # The file: 6000x6000 is under the 40 MP pixel limit, but decodes to 288 MB.
    data = png(6000, 6000, 16, 6, zlib.compress(b"\0" * 1024))

    refused = rejection(data)

    assert refused.reason == "too_many_decoded_bytes"
    assert str(refused) == (
        "image decodes to 288,000,000 bytes (6000x6000, 16-bit RGBA: 8 bytes a pixel); "
        "the limit is 160,000,000"
    )


@pytest.mark.parametrize(
    ("depth", "colour", "size"),
    [(8, 2, (8000, 5000)), (8, 6, (8000, 5000)), (16, 6, (5000, 4000)), (16, 0, (8000, 5000))],
    ids=["40mp-rgb8", "40mp-rgba8", "20mp-rgba16", "40mp-grey16"],
)
def test_every_8_bit_image_within_the_pixel_limit_fits_and_deep_ones_get_fewer_pixels(
    depth: int, colour: int, size: tuple[int, int]
) -> None:
    # Header-only files: the probe reads the header and the chunks, never the pixels.
    data = png(*size, depth, colour, zlib.compress(b"\0" * 64))

    assert probe_image(data, LIMITS).width == size[0]


def test_a_smaller_decoded_bytes_limit_is_applied_to_ordinary_images() -> None:
    data = encode(Image.new("RGBA", (100, 100), RED), "PNG")

    refused = rejection(data, ImageLimits(max_decoded_bytes=39_999))

    assert refused.reason == "too_many_decoded_bytes"
    assert "(100x100, 8-bit RGBA: 4 bytes a pixel)" in str(refused)


@pytest.mark.parametrize(
    ("image", "fmt", "options", "channels", "bits"),
    [
        (Image.new("L", (9, 7)), "PNG", {}, 1, 8),
        (Image.new("LA", (9, 7)), "PNG", {}, 2, 8),
        (Image.new("RGB", (9, 7)), "PNG", {}, 3, 8),
        (Image.new("RGBA", (9, 7)), "PNG", {}, 4, 8),
        (Image.new("P", (9, 7)), "PNG", {}, 3, 8),
        (Image.new("I;16", (9, 7)), "PNG", {}, 1, 16),
        (Image.new("1", (9, 7)), "PNG", {}, 1, 8),
        (Image.new("L", (9, 7)), "JPEG", {}, 1, 8),
        (Image.new("RGB", (9, 7)), "JPEG", {}, 3, 8),
        (Image.new("CMYK", (9, 7)), "JPEG", {}, 4, 8),
        (Image.new("RGB", (9, 7)), "WEBP", {}, 3, 8),
        (Image.new("RGBA", (9, 7), (1, 2, 3, 4)), "WEBP", {}, 4, 8),
        (Image.new("RGB", (9, 7)), "WEBP", {"lossless": True}, 3, 8),
        (Image.new("RGBA", (9, 7), (1, 2, 3, 4)), "WEBP", {"lossless": True}, 4, 8),
    ],
    ids=lambda value: value if isinstance(value, (str, int)) else None,
)
def test_the_header_gives_the_samples_each_pixel_decodes_to(
    image: Image.Image, fmt: str, options: dict[str, object], channels: int, bits: int
) -> None:
    assert read_header(encode(image, fmt, **options)) == Header(9, 7, channels, bits)


def test_a_png_whose_pixel_data_is_broken_passes_the_probe_but_not_the_full_decode() -> None:
    # The 69-byte "PNG": well-formed chunks with good CRCs around an IDAT that is not zlib.
    data = png(64, 64, 8, 2, b"\x78\x9c" + b"no deflate")
    assert len(data) == 69

    assert probe_image(data, LIMITS).format == "PNG"
    with pytest.raises(ImageRejected) as caught:
        verify_image(data, LIMITS)

    assert caught.value.reason == "corrupt"
    assert str(caught.value) == "the PNG image is corrupt or truncated"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_sound_image_passes_the_full_decode(fmt: str) -> None:
    data = encode(Image.effect_noise((64, 48), 64).convert("RGB"), fmt)

    info = verify_image(data, LIMITS)

    assert (info.format, info.width, info.height) == (fmt, 64, 48)


def test_a_truncated_jpeg_fails_the_full_decode_at_its_reduced_scale() -> None:
    data = encode(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG")

    with pytest.raises(ImageRejected) as caught:
        verify_image(data[: len(data) // 2], LIMITS)

    assert caught.value.reason == "corrupt"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_large_input_is_reduced_to_the_smallest_size_covering_its_use(fmt: str) -> None:
    data = encode(Image.new("RGB", (1600, 800), RED), fmt)

    image = load_image(data, LIMITS, cover=(300, 300))

    assert image.size == (600, 300)
    assert image.mode == "RGB"


def test_a_small_input_is_never_enlarged_to_cover() -> None:
    data = encode(Image.new("RGBA", (120, 90), (255, 0, 0, 128)), "PNG")

    image = load_image(data, LIMITS, cover=(300, 300))

    assert (image.size, image.mode) == ((120, 90), "RGBA")


def test_an_exif_turned_jpeg_is_reduced_upright_without_losing_resolution() -> None:
    stored = Image.new("RGB", (1600, 800), BLUE)
    stored.paste(RED, (0, 0, 800, 800))  # upright (turned a quarter), the top half is red
    exif = Image.Exif()
    exif[0x0112] = 6

    image = load_image(encode(stored, "JPEG", exif=exif), LIMITS, cover=(200, 300))

    assert image.size == (200, 400)
    top, bottom = image.getpixel((100, 50)), image.getpixel((100, 350))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and bottom[2] > 200
