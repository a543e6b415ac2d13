"""Upscale and variants providers behind two ports: the installed plug-ins that serve these job
types (the built-in `local` one among them), built from their settings at start-up."""

from darkroom.contracts.jobtypes import JobType
from darkroom.runtime.providers import Registry
from darkroom.upscale_worker.providers.base import EncodedImage, Upscaler, VariantMaker
from darkroom.upscale_worker.providers.local import (
    DEFAULT_MAX_OUTPUT_PIXELS,
    VARIANT_FORMATS,
    VARIANT_WIDTHS,
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
    "Upscaler",
    "VariantFormat",
    "VariantMaker",
    "upscale",
    "upscalers",
    "variant_makers",
    "variants",
]


def upscalers(registry: Registry) -> dict[str, Upscaler]:
    """Each configured provider plug-in that serves upscale jobs, by name; none is an error."""
    providers: dict[str, Upscaler] = registry.build(JobType.UPSCALE)
    return providers


def variant_makers(registry: Registry) -> dict[str, VariantMaker]:
    """Each configured provider plug-in that serves variants jobs, by name; none is an error."""
    providers: dict[str, VariantMaker] = registry.build(JobType.VARIANTS)
    return providers
