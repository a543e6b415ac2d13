"""What a provider plug-in is: a class named by an entry point of the group `darkroom.providers`.

    [project.entry-points."darkroom.providers"]
    acme = "acme_darkroom.provider:AcmeProvider"

The class declares `info` (its name, models, job types, costs, limits) and `settings_class` (a
pydantic-settings class of its credentials and options, read from the environment; a required
field left unset means the provider is installed but not configured). Darkroom builds it as
`AcmeProvider(settings_instance)` in the workers that run its job types, and calls the method of
the job type: `generate_image(params, on_step)` for image jobs (the image worker's
`providers.base.Provider`), `upscale(params, image, on_step)` and `variants(params, image,
on_step)` (the upscale worker's `providers.base`), `generate_video(params, images, on_step)` (the
video worker's `providers.base.VideoProvider`); inputs come as `media.SourceImage`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from pydantic_settings import BaseSettings

from darkroom.contracts.providers import ProviderInfo

ENTRY_POINT_GROUP = "darkroom.providers"


class ProviderPlugin(Protocol):
    info: ClassVar[ProviderInfo]
    settings_class: ClassVar[type[BaseSettings]]

    def __init__(self, settings: Any) -> None: ...
