"""Local upscaling: exact sizes, decodable PNG/WebP, alpha kept, guards, better than nearest."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from darkroom.upscale_worker.providers import EncodedImage, OutputFormat, upscale


def photo_like(width: int, height: int) -> Image.Image:
    """Smooth gradients plus hard and soft edges: enough detail to tell resamplers apart."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [
            128 + 100 * np.sin(xs / 9),
            128 + 100 * np.cos(ys / 13),
            (xs + ys) * 255 / (width + height),
        ],
        axis=-1,
    )
    image = Image.fromarray(rgb.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 5, height // 5, width * 3 // 4, height * 2 // 3), fill=(240, 30, 60))
    draw.rectangle((width // 2, height // 2, width - 8, height - 8), outline=(0, 0, 0), width=3)
    draw.text((10, 10), "Darkroom 1234", fill=(255, 255, 255))
    return image


def decoded(result: EncodedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize(
    ("fmt", "pil_format", "content_type"),
    [("png", "PNG", "image/png"), ("webp", "WEBP", "image/webp")],
)
def test_output_is_exactly_scale_times_the_input_in_the_requested_format(
    scale: int, fmt: OutputFormat, pil_format: str, content_type: str
) -> None:
    result = upscale(photo_like(37, 21), scale, fmt)

    image = decoded(result)
    assert image.format == pil_format
    assert image.size == (37 * scale, 21 * scale) == (result.width, result.height)
    assert (result.content_type, result.extension) == (content_type, fmt)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_rgba_input_keeps_its_transparent_and_opaque_areas(fmt: OutputFormat) -> None:
    source = photo_like(40, 40).convert("RGBA")
    ImageDraw.Draw(source).rectangle((0, 0, 19, 39), fill=(0, 0, 0, 0))

    alpha = np.asarray(decoded(upscale(source, 2, fmt)).convert("RGBA").getchannel("A"))

    assert alpha[:, :30].max() == 0  # left half transparent, away from the edge's resampling
    assert alpha[:, 50:].min() == 255


@pytest.mark.parametrize("scale", [0, 1, 3, 8])
def test_scales_other_than_2_and_4_are_refused(scale: int) -> None:
    with pytest.raises(ValueError, match="2 or 4"):
        upscale(Image.new("RGB", (8, 8)), scale, "png")


def test_output_above_the_pixel_limit_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="exceeds the limit of 100000 pixels"):
        upscale(photo_like(100, 100), 4, "png", max_output_pixels=100_000)


def test_webp_output_wider_than_the_encoder_allows_is_refused() -> None:
    with pytest.raises(ValueError, match="too large for webp"):
        upscale(Image.new("RGB", (4100, 1)), 4, "webp")


def test_unknown_output_format_is_refused() -> None:
    with pytest.raises(ValueError, match="Unsupported output format 'gif'"):
        upscale(Image.new("RGB", (8, 8)), 2, "gif")  # type: ignore[arg-type]


def test_exif_metadata_is_not_copied_to_the_output() -> None:
    source = photo_like(16, 16)
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Maker"

    for fmt in ("png", "webp"):
        image = decoded(upscale(Image.open(io.BytesIO(_jpeg_with(source, exif))), 2, fmt))
        assert not image.getexif()
        assert "exif" not in image.info


@pytest.mark.parametrize("scale", [2, 4])
def test_upscaling_a_downscaled_image_is_closer_to_the_original_than_nearest(scale: int) -> None:
    original = photo_like(192, 128)
    small = original.resize((192 // scale, 128 // scale), Image.Resampling.LANCZOS)

    ours = np.asarray(decoded(upscale(small, scale, "png")), dtype=np.float32)
    nearest = np.asarray(small.resize(original.size, Image.Resampling.NEAREST), dtype=np.float32)
    reference = np.asarray(original, dtype=np.float32)

    assert np.abs(ours - reference).mean() < 0.85 * np.abs(nearest - reference).mean()


def _jpeg_with(image: Image.Image, exif: Image.Exif) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()
