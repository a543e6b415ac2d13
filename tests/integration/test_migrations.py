"""The migrations build exactly the schema `tables.py` declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from darkroom.runtime.db import Database, JobStore
from darkroom.runtime.db.migrate import upgrade
from darkroom.runtime.db.tables import metadata
from darkroom.runtime.settings import DatabaseSettings
from tests.integration.helpers import new_job, random_user

VERSIONS = Path(upgrade.__code__.co_filename).parent / "migrations" / "versions"

pytestmark = pytest.mark.integration


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _url(db: Database) -> str:
    return db.writer.url.render_as_string(hide_password=False)


async def test_upgraded_schema_matches_the_table_metadata(database: Database) -> None:
    async with database.read() as conn:
        differences = await conn.run_sync(_differences)
    assert differences == []


async def test_upgrade_creates_every_declared_table_and_stamps_the_head(
    database: Database,
) -> None:
    async with database.read() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert set(metadata.tables) <= tables
    newest = max(p.name[:4] for p in VERSIONS.glob("0*.py"))
    assert version == newest


async def test_running_upgrade_twice_is_harmless(database: Database) -> None:
    store = JobStore(database)
    plan = new_job(random_user())
    await store.create_jobs([plan])

    await upgrade(DatabaseSettings(database_url=_url(database)))
    await upgrade(DatabaseSettings(database_url=_url(database)))

    assert await store.get_job(plan.job.job_id) is not None  # data survives
    async with database.read() as conn:
        assert await conn.run_sync(_differences) == []
        count = (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
    assert count == 1
