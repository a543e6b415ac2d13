"""What `darkroom-topics` changes: missing topics created with their configs, differing configs
set, partitions only grown, replication and shrinking left to the operator; nothing twice."""

from darkroom.contracts.topics import TopicKind, Topics
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.topics.desired import TopicState, desired_topics
from darkroom.runtime.topics.plan import plan_topics

SETTINGS = KafkaSettings(
    kafka_partitions=6, kafka_replication_factor=3, kafka_min_insync_replicas=2
)


def by_name(topics: list[TopicState]) -> dict[str, TopicState]:
    return {t.name: t for t in topics}


def test_every_topic_of_the_contracts_is_wanted_with_how_it_keeps_its_records() -> None:
    wanted = by_name(desired_topics(SETTINGS))
    topics = Topics()

    assert set(wanted) == {*topics.all_topics(), topics.incarnation}
    control, marker = wanted[topics.control], wanted[topics.incarnation]
    assert control.configs["cleanup.policy"] == "compact,delete"
    assert (marker.partitions, marker.configs["retention.ms"]) == (1, "-1")
    events = wanted[topics.events]
    assert (events.partitions, events.replication) == (6, 3)
    assert events.configs == {
        "cleanup.policy": "delete",
        "retention.ms": "604800000",
        "min.insync.replicas": "2",
    }
    assert {s.kind for s in topics.specs()} == set(TopicKind)


def test_an_empty_broker_gets_every_topic_and_a_synced_one_nothing() -> None:
    wanted = desired_topics(SETTINGS)

    assert [t.name for t in plan_topics(wanted, {}).create] == [t.name for t in wanted]
    again = plan_topics(wanted, by_name(wanted))
    assert again.changes == 0 and again.describe() == []


def test_configs_that_differ_are_set_and_unmanaged_ones_ignored() -> None:
    wanted = desired_topics(SETTINGS)
    found = by_name(wanted)
    events = found[Topics().events]
    found[events.name] = TopicState(
        events.name, 6, 3, {**events.configs, "retention.ms": "1000", "segment.ms": "5"}
    )

    plan = plan_topics(wanted, found)

    assert plan.alter == {events.name: events.configs} and plan.changes == 1
    assert plan.describe() == [
        f"set {events.name}: cleanup.policy=delete, min.insync.replicas=2, retention.ms=604800000"
    ]


def test_partitions_only_grow_and_replication_is_left_to_the_operator() -> None:
    wanted = desired_topics(SETTINGS)
    found = by_name(wanted)
    topics = Topics()
    few, many = found[topics.events], found[topics.control]
    found[few.name] = TopicState(few.name, 3, 1, few.configs)
    found[many.name] = TopicState(many.name, 12, 3, many.configs)

    plan = plan_topics(wanted, found)

    assert plan.grow == {few.name: 6}
    assert len(plan.left) == 2
    assert "has 12 partitions" in plan.left[1] or "has 12 partitions" in plan.left[0]
    assert any("replication 1" in note for note in plan.left)
