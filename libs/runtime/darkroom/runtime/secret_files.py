"""Secrets from files: a file named like a setting's variable (`/run/secrets/JWT_SECRET`,
`/run/secrets/OPENAI_API_KEY`; case does not matter) holds its value, as Docker secrets and
Kubernetes secret volumes mount them. The directory is DARKROOM_SECRETS_DIR, else /run/secrets
when it exists; a variable set in the environment wins over its file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

SECRETS_DIR_VARIABLE = "DARKROOM_SECRETS_DIR"
DEFAULT_SECRETS_DIR = Path("/run/secrets")


def secrets_dir() -> Path | None:
    """The directory secret files are read from, if there is one; a DARKROOM_SECRETS_DIR that
    is not a directory stops the process, naming it."""
    given = os.environ.get(SECRETS_DIR_VARIABLE)
    if given:
        if not Path(given).is_dir():
            raise ValueError(f"{SECRETS_DIR_VARIABLE}={given} is not a directory")
        return Path(given)
    return DEFAULT_SECRETS_DIR if DEFAULT_SECRETS_DIR.is_dir() else None


def read_settings(settings_class: type[BaseSettings], **values: Any) -> BaseSettings:
    """`settings_class` from the environment and the secret files (a provider plug-in's)."""
    return settings_class(_secrets_dir=secrets_dir(), **values)


class SecretFiles(BaseSettings):
    """Mixed into every service's settings: its secrets may come from files."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        found = secrets_dir()
        files = SecretsSettingsSource(settings_cls, secrets_dir=found) if found else None
        return (init_settings, env_settings, dotenv_settings, files or file_secret_settings)
