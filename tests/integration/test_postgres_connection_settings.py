"""PostgreSQL connection settings against the real server: the statement timeout cancels a
statement that runs too long, DATABASE_SSL_MODE=require asks the server for TLS (and refuses to
go on without it), and libpq's `?sslmode=` in DATABASE_URL is understood instead of crashing
asyncpg."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from darkroom.runtime.db import open_database
from darkroom.runtime.db.migrate import MigrateSettings
from darkroom.runtime.settings import DatabaseSettings

pytestmark = pytest.mark.integration


async def scalar(settings: DatabaseSettings, sql: str) -> object:
    db = open_database(settings)
    try:
        async with db.read() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await db.dispose()


async def test_a_statement_running_past_the_timeout_is_cancelled(postgres_url: str) -> None:
    settings = DatabaseSettings(database_url=postgres_url, database_statement_timeout_ms=200)
    assert await scalar(settings, "SHOW statement_timeout") == "200ms"
    with pytest.raises(DBAPIError, match="statement timeout"):
        await scalar(settings, "SELECT pg_sleep(2)")


def test_migrations_have_no_statement_timeout_unless_set() -> None:
    assert MigrateSettings(database_url="postgresql://h/db").database_statement_timeout_ms == 0
    assert DatabaseSettings(database_url="postgresql://h/db").database_statement_timeout_ms > 0


async def test_sslmode_in_the_url_becomes_the_setting(postgres_url: str) -> None:
    settings = DatabaseSettings(database_url=f"{postgres_url}?sslmode=disable")
    assert settings.database_ssl_mode == "disable"
    assert "sslmode" not in settings.database_url
    assert await scalar(settings, "SELECT 1") == 1


async def test_ssl_mode_require_gets_tls_or_refuses_to_connect(postgres_url: str) -> None:
    settings = DatabaseSettings(database_url=postgres_url, database_ssl_mode="require")
    try:
        encrypted = await scalar(
            settings, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
    except ConnectionError as exc:  # a server without TLS (this machine's): never plaintext
        assert "ssl" in str(exc).lower() or "tls" in str(exc).lower()
    else:
        assert encrypted is True
