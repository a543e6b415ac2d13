"""Reading the stack's topics from the broker and changing them (aiokafka's admin client)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.topics.desired import TopicState
from darkroom.runtime.topics.plan import TopicPlan

logger = logging.getLogger(__name__)

TOPIC_ALREADY_EXISTS = 36


@asynccontextmanager
async def admin_client(settings: KafkaSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=10_000)
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()


async def read_topics(
    admin: AIOKafkaAdminClient, wanted: list[TopicState]
) -> dict[str, TopicState]:
    """The wanted topics that exist, as the broker has them (only the configs Darkroom manages).

    Only listed topics are described: the embedded broker creates a topic it is asked about."""
    listed = set(await admin.list_topics())
    names = [t.name for t in wanted if t.name in listed]
    if not names:
        return {}
    managed = {t.name: list(t.configs) for t in wanted}
    configs = await _configs(admin, {name: managed[name] for name in names})
    found = {}
    for topic in await admin.describe_topics(names):
        partitions = topic["partitions"]
        replication = max((len(p["replicas"]) for p in partitions), default=0)
        name = topic["topic"]
        found[name] = TopicState(name, len(partitions), replication, configs.get(name, {}))
    return found


async def partition_counts(settings: KafkaSettings, names: list[str]) -> dict[str, int]:
    """How many partitions each of these existing topics has."""
    async with admin_client(settings) as admin:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}


async def _configs(
    admin: AIOKafkaAdminClient, keys: dict[str, list[str]]
) -> dict[str, dict[str, str]]:
    """The managed configs of each topic. All of a topic's configs are asked for and filtered
    here: the embedded broker drops the connection when asked for named keys."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in keys]
    found: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for _code, _message, _type, name, entries in response.resources:
            wanted = set(keys.get(name, ()))
            found[name] = {e[0]: e[1] for e in entries if e[0] in wanted and e[1] is not None}
    return found


async def create_topics(admin: AIOKafkaAdminClient, topics: list[TopicState]) -> None:
    """Create these topics with their configs (one that exists meanwhile is fine)."""
    if not topics:
        return
    new = [NewTopic(t.name, t.partitions, t.replication, topic_configs=t.configs) for t in topics]
    response = await admin.create_topics(new)
    for topic, code, *_ in getattr(response, "topic_errors", ()):
        if code not in (0, TOPIC_ALREADY_EXISTS):
            raise KafkaError(f"cannot create topic {topic}: error code {code}")
    logger.info("created topics %s", ", ".join(t.name for t in topics))


async def apply_plan(admin: AIOKafkaAdminClient, plan: TopicPlan) -> None:
    """Create, set configs, add partitions; raise KafkaError naming what the broker refused."""
    await create_topics(admin, plan.create)
    if plan.alter:
        await _alter(admin, plan.alter)
    if plan.grow:
        try:
            await admin.create_partitions(
                {name: NewPartitions(count) for name, count in plan.grow.items()}
            )
        except Exception as exc:  # the embedded broker does not offer it at all
            raise KafkaError(f"cannot add partitions ({', '.join(plan.grow)}): {exc}") from exc


async def _alter(admin: AIOKafkaAdminClient, alter: dict[str, dict[str, str]]) -> None:
    resources = [ConfigResource(ConfigResourceType.TOPIC, n, c) for n, c in alter.items()]
    try:
        responses = await admin.alter_configs(resources)
    except Exception as exc:  # the embedded broker does not offer it at all
        raise KafkaError(f"cannot set topic configs ({', '.join(alter)}): {exc}") from exc
    for response in responses:
        for code, message, _type, name in response.resources:
            if code:
                raise KafkaError(f"cannot set the configs of {name}: {code} {message}")
