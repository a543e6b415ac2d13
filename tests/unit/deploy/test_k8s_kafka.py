"""Topics, partitions and consumer groups are the same in the contracts and in Kubernetes: the
KEDA triggers, the topics Job's settings, and the strimzi overlay's KafkaTopics and user."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest

from darkroom.contracts.jobtypes import WORKER_TYPES, JobType
from darkroom.contracts.topics import Topics
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.topics.desired import desired_topics
from tests.unit.deploy.k8s import (
    K8S,
    OVERLAYS,
    named,
    of_kind,
    process,
    render,
    secret_values,
)

TOPICS = Topics()
# Which job types each worker process runs (services/*/main.py).
WORKER_JOB_TYPES = {
    "darkroom-image-worker": [JobType.IMAGE],
    "darkroom-upscale-worker": [JobType.UPSCALE, JobType.VARIANTS],
    "darkroom-video-worker": [JobType.VIDEO],
}
AUTOSCALED = ("prod", "strimzi")


def config(overlay: str, command: str = "darkroom-gateway") -> dict[str, str]:
    return process(overlay, command).shared_env(secret_values(overlay))


def kafka_settings(overlay: str, command: str, monkeypatch: pytest.MonkeyPatch) -> KafkaSettings:
    """The Kafka settings a process of the overlay runs with (this machine's env left out)."""
    env = config(overlay, command)
    keys = ("KAFKA_PARTITIONS", "KAFKA_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS")
    for name in KafkaSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return KafkaSettings(**{k.lower(): env[k] for k in keys if k in env})


def expected_triggers(command: str) -> set[tuple[str, str]]:
    """(consumer group, topic) pairs whose lag should scale the process: the request topics of
    each job type it runs (not the retries, which wait on purpose), or the projector's events."""
    if command == "darkroom-projector":
        return {(TOPICS.projector_group, TOPICS.events)}
    if command == "darkroom-webhooks":
        return {(TOPICS.webhooks_group, TOPICS.events)}
    return {
        (TOPICS.of(t).worker_group, topic)
        for t in WORKER_JOB_TYPES[command]
        for topic in TOPICS.request_topics(t).values()
    }


def test_the_scaled_workers_run_every_job_type_that_has_a_worker() -> None:
    assert sorted(t for types in WORKER_JOB_TYPES.values() for t in types) == sorted(WORKER_TYPES)


def scaled_objects(overlay: str) -> dict[str, dict[str, Any]]:
    """ScaledObjects by the command of the Deployment they scale."""
    found = {}
    for scaled in of_kind(overlay, "ScaledObject"):
        target = named(overlay, "Deployment", scaled["spec"]["scaleTargetRef"]["name"])
        found[target["spec"]["template"]["spec"]["containers"][0]["command"][0]] = scaled
    return found


@pytest.mark.parametrize("overlay", AUTOSCALED)
def test_keda_scales_workers_projector_and_webhooks_on_the_contracts_groups_and_topics(
    overlay: str,
) -> None:
    scaled = scaled_objects(overlay)
    assert sorted(scaled) == sorted([*WORKER_JOB_TYPES, "darkroom-projector", "darkroom-webhooks"])
    for command, obj in scaled.items():
        triggers = obj["spec"]["triggers"]
        found = {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in triggers}
        assert found == expected_triggers(command), command
        for trigger in triggers:
            meta = trigger["metadata"]
            assert trigger["type"] == "kafka"
            assert meta["bootstrapServersFromEnv"] == "KAFKA_BOOTSTRAP_SERVERS"
            assert meta["offsetResetPolicy"] == "earliest"  # as Darkroom's consumers start
            assert int(meta["lagThreshold"]) > 0
            assert trigger["authenticationRef"]["name"] == "darkroom-kafka"


@pytest.mark.parametrize("overlay", AUTOSCALED)
def test_keda_never_scales_past_the_partitions_nor_to_zero(overlay: str) -> None:
    for command, obj in scaled_objects(overlay).items():
        partitions = int(config(overlay, command)["KAFKA_PARTITIONS"])
        spec = obj["spec"]
        # CEL rule of the ScaledObject CRD (x-kubernetes-validations), checked here.
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions, command


@pytest.mark.parametrize("overlay", AUTOSCALED)
def test_gateway_and_notifier_autoscale_on_cpu(overlay: str) -> None:
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(overlay, "HorizontalPodAutoscaler")
    }
    assert sorted(hpas) == ["darkroom-gateway", "darkroom-notifier"]
    for hpa in hpas.values():
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


