"""Every environment variable the manifests set is a setting a Darkroom process reads, and each
process accepts the environment an overlay gives it (prod's secrets: the documented keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from darkroom.runtime.settings import DEV_SECRET_PREFIX
from tests.unit.deploy.k8s import (
    OVERLAYS,
    PROCESSES,
    Process,
    darkroom_processes,
    named,
    of_kind,
    secret_values,
    setting_names,
)

EVERY_SETTING = set().union(*(setting_names(cls) for cls in PROCESSES.values()))
SECRETS = {
    "JWT_SECRET",
    "ASSET_URL_SECRET",
    "WEBHOOK_SIGNING_KEY",
    "DATABASE_URL",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_in_darkroom_config_and_secrets_is_a_real_setting(overlay: str) -> None:
    proc = darkroom_processes(overlay)[0]
    config = proc.shared_env(secret_values(overlay))
    assert set(config) - EVERY_SETTING == set()
    assert SECRETS <= set(secret_values(overlay))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_container_sets_only_variables_its_own_process_reads(overlay: str) -> None:
    for proc in darkroom_processes(overlay):
        own = set(proc.own_env())
        assert own - setting_names(proc.settings_class) == set(), proc.command


def rendered_env(proc: Process, files: Path) -> dict[str, str]:
    """The environment the container starts with. Values from the Downward API or another
    Secret are stand-ins; a path under a mounted volume becomes a file under `files`."""
    env = proc.shared_env(secret_values(proc.overlay))
    for name, entry in proc.own_env().items():
        env[name] = entry.get("value", f"value-of-{name.lower()}-from-the-cluster")
    mounts = [m["mountPath"] for m in proc.container.get("volumeMounts", [])]
    for name, value in env.items():
        mount = next((m for m in mounts if value.startswith(m + "/")), None)
        if mount and mount != "/tmp":
            path = files / value.removeprefix("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("-----BEGIN CERTIFICATE-----\n")
            env[name] = str(path)
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_accepts_the_environment_its_overlay_gives_it(
    overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for proc in darkroom_processes(overlay):
        for name in EVERY_SETTING:  # nothing from this machine's environment
            monkeypatch.delenv(name, raising=False)
        env = rendered_env(proc, tmp_path)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = proc.settings_class()
        wanted = "dev" if overlay == "dev" else "prod"
        assert getattr(settings, "darkroom_env", wanted) == wanted, proc.command
        if hasattr(settings, "kafka_partitions"):
            assert settings.kafka_partitions == int(env["KAFKA_PARTITIONS"])


def test_prod_needs_every_production_setting_and_real_secrets() -> None:
    for overlay in ("prod", "strimzi"):
        config = darkroom_processes(overlay)[0].shared_env({})
        assert config["STORAGE_BACKEND"] == "s3" and config["LOG_FORMAT"] == "json"
        assert config["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
        assert config["KAFKA_FETCH_MAX_WAIT_MS"] == "500"
        assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert int(config["KAFKA_REPLICATION_FACTOR"]) == 3
        assert int(config["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
        for name in ("S3_ENDPOINT", "S3_PUBLIC_ENDPOINT", "PUBLIC_BASE_URL", "NOTIFIER_PUBLIC_URL"):
            assert config[name].startswith("https://"), (overlay, name)
        # darkroom-secrets is made outside git: no overlay but dev renders it.
        assert not [s for s in of_kind(overlay, "Secret") if "darkroom-secrets" in str(s)]
    example = secret_values("prod")
    assert not [k for k, v in example.items() if v.startswith(DEV_SECRET_PREFIX)]
    assert "KAFKA_SASL_PASSWORD" in example


def test_dev_uses_apache_kafka_postgres_17_and_minio_at_pinned_versions() -> None:
    images = {
        s["metadata"]["name"]: s["spec"]["template"]["spec"]["containers"][0]["image"]
        for s in of_kind("dev", "StatefulSet")
    }
    assert set(images) == {"kafka", "postgres", "minio"}
    assert images["kafka"].startswith("apache/kafka:")
    assert images["postgres"].startswith("postgres:17.")
    assert images["minio"].startswith("minio/minio:RELEASE.")
    assert all(":" in i and not i.endswith(":latest") for i in images.values())
    config = darkroom_processes("dev")[0].shared_env(secret_values("dev"))
    assert config["KAFKA_ENABLE_IDEMPOTENCE"] == "true"  # Apache Kafka, unlike Tansu, has it
    kafka = named("dev", "StatefulSet", "kafka")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in kafka["env"]}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, one node
    assert env["KAFKA_ADVERTISED_LISTENERS"].endswith("//" + config["KAFKA_BOOTSTRAP_SERVERS"])
