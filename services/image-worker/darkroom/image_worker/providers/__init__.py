"""Image providers behind one port; `make_provider` picks one by name at start-up."""

from darkroom.image_worker.providers.base import GeneratedImage, Provider, StepCallback
from darkroom.image_worker.providers.local import LocalProvider

__all__ = ["GeneratedImage", "Provider", "StepCallback", "make_provider"]


def make_provider(name: str, *, steps: int, step_delay_s: float) -> Provider:
    """The provider called `name`; an unknown name is a configuration error."""
    if name == LocalProvider.name:
        return LocalProvider(steps=steps, step_delay_s=step_delay_s)
    raise ValueError(f"Unknown image provider {name!r}; the only one built in is 'local'.")
