"""The catalog of providers and models this deployment has installed."""

from __future__ import annotations

from fastapi import APIRouter

from darkroom.contracts.providers import ModelCatalog
from darkroom.gateway.deps import CurrentUser, RejectUnknownQuery, ServicesDep

router = APIRouter(prefix="/v1/models", tags=["models"], dependencies=[RejectUnknownQuery])


@router.get("", response_model=ModelCatalog, summary="Providers, their models, job types and costs")
async def list_models(_: CurrentUser, services: ServicesDep) -> ModelCatalog:
    """Every installed provider plug-in, with `configured: false` and the settings it lacks
    where it cannot run jobs yet (a job naming it is then a 422)."""
    return ModelCatalog(providers=services.providers.views)
