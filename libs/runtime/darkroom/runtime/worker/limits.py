"""Per-provider limits on starting jobs: starts per second and jobs at once, per worker process,
and how long one attempt may take.

External generation APIs throttle callers (429s); a worker that respects the provider's limits
never provokes them. The limits hold across every job of the process, whatever partition it
came from, and a job waits for its slot before `job.started`. A provider's plug-in declares its
limits; PROVIDER_LIMITS overrides them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aiolimiter import AsyncLimiter
from pydantic import BaseModel, Field, PositiveFloat, PositiveInt


class ProviderLimit(BaseModel):
    """The limits of one provider; None means unlimited."""

    starts_per_s: PositiveFloat | None = Field(None, description="Jobs started per second.")
    concurrency: PositiveInt | None = Field(None, description="Jobs running at once.")
    timeout_s: PositiveFloat | None = Field(
        None, description="Longest an attempt may take (none: JOB_TIMEOUT_S)."
    )


class ProviderLimits:
    """The gates of every provider, made on first use."""

    def __init__(self, limits: Mapping[str, ProviderLimit], default: ProviderLimit) -> None:
        self._limits, self._default = dict(limits), default
        self._gates: dict[str, tuple[AsyncLimiter | None, asyncio.Semaphore | None]] = {}

    def limit_of(self, provider: str) -> ProviderLimit:
        return self._limits.get(provider, self._default)

    def timeout_of(self, provider: str, default_s: float) -> float:
        """How long an attempt of the provider may take."""
        return self.limit_of(provider).timeout_s or default_s

    @asynccontextmanager
    async def slot(self, provider: str) -> AsyncIterator[None]:
        """Hold one of the provider's running slots, taken within its start rate."""
        rate, running = self._gate(provider)
        if running is not None:
            await running.acquire()
        try:
            if rate is not None:
                await rate.acquire()
            yield
        finally:
            if running is not None:
                running.release()

    def _gate(self, provider: str) -> tuple[AsyncLimiter | None, asyncio.Semaphore | None]:
        if provider not in self._gates:
            limit = self.limit_of(provider)
            rate = AsyncLimiter(limit.starts_per_s, 1.0) if limit.starts_per_s else None
            running = asyncio.Semaphore(limit.concurrency) if limit.concurrency else None
            self._gates[provider] = (rate, running)
        return self._gates[provider]
