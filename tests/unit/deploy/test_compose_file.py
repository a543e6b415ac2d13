"""docker-compose.yml, checked without Docker: it validates against the Compose specification,
runs every Darkroom process and one-shot step in order, gives each process an environment its
settings accept (and nothing they do not read), and creates the topics the services use. The
file's commands and environment actually run in tests/e2e/test_compose_stack.py."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from darkroom.runtime.settings import DEV_SECRET_PREFIX, KafkaSettings
from darkroom.runtime.topics.desired import desired_topics
from darkroom.runtime.worker.settings import WorkerSettings
from tests.fixtures.compose import ComposeService, load_services, raw_compose, start_order
from tests.unit.deploy.k8s import ONE_SHOTS, PROCESSES, SERVICES, render, setting_names

SCHEMA = (
    Path(__file__).resolve().parents[3] / "deploy" / "schemas" / "compose" / "compose-spec.json"
)
SERVERS = {"kafka", "postgres", "minio"}
EVERY_SETTING = set().union(*(setting_names(cls) for cls in PROCESSES.values()))


def darkroom(env: dict[str, str] | None = None) -> dict[str, ComposeService]:
    return {n: s for n, s in load_services(env).items() if s.is_darkroom}


def test_the_file_validates_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(raw_compose())
    invalid = {**raw_compose(), "services": {"x": {"image": "a", "restart": 3}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(invalid)


def test_every_darkroom_process_and_one_shot_step_runs_from_the_image() -> None:
    commands = {s.command[0] for s in darkroom().values()}
    assert commands == set(PROCESSES)
    for service in darkroom().values():
        assert service.image.startswith("darkroom:") and "build" in service.spec
        assert service.one_shot == (service.command[0] in ONE_SHOTS), service.name


def test_servers_are_pinned_to_a_version_and_have_health_checks() -> None:
    services = load_services()
    for name in SERVERS:
        image = services[name].image
        assert ":" in image and not image.endswith(":latest"), image
        assert "healthcheck" in services[name].spec, name
    assert services["kafka"].image.startswith("apache/kafka:")
    assert services["kafka"].environment["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def test_services_start_after_the_steps_and_the_steps_after_their_servers() -> None:
    services = load_services()
    order = start_order(services)
    steps = {"topics", "migrate", "bucket"}
    for service in services.values():
        if service.is_darkroom and not service.one_shot:
            assert {d: c for d, c in service.depends_on.items()} == dict.fromkeys(
                steps, "service_completed_successfully"
            ), service.name
            assert "healthcheck" in service.spec and service.spec["restart"] == "unless-stopped"
    for step, server in (("topics", "kafka"), ("migrate", "postgres"), ("bucket", "minio")):
        assert services[step].depends_on == {server: "service_healthy"}
        assert order.index(server) < order.index(step)


def test_every_process_accepts_the_environment_compose_gives_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for service in darkroom().values():
        for name in EVERY_SETTING:
            monkeypatch.delenv(name, raising=False)
        for name, value in service.environment.items():
            monkeypatch.setenv(name, value)
        PROCESSES[service.command[0]]()  # raises on a missing or invalid setting


def test_with_darkroom_env_prod_the_development_secrets_are_refused_until_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gateway = darkroom({"DARKROOM_ENV": "prod"})["gateway"]
    for name, value in gateway.environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="development default"):
        SERVICES["darkroom-gateway"]()
    secrets = {
        "JWT_SECRET": "k" * 40,
        "ASSET_URL_SECRET": "a-real-asset-secret",
        "WEBHOOK_SIGNING_KEY": "w" * 40,
    }
    gateway = darkroom({"DARKROOM_ENV": "prod", **secrets})["gateway"]
    assert not gateway.environment["JWT_SECRET"].startswith(DEV_SECRET_PREFIX)
    for name, value in gateway.environment.items():
        monkeypatch.setenv(name, value)
    SERVICES["darkroom-gateway"]()


def test_each_process_is_given_only_settings_that_some_process_reads() -> None:
    for service in darkroom().values():
        unknown = set(service.environment) - EVERY_SETTING
        assert not unknown, (service.name, unknown)


def test_workers_may_drain_before_compose_kills_them() -> None:
    for service in darkroom().values():
        if service.command[0].endswith("-worker"):
            grace_s = float(service.spec["stop_grace_period"].removesuffix("s"))
            drain_s = float(service.environment.get("WORKER_DRAIN_TIMEOUT_S", 30))
            assert grace_s > drain_s + 10, service.name
    assert WorkerSettings().worker_drain_timeout_s <= 30


def test_the_topics_step_creates_the_topics_every_service_and_kubernetes_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = darkroom()
    kafka_env = {k: v for k, v in services["topics"].environment.items() if k.startswith("KAFKA_")}
    for service in services.values():
        mine = {k: v for k, v in service.environment.items() if k.startswith("KAFKA_")}
        assert mine == kafka_env, service.name  # same partitions, same (no) suffix
    assert "KAFKA_TOPIC_SUFFIX" not in kafka_env
    for name, value in kafka_env.items():
        monkeypatch.setenv(name, value)
    compose_topics = {t.name: t for t in desired_topics(KafkaSettings())}
    job = next(
        d for d in render("prod") if d["kind"] == "Job" and "topics" in d["metadata"]["name"]
    )
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["darkroom-topics"]
    kubernetes_topics = {t.name for t in desired_topics(KafkaSettings(kafka_partitions=12))}
    assert set(compose_topics) == kubernetes_topics
    assert {t.partitions for t in compose_topics.values() if t.name != "darkroom.incarnation"} == {
        int(kafka_env["KAFKA_PARTITIONS"])
    }


def test_the_bucket_step_creates_the_bucket_the_services_write_to() -> None:
    services = load_services()
    bucket = services["gateway"].environment["S3_BUCKET"]
    assert f"store/{bucket}" in " ".join(services["bucket"].command)
    minio = services["minio"].environment
    assert services["gateway"].environment["S3_ACCESS_KEY"] == minio["MINIO_ROOT_USER"]
    assert services["gateway"].environment["S3_SECRET_KEY"] == minio["MINIO_ROOT_PASSWORD"]
