"""Image providers behind one port: the installed plug-ins that serve image jobs (the built-in
`local` one among them), built from their settings at start-up."""

from darkroom.contracts.jobtypes import JobType
from darkroom.image_worker.providers.base import GeneratedImage, Provider, StepCallback
from darkroom.image_worker.providers.local import LocalProvider, LocalProviderSettings
from darkroom.runtime.providers import Registry

__all__ = [
    "GeneratedImage",
    "LocalProvider",
    "LocalProviderSettings",
    "Provider",
    "StepCallback",
    "image_providers",
]


def image_providers(registry: Registry) -> dict[str, Provider]:
    """Each configured provider plug-in that serves image jobs, by name; none is an error."""
    providers: dict[str, Provider] = registry.build(JobType.IMAGE)
    return providers
