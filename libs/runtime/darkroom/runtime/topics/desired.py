"""Each topic as this deployment wants it: the contracts' spec with the deployment's partitions,
replication and `min.insync.replicas`."""

from __future__ import annotations

from dataclasses import dataclass, field

from darkroom.contracts.topics import TopicKind, TopicSpec
from darkroom.runtime.settings import KafkaSettings


@dataclass(frozen=True)
class TopicState:
    """A topic's partitions, replication and the configs Darkroom manages (wanted or found)."""

    name: str
    partitions: int
    replication: int
    configs: dict[str, str] = field(default_factory=dict)


def desired_topic(spec: TopicSpec, settings: KafkaSettings) -> TopicState:
    configs = {"cleanup.policy": spec.cleanup_policy, "retention.ms": str(spec.retention_ms)}
    if settings.kafka_min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(settings.kafka_min_insync_replicas)
    partitions = 1 if spec.kind is TopicKind.MARKER else settings.kafka_partitions
    return TopicState(spec.name, partitions, settings.kafka_replication_factor, configs)


def desired_topics(settings: KafkaSettings) -> list[TopicState]:
    """Every topic of the stack, as this deployment wants it."""
    return [desired_topic(spec, settings) for spec in settings.topics.specs()]
