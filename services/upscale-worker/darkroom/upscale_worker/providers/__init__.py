"""Upscale and variants providers behind two ports: the installed plug-ins that serve these job
types (the built-in `local` one among them), built from their settings at start-up."""

from typing import Any

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
    return _built(registry, JobType.UPSCALE)


def variant_makers(registry: Registry) -> dict[str, VariantMaker]:
    """Each configured provider plug-in that serves variants jobs, by name; none is an error."""
    return _built(registry, JobType.VARIANTS)


def _built(registry: Registry, job_type: JobType) -> dict[str, Any]:
    providers = registry.build(job_type)
    if not providers:
        raise RuntimeError(
            f"no provider plug-in serving {job_type} jobs is installed and configured"
        )
    return providers