@pytest.mark.parametrize("overlay", ("dev", "prod"))
def test_the_topics_job_and_the_services_create_the_same_topics(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = desired_topics(kafka_settings(overlay, "darkroom-topics", monkeypatch))
    for command in ("darkroom-gateway", "darkroom-image-worker", "darkroom-notifier"):
        assert desired_topics(kafka_settings(overlay, command, monkeypatch)) == job
    assert sorted(t.name for t in job) == sorted(s.name for s in TOPICS.specs())


def test_strimzi_kafka_topics_are_the_desired_topics_of_the_contracts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wanted = desired_topics(kafka_settings("strimzi", "darkroom-gateway", monkeypatch))
    (kafka,) = of_kind("strimzi", "Kafka")
    found = {}
    for topic in of_kind("strimzi", "KafkaTopic"):
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        spec = topic["spec"]
        configs = {k: str(v) for k, v in spec["config"].items()}
        found[topic["metadata"]["name"]] = (spec["partitions"], spec["replicas"], configs)
    assert found == {t.name: (t.partitions, t.replication, t.configs) for t in wanted}
    brokers = [p for p in of_kind("strimzi", "KafkaNodePool") if "broker" in p["spec"]["roles"]]
    assert sum(p["spec"]["replicas"] for p in brokers) >= max(t.replication for t in wanted)


def test_strimzi_topics_file_is_what_its_generator_writes_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in KafkaSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    spec = importlib.util.spec_from_file_location("strimzi_topics", K8S / "strimzi_topics.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = (K8S / "overlays" / "strimzi" / "topics.yaml").read_text()
    assert written == module.render(), "run: .venv/bin/python deploy/k8s/strimzi_topics.py"


def acl_allows(acls: list[dict[str, Any]], kind: str, name: str, operation: str) -> bool:
    for acl in acls:
        resource = acl["resource"]
        pattern, wanted = resource.get("patternType", "literal"), resource["name"]
        matches = name.startswith(wanted) if pattern == "prefix" else wanted in (name, "*")
        if resource["type"] == kind and matches and operation in acl["operations"]:
            return True
    return False


def test_strimzi_clients_reach_the_cluster_as_its_user_with_every_acl_they_need() -> None:
    env = config("strimzi")
    (kafka,) = of_kind("strimzi", "Kafka")
    (user,) = of_kind("strimzi", "KafkaUser")
    (listener,) = [x for x in kafka["spec"]["kafka"]["listeners"] if x["tls"]]
    cluster, namespace = kafka["metadata"]["name"], kafka["metadata"]["namespace"]
    bootstrap = f"{cluster}-kafka-bootstrap.{namespace}.svc:{listener['port']}"
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap  # full name: KEDA is in another namespace
    assert listener["authentication"]["type"] == env["KAFKA_SASL_MECHANISM"].lower()
    assert user["metadata"]["name"] == env["KAFKA_SASL_USERNAME"]
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    acls = user["spec"]["authorization"]["acls"]
    for spec in TOPICS.specs():
        for operation in ("Describe", "Read", "Write", "Create"):
            assert acl_allows(acls, "topic", spec.name, operation), (spec.name, operation)
    groups = [TOPICS.projector_group, TOPICS.webhooks_group]
    groups += [
        g for t in WORKER_TYPES for g in (TOPICS.of(t).worker_group, TOPICS.of(t).retry_group)
    ]
    assert all(acl_allows(acls, "group", g, "Read") for g in groups)


@pytest.mark.parametrize("overlay", AUTOSCALED)
def test_keda_authenticates_like_the_services(overlay: str) -> None:
    env = config(overlay)
    auth = named(overlay, "TriggerAuthentication", "darkroom-kafka")["spec"]
    params = {p["parameter"]: p for p in auth["configMapTargetRef"]}
    keda = named(overlay, "ConfigMap", params["sasl"]["name"])["data"]
    mechanism = env["KAFKA_SASL_MECHANISM"].lower().replace("-", "_").replace("sha_", "sha")
    assert keda[params["sasl"]["key"]] == mechanism  # scram_sha512
    assert keda[params["tls"]["key"]] == "enable" and env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    from_env = {p["parameter"]: p["name"] for p in auth["env"]}
    assert from_env == {"username": "KAFKA_SASL_USERNAME", "password": "KAFKA_SASL_PASSWORD"}
    if overlay == "strimzi":
        (ca,) = auth["secretTargetRef"]
        (kafka,) = of_kind("strimzi", "Kafka")
        assert ca["name"] == f"{kafka['metadata']['name']}-cluster-ca-cert"


def test_no_overlay_names_a_topic_or_group_the_contracts_do_not_have() -> None:
    names = {s.name for s in TOPICS.specs()} | {TOPICS.projector_group}
    names |= {
        g for t in WORKER_TYPES for g in (TOPICS.of(t).worker_group, TOPICS.of(t).retry_group)
    }
    for overlay in OVERLAYS:
        text = str(render(overlay))
        for found in set(re.findall(r"jobs\.[a-z.]+[a-z]", text)):
            assert found in names, (overlay, found)
