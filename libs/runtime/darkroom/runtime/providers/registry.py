"""The installed provider plug-ins: what `GET /v1/models` lists, what a submission may name, and
the providers a worker builds for its job type."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.providers import ModelInfo, ProviderInfo, ProviderLimitsInfo, ProviderView
from darkroom.runtime.providers.plugin import ENTRY_POINT_GROUP, ProviderPlugin
from darkroom.runtime.secret_files import read_settings

logger = logging.getLogger(__name__)

# The method a plug-in implements for each job type it serves.
JOB_METHODS = {
    JobType.IMAGE: "generate_image",
    JobType.UPSCALE: "upscale",
    JobType.VARIANTS: "variants",
    JobType.VIDEO: "generate_video",
}


class ProviderLoadError(RuntimeError):
    """An installed plug-in cannot be loaded or does not declare what a provider must."""


class InvalidChoice(ValueError):
    """A submission names a provider or model this deployment cannot run: a 422 on `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def discover() -> list[type[ProviderPlugin]]:
    """Every plug-in of the `darkroom.providers` entry points; one that fails to load stops the
    process, naming it (a deployment must not run without a provider it installed)."""
    plugins = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: (p.name, p.value)):
        where = f"provider plug-in {point.name} = {point.value}"
        try:
            plugin = point.load()
        except Exception as exc:
            raise ProviderLoadError(f"{where}: cannot be loaded: {exc!r}") from exc
        info, settings_class = (
            getattr(plugin, "info", None),
            getattr(plugin, "settings_class", None),
        )
        if not isinstance(info, ProviderInfo):
            raise ProviderLoadError(f"{where}: `info` must be a ProviderInfo")
        if not (isinstance(settings_class, type) and issubclass(settings_class, BaseSettings)):
            raise ProviderLoadError(f"{where}: `settings_class` must be a pydantic-settings class")
        if info.name != point.name:
            raise ProviderLoadError(f"{where}: its info names it {info.name!r}")
        plugins.append(plugin)
    return plugins


def _settings(plugin: type[ProviderPlugin]) -> BaseSettings | list[str]:
    """The plug-in's settings from the environment, or the names of those missing (not
    configured); a setting given with a wrong value stops the process, naming it."""
    try:
        return read_settings(plugin.settings_class)
    except ValidationError as exc:
        prefix = str(plugin.settings_class.model_config.get("env_prefix") or "")
        named = [(f"{prefix}{e['loc'][0]}".upper(), e) for e in exc.errors() if e["loc"]]
        wrong = [f"{name}: {e['msg']}" for name, e in named if e["type"] != "missing"]
        if wrong:
            raise ProviderLoadError(
                f"provider {plugin.info.name}: invalid settings: {'; '.join(wrong)}"
            ) from exc
        return sorted({name for name, _ in named})


@dataclass(frozen=True)
class Registry:
    """The plug-ins installed in this process's environment."""

    plugins: tuple[type[ProviderPlugin], ...]

    @classmethod
    def installed(cls) -> Registry:
        return cls(tuple(discover()))

    @cached_property
    def _found(self) -> dict[type[ProviderPlugin], BaseSettings | list[str]]:
        """Each plug-in's settings, or the names of those missing: read once per process."""
        return {plugin: _settings(plugin) for plugin in self.plugins}

    @cached_property
    def views(self) -> list[ProviderView]:
        """Each provider (plug-ins of one name merged: one per worker package), and whether it
        is configured."""
        views: dict[str, ProviderView] = {}
        for plugin in self.plugins:
            found = self._found[plugin]
            missing = found if isinstance(found, list) else []
            view = views.get(plugin.info.name)
            if view is None:
                views[plugin.info.name] = ProviderView(
                    **plugin.info.model_dump(), configured=not missing, missing_settings=missing
                )
                continue
            known = {m.name for m in view.models}
            view.models += [m for m in plugin.info.models if m.name not in known]
            view.missing_settings = sorted({*view.missing_settings, *missing})
            view.configured = not view.missing_settings
        return [views[name] for name in sorted(views)]

    def choose(self, job_type: JobType, provider: str, model: str | None) -> ModelInfo:
        """The model a submission gets (the provider's default for the job type when it names
        none); InvalidChoice naming the field otherwise."""
        views = {v.name: v for v in self.views}
        view = views.get(provider)
        if view is None or not view.models_for(job_type):
            serving = [v.name for v in views.values() if v.models_for(job_type)]
            raise InvalidChoice(
                "provider", f"unknown provider {provider!r} for {job_type} jobs; known: {serving}"
            )
        if not view.configured:
            raise InvalidChoice(
                "provider",
                f"provider {provider!r} is not configured here: set {', '.join(view.missing_settings)}",
            )
        models = view.models_for(job_type)
        if model is None:
            return models[0]
        for info in models:
            if info.name == model:
                return info
        known = [m.name for m in models]
        raise InvalidChoice(
            "model", f"unknown model {model!r} for provider {provider!r}; known: {known}"
        )

    def declared_limits(self, job_types: Collection[JobType] = ()) -> dict[str, ProviderLimitsInfo]:
        """Each provider's limits as its plug-in declares them: the plug-in serving one of
        `job_types` (a worker's) if there is one, else the first of that name."""
        declared: dict[str, ProviderLimitsInfo] = {}
        serving = [p for p in self.plugins if any(p.info.models_for(t) for t in job_types)]
        for plugin in [*serving, *self.plugins]:
            declared.setdefault(plugin.info.name, plugin.info.limits)
        return declared

    def build(self, job_type: JobType) -> dict[str, Any]:
        """An instance of each configured plug-in that runs `job_type`, by provider name; none is
        an error (a worker of that job type could run nothing)."""
        built: dict[str, Any] = {}
        for plugin in self.plugins:
            if not plugin.info.models_for(job_type) or not hasattr(plugin, JOB_METHODS[job_type]):
                continue
            found = self._found[plugin]
            if isinstance(found, list):
                logger.info("provider %s is not configured (missing %s)", plugin.info.name, found)
                continue
            built[plugin.info.name] = plugin(found)
        if not built:
            raise ProviderLoadError(
                f"no provider plug-in serving {job_type} jobs is installed and configured"
            )
        return built
