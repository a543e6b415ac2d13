"""CPU image work for the upscale worker: exact-factor upscales and responsive variants."""

from darkroom.upscale_worker.providers.local import (
    DEFAULT_MAX_OUTPUT_PIXELS,
    VARIANT_FORMATS,
    VARIANT_WIDTHS,
    EncodedImage,
    OutputFormat,
    VariantFormat,
    upscale,
    variants,
)

__all__ = [
    "DEFAULT_MAX_OUTPUT_PIXELS",
    "VARIANT_FORMATS",
    "VARIANT_WIDTHS",
    "EncodedImage",
    "OutputFormat",
    "VariantFormat",
    "upscale",
    "variants",
]
