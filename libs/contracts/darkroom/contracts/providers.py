"""What a provider says of itself (its models, the job types they serve, their costs, its limits)
and `GET /v1/models`, the catalog of the providers a deployment has installed."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, PositiveFloat, PositiveInt

from darkroom.contracts.jobtypes import JobType


class CostUnit(StrEnum):
    """What a model's price is counted in."""

    IMAGE = "image"  # each output image
    SECOND = "second"  # each second of output video
    MEGAPIXEL = "megapixel"  # each million output pixels (upscales)
    RUN = "run"  # each job, whatever it makes


class ModelInfo(BaseModel):
    """One model of a provider."""

    name: str = Field(min_length=1, max_length=100, description="Name to give as `model`.")
    job_types: list[JobType] = Field(min_length=1, description="Job types the model serves.")
    cost_usd: float = Field(0.0, ge=0, description="Price in US dollars per `cost_unit`.")
    cost_unit: CostUnit = Field(CostUnit.IMAGE, description="What the price is counted in.")
    description: str = Field("", description="What the model is.")


class ProviderLimitsInfo(BaseModel):
    """How hard the provider may be driven, per worker process (PROVIDER_LIMITS overrides)."""

    starts_per_s: PositiveFloat = Field(10.0, description="Jobs started per second at most.")
    concurrency: PositiveInt = Field(5, description="Jobs running at once at most.")
    timeout_s: PositiveFloat | None = Field(
        None, description="Longest an attempt may take; none: the worker's JOB_TIMEOUT_S."
    )


class ProviderInfo(BaseModel):
    """What a provider plug-in declares: its name, models and limits. Its first model of a job
    type is the default of that type."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,49}$", description="Name to give as `provider`.")
    description: str = Field("", description="What the provider is.")
    models: list[ModelInfo] = Field(min_length=1, description="Its models.")
    limits: ProviderLimitsInfo = Field(
        default_factory=ProviderLimitsInfo, description="Its limits."
    )

    def models_for(self, job_type: JobType) -> list[ModelInfo]:
        """The models serving `job_type`, the default first."""
        return [m for m in self.models if job_type in m.job_types]


class ProviderView(ProviderInfo):
    """A provider as this deployment has it."""

    configured: bool = Field(description="Whether its settings are all given (it can run jobs).")
    missing_settings: list[str] = Field(
        default_factory=list, description="Settings to give before it can run jobs."
    )


class ModelCatalog(BaseModel):
    """Answer of `GET /v1/models`: every installed provider, configured or not."""

    providers: list[ProviderView] = Field(description="Providers, by name.")
