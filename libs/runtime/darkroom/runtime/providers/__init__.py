"""Provider plug-ins: found through the `darkroom.providers` entry points, described by their
`ProviderInfo`, configured by their own settings."""

from darkroom.runtime.providers.plugin import ENTRY_POINT_GROUP, ProviderPlugin
from darkroom.runtime.providers.registry import (
    InvalidChoice,
    ProviderLoadError,
    Registry,
    discover,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "InvalidChoice",
    "ProviderLoadError",
    "ProviderPlugin",
    "Registry",
    "discover",
]
