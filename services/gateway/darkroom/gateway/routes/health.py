"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from darkroom.gateway.deps import RejectUnknownQuery, ServicesDep

router = APIRouter(tags=["health"], dependencies=[RejectUnknownQuery])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Kafka, the database and object storage answer")
async def readyz(services: ServicesDep) -> JSONResponse:
    checks = {
        "database": services.db.ping,
        "kafka": services.kafka.check,
        "storage": services.objects.ping,
    }
    failed: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await check()
        except Exception as exc:  # any failure means not ready; say which and why
            failed[name] = f"{type(exc).__name__}: {exc}"[:200]
    if failed:
        return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
    return JSONResponse({"status": "ready"})
