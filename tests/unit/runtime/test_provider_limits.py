"""Per-provider limits hold across every job of a worker process."""

from __future__ import annotations

import asyncio
import time

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.providers import ProviderLimitsInfo
from darkroom.runtime.providers import Registry
from darkroom.runtime.worker.limits import ProviderLimit, ProviderLimits
from darkroom.runtime.worker.settings import WorkerSettings


async def test_no_more_jobs_of_a_provider_run_at_once_than_its_concurrency() -> None:
    limits = ProviderLimits({"acme": ProviderLimit(concurrency=2)}, ProviderLimit())
    running, peak = 0, 0

    async def job() -> None:
        nonlocal running, peak
        async with limits.slot("acme"):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            running -= 1

    await asyncio.gather(*(job() for _ in range(8)))
    assert peak == 2


async def test_starts_beyond_the_rate_wait_for_the_next_second() -> None:
    limits = ProviderLimits({"acme": ProviderLimit(starts_per_s=4)}, ProviderLimit())
    started: list[float] = []
    origin = time.monotonic()

    async def job() -> None:
        async with limits.slot("acme"):
            started.append(time.monotonic() - origin)

    await asyncio.gather(*(job() for _ in range(8)))
    assert sum(1 for t in started if t < 0.2) <= 4  # a burst of at most one second's worth
    assert max(started) >= 0.5


async def test_providers_do_not_share_limits() -> None:
    limits = ProviderLimits({}, ProviderLimit(concurrency=1))
    async with limits.slot("a"):
        async with asyncio.timeout(1):
            async with limits.slot("b"):
                pass


def test_the_local_provider_is_unlimited_and_others_default_to_10_per_second_and_5_at_once() -> (
    None
):
    settings = WorkerSettings(provider_limits={"acme": ProviderLimit(starts_per_s=2)})
    assert settings.limits().limit_of("local") == ProviderLimit()
    assert settings.limits().limit_of("acme").starts_per_s == 2
    other = settings.limits().limit_of("other")
    assert (other.starts_per_s, other.concurrency) == (10, 5)


def test_a_plug_ins_declared_limits_hold_unless_provider_limits_names_the_provider() -> None:
    declared = {
        "acme": ProviderLimitsInfo(starts_per_s=1, concurrency=2, timeout_s=60),
        "bfl": ProviderLimitsInfo(starts_per_s=2, concurrency=8, timeout_s=900),
        "local": ProviderLimitsInfo(starts_per_s=10, concurrency=5),
    }
    settings = WorkerSettings(provider_limits={"acme": ProviderLimit(starts_per_s=5)})
    limits = settings.limits(declared)

    assert limits.limit_of("acme") == ProviderLimit(starts_per_s=5)  # the setting, whole
    assert (limits.limit_of("bfl").concurrency, limits.timeout_of("bfl", 300)) == (8, 900)
    assert limits.limit_of("local") == ProviderLimit()  # on this machine's CPU: unlimited
    assert limits.timeout_of("acme", 300) == limits.timeout_of("other", 300) == 300


def test_the_installed_plug_ins_declare_the_limits_the_workers_apply() -> None:
    declared = Registry.installed().declared_limits()

    assert declared["runpod"].timeout_s == 900  # a custom endpoint's cold start takes minutes
    assert declared["openai"] == ProviderLimitsInfo(starts_per_s=1, concurrency=4, timeout_s=180)
    assert declared["local"].timeout_s is None  # JOB_TIMEOUT_S
    # each worker takes the limits of the plug-in of its own job types
    assert declared["replicate"].timeout_s == 300
    assert Registry.installed().declared_limits([JobType.VIDEO])["replicate"].timeout_s == 600
