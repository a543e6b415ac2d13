"""The job database's settings: where it is, TLS, pool and statement timeout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, PositiveInt, field_validator, model_validator
from pydantic_settings import BaseSettings

_LIBPQ_SSL = {"sslmode": "database_ssl_mode", "sslrootcert": "database_ssl_root_cert"}


@dataclass(frozen=True)
class SplitUrl:
    url: str
    settings: dict[str, str]  # setting name -> value taken out of the URL


def split_libpq_ssl(url: str) -> SplitUrl:
    """Take libpq's `sslmode` and `sslrootcert` out of a PostgreSQL URL's query (asyncpg refuses
    them as connect arguments); other URLs are returned as they are."""
    if not url.startswith(("postgres://", "postgresql://", "postgresql+asyncpg://")):
        return SplitUrl(url, {})
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    taken = {_LIBPQ_SSL[k]: v for k, v in query if k in _LIBPQ_SSL}
    kept = [(k, v) for k, v in query if k not in _LIBPQ_SSL]
    return SplitUrl(urlunsplit(parts._replace(query=urlencode(kept))), taken)


PostgresSslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class DatabaseSettings(BaseSettings):
    """The job database: SQLite (embedded default) or PostgreSQL."""

    database_url: str = Field(
        "sqlite+aiosqlite:///var/darkroom.db",
        description="SQLAlchemy URL; postgresql://… uses asyncpg, sqlite:///… uses aiosqlite.",
    )
    database_pool_size: PositiveInt = Field(10, description="Connections per process (PostgreSQL).")
    database_ssl_mode: PostgresSslMode | None = Field(
        None,
        description="PostgreSQL TLS, as libpq's sslmode: disable, prefer, require (encrypted, "
        "server not verified), verify-ca or verify-full (verified against "
        "DATABASE_SSL_ROOT_CERT, or the system's CAs). Unset: asyncpg's default, prefer. "
        "`?sslmode=` in DATABASE_URL sets it too.",
    )
    database_ssl_root_cert: Path | None = Field(
        None, description="PEM file of the CAs that verify PostgreSQL (verify-ca, verify-full)."
    )
    database_statement_timeout_ms: int = Field(
        30_000,
        ge=0,
        description="PostgreSQL statement_timeout of every connection: a statement running longer "
        "is cancelled (0: none; darkroom-migrate has none).",
    )

    @model_validator(mode="before")
    @classmethod
    def _ssl_from_url(cls, values: object) -> object:
        """libpq's `sslmode` and `sslrootcert` in the URL (which asyncpg does not take) become
        the settings of the same meaning, unless those are set too."""
        if isinstance(values, dict):
            url = next((v for k, v in values.items() if k.lower() == "database_url"), None)
            if isinstance(url, str):
                split = split_libpq_ssl(url)
                values = {**values, "database_url": split.url}
                for key, value in split.settings.items():
                    values.setdefault(key, value)
        return values

    @field_validator("database_ssl_root_cert")
    @classmethod
    def _root_cert_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"{path}: no such file")
        return path

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url
