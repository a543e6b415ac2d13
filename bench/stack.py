"""A fresh embedded stack for one benchmark run: Tansu and every service as its own process."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncpg

from darkroom.runtime.embedded.broker import tansu_command
from darkroom.runtime.embedded.stack import SERVICES, ServiceProcess, Stack, free_port


class BenchStack:
    """Started as `make run` starts it (the same console scripts), on its own ports and database."""

    def __init__(
        self,
        workdir: Path,
        database_url: str | None,
        env: dict[str, str],
        services: tuple[str, ...] = SERVICES,
    ) -> None:
        self.workdir, self.services = workdir, services
        self.admin_url, self.database = database_url, f"darkroom_bench_{uuid.uuid4().hex[:8]}"
        port = free_port()
        self.kafka = f"127.0.0.1:{port}"
        log = (workdir / "broker.log").open("wb")
        proc = subprocess.Popen(
            tansu_command("127.0.0.1", port),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": "warn"},
        )
        self.broker = ServiceProcess("broker", proc, workdir / "broker.log")
        url = self._create_database() if database_url else None
        # INFO logs one line per job state change; the benchmark measures the pipeline, not logging.
        self.stack = Stack.configure(
            workdir, self.kafka, uuid.uuid4().hex[:8], url, LOG_LEVEL="WARNING", **env
        )

    def __enter__(self) -> BenchStack:
        if self.services:
            self.stack.migrate()
            self.stack.start(*self.services)
        return self

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self.stack.stop_all()
        self.broker.stop(signal.SIGTERM)
        if self.admin_url:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))

    @property
    def gateway_url(self) -> str:
        return self.stack.gateway_url

    @property
    def notifier_url(self) -> str:
        return self.stack.notifier_url

    def pids(self) -> dict[str, int]:
        running = {name: p.proc.pid for name, p in self.stack.running.items()}
        return {"broker": self.broker.proc.pid, **running}

    def warm_up(self) -> None:
        """A few jobs end to end, so that group joins and first connections are not measured."""
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            "sequential",
            "--jobs=3",
            "--user=warmup",
            f"--gateway={self.gateway_url}",
            f"--notifier={self.notifier_url}",
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def count_completed(self, user: str) -> int:
        """Completed jobs of `user` in the database: the cross-check of what the stream showed."""
        sql = "SELECT count(*) FROM jobs WHERE user_id = $1 AND status = 'completed'"
        if self.admin_url:
            return int(asyncio.run(self._fetchval(self.stack.env["DATABASE_URL"], sql, user)))
        with sqlite3.connect(self.workdir / "darkroom.db") as conn:
            return int(conn.execute(sql.replace("$1", "?"), (user,)).fetchone()[0])

    def _create_database(self) -> str:
        asyncio.run(self._admin(f'CREATE DATABASE "{self.database}"'))
        return self._plain(self.admin_url or "").rsplit("/", 1)[0] + f"/{self.database}"

    @staticmethod
    def _plain(url: str) -> str:
        return url.replace("postgresql+asyncpg://", "postgresql://")

    async def _admin(self, sql: str) -> None:
        await self._fetchval(self.admin_url or "", sql)

    async def _fetchval(self, url: str, sql: str, *args: object) -> Any:
        conn = await asyncpg.connect(self._plain(url))
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()
