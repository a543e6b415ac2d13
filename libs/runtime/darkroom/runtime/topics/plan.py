"""What to change so the broker's topics are as wanted: pure, so `--dry-run` and the real run
decide alike. Partitions only grow (Kafka cannot shrink a topic); replication is not changed
(that is a reassignment, an operator's decision): both are reported instead."""

from __future__ import annotations

from dataclasses import dataclass, field

from darkroom.runtime.topics.desired import TopicState


@dataclass
class TopicPlan:
    create: list[TopicState] = field(default_factory=list)
    alter: dict[str, dict[str, str]] = field(default_factory=dict)  # topic -> configs to set
    grow: dict[str, int] = field(default_factory=dict)  # topic -> partitions wanted
    left: list[str] = field(default_factory=list)  # differences left to the operator

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.alter) + len(self.grow)

    def describe(self) -> list[str]:
        """One line per change or difference left, for people."""
        lines = [
            f"create {t.name}: {t.partitions} partitions, replication {t.replication}, {_configs(t.configs)}"
            for t in self.create
        ]
        lines += [f"set {name}: {_configs(configs)}" for name, configs in self.alter.items()]
        lines += [f"grow {name} to {count} partitions" for name, count in self.grow.items()]
        return lines + [f"left as it is: {note}" for note in self.left]


def plan_topics(wanted: list[TopicState], found: dict[str, TopicState]) -> TopicPlan:
    """The changes that make `found` (the broker's topics) as `wanted`; unmanaged topics and
    configs are not touched."""
    plan = TopicPlan()
    for want in wanted:
        have = found.get(want.name)
        if have is None:
            plan.create.append(want)
            continue
        differing = {k: v for k, v in want.configs.items() if have.configs.get(k) != v}
        if differing:
            plan.alter[want.name] = dict(want.configs)  # AlterConfigs sets the whole managed set
        if have.partitions < want.partitions:
            plan.grow[want.name] = want.partitions
        elif have.partitions > want.partitions:
            plan.left.append(
                f"{want.name} has {have.partitions} partitions (wanted "
                f"{want.partitions}; Kafka cannot shrink a topic)"
            )
        if have.replication != want.replication:
            plan.left.append(
                f"{want.name} has replication {have.replication} (wanted "
                f"{want.replication}; change it with a partition reassignment)"
            )
    return plan


def _configs(configs: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(configs.items()))
