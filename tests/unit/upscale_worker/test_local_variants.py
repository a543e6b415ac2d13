"""Responsive variants: six files by default, exact widths, aspect kept, WebP then AVIF per width."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from darkroom.upscale_worker.providers import EncodedImage, variants

SOURCE_SIZE = (1000, 617)  # an odd height, so every variant's height is rounded


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    ys, xs = np.mgrid[0:height, 0:width]
    rgb = np.stack([xs * 255 // width, ys * 255 // height, (xs + ys) % 256], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB").convert(mode)


def decoded(result: EncodedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


@pytest.fixture(scope="module")
def default_variants() -> list[EncodedImage]:
    return variants(gradient(*SOURCE_SIZE))


def test_defaults_give_six_files_by_ascending_width_webp_before_avif(
    default_variants: list[EncodedImage],
) -> None:
    assert [(v.width, v.extension) for v in default_variants] == [
        (640, "webp"),
        (640, "avif"),
        (1024, "webp"),
        (1024, "avif"),
        (1920, "webp"),
        (1920, "avif"),
    ]


def test_every_variant_decodes_in_its_format_at_its_declared_size(
    default_variants: list[EncodedImage],
) -> None:
    formats = {"webp": ("WEBP", "image/webp"), "avif": ("AVIF", "image/avif")}
    for variant in default_variants:
        image = decoded(variant)
        assert (image.format, variant.content_type) == formats[variant.extension]
        assert image.size == (variant.width, variant.height)


def test_variants_keep_the_aspect_ratio_within_one_pixel(
    default_variants: list[EncodedImage],
) -> None:
    width, height = SOURCE_SIZE
    for variant in default_variants:
        assert abs(variant.height - height * variant.width / width) <= 1


def test_an_input_narrower_than_a_width_is_upsampled_to_that_width() -> None:
    result = variants(gradient(100, 50), widths=(64, 200))

    assert [(v.width, v.height) for v in result] == [(64, 32), (64, 32), (200, 100), (200, 100)]


def test_widths_given_out_of_order_come_out_ascending() -> None:
    result = variants(gradient(100, 50), widths=(48, 16, 32), formats=("webp",))

    assert [v.width for v in result] == [16, 32, 48]


def test_rgba_variants_keep_alpha_in_webp_and_avif() -> None:
    source = gradient(64, 64, "RGBA")
    ImageDraw.Draw(source).rectangle((0, 0, 31, 63), fill=(0, 0, 0, 0))

    for variant in variants(source, widths=(32,)):
        alpha = np.asarray(decoded(variant).convert("RGBA").getchannel("A"))
        assert alpha[:, :12].max() <= 2, variant.extension  # AVIF alpha is lossy, nearly exact
        assert alpha[:, 20:].min() >= 253, variant.extension


def test_exif_orientation_is_applied_and_exif_is_not_copied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, to be shown rotated 90 degrees: portrait
    buffer = io.BytesIO()
    gradient(80, 40).save(buffer, format="JPEG", exif=exif)

    for variant in variants(Image.open(buffer), widths=(20,)):
        image = decoded(variant)
        assert image.size == (20, 40)
        assert not image.getexif()


def test_unknown_formats_and_empty_widths_are_refused() -> None:
    with pytest.raises(ValueError, match="Unsupported output format 'png'"):
        variants(gradient(8, 8), formats=("png",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1 px"):
        variants(gradient(8, 8), widths=(0,))


def test_a_very_tall_image_is_refused_rather_than_encoded_at_a_huge_height() -> None:
    with pytest.raises(ValueError, match="exceeds the limit"):
        variants(Image.new("RGB", (4, 200_000)))
