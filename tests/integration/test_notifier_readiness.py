"""The notifier's readiness follows the broker: not ready while the broker does not answer (its
streams would get no live events), ready again once it does."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import FastAPI

from darkroom.notifier.hub import Hub
from darkroom.notifier.routes import Services, router
from darkroom.notifier.settings import NotifierSettings
from darkroom.runtime.auth import TokenService
from darkroom.runtime.broker_watch import BrokerWatch
from darkroom.runtime.db import open_database
from darkroom.runtime.embedded.stack import free_port
from darkroom.runtime.settings import DEV_JWT_SECRET, DatabaseSettings, KafkaSettings


async def readiness(bootstrap: str, tmp_path: Path) -> httpx.Response:
    db = open_database(DatabaseSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}"))
    watch = BrokerWatch(KafkaSettings(kafka_bootstrap_servers=bootstrap), "notifier")
    await watch.look()  # what the notifier's watch loop does every KAFKA_WATCH_INTERVAL_S
    app = FastAPI()
    app.include_router(router)
    services: Any = Services(
        settings=NotifierSettings(_env_file=None),  # type: ignore[call-arg]
        db=db,
        store=None,  # type: ignore[arg-type]
        history=None,  # type: ignore[arg-type]
        hub=Hub(),
        tail=SimpleNamespace(ready=True),  # type: ignore[arg-type]
        tokens=TokenService(DEV_JWT_SECRET, "darkroom"),
        watch=watch,
    )
    app.state.services = services
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifier.test") as http:
            return await http.get("/readyz")
    finally:
        await watch.close()
        await db.dispose()


async def test_the_notifier_is_not_ready_while_the_broker_does_not_answer(tmp_path: Path) -> None:
    response = await readiness(f"127.0.0.1:{free_port()}", tmp_path)

    assert response.status_code == 503
    assert "the broker does not answer" in response.json()["failed"]["kafka"]


async def test_the_notifier_is_ready_when_the_broker_answers(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    response = await readiness(kafka_bootstrap, tmp_path)

    assert response.status_code == 200, response.text
