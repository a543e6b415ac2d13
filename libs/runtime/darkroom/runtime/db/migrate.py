"""Bring a database to the newest schema (`darkroom-migrate`)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import Field
from sqlalchemy import Connection, text

from darkroom.runtime.db.engine import open_database
from darkroom.runtime.logging import configure_logging
from darkroom.runtime.settings import BaseServiceSettings, DatabaseSettings

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
PG_MIGRATION_LOCK = 0x6461726B  # "dark": one migrator at a time on PostgreSQL


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(settings: DatabaseSettings) -> None:
    """Apply every migration not yet applied."""
    if settings.database_url.startswith("sqlite"):
        _ensure_sqlite_folder(settings.database_url)
    db = open_database(settings)
    try:
        async with db.write() as conn:
            await conn.run_sync(_upgrade)
    finally:
        await db.dispose()


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


class MigrateSettings(BaseServiceSettings, DatabaseSettings):
    database_statement_timeout_ms: int = Field(
        0, ge=0, description="Migrations may rewrite large tables: no statement timeout by default."
    )


def main() -> None:
    settings = MigrateSettings()
    configure_logging(settings.log_level, "migrate", settings.log_format)
    asyncio.run(upgrade(settings))
    logger.info("database schema is up to date")
