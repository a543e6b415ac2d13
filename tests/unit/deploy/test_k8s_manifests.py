"""deploy/k8s renders for every overlay, validates offline (Kubernetes' own schemas, and the KEDA
and Strimzi CRD schemas kept in deploy/schemas), and runs every process the way it must run:
its command, probes on its port, a grace period above its shutdown, no rights."""

from __future__ import annotations

import uuid
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import SchemaNotFoundError

from darkroom.gateway.routes import assets, health, jobs, tokens, uploads
from darkroom.notifier.routes import router as notifier_router
from darkroom.runtime.broker_watch import STOP_S
from darkroom.runtime.healthcheck import HTTP_PORTS
from darkroom.runtime.kafka import COMMIT_TIMEOUT_S
from tests.unit.deploy.k8s import (
    OVERLAYS,
    SERVICES,
    WORKERS,
    Process,
    crd_schema_path,
    crd_validator,
    darkroom_processes,
    named,
    of_kind,
    pod_templates,
    process,
    render,
    secret_values,
)

KUBERNETES_VERSIONS = ("1.32", kubernetes_validate.latest_version())
CRD_GROUPS = ("keda.sh", "kafka.strimzi.io")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_and_validates_against_kubernetes_1_32_and_the_latest(
    overlay: str, version: str
) -> None:
    for doc in render(overlay):
        if doc["apiVersion"].split("/")[0] in CRD_GROUPS:
            continue
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except SchemaNotFoundError:  # pragma: no cover - an unknown kind is a failure too
            pytest.fail(f"{where}: Kubernetes {version} has no such kind")
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_keda_and_strimzi_resources_validate_against_their_crd_schemas(overlay: str) -> None:
    custom = [d for d in render(overlay) if d["apiVersion"].split("/")[0] in CRD_GROUPS]
    for doc in custom:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        assert crd_schema_path(doc["apiVersion"], doc["kind"]).is_file(), where
        errors = list(crd_validator(doc["apiVersion"], doc["kind"]).iter_errors(doc))
        assert not errors, f"{where}: {[(list(e.path), e.message) for e in errors]}"
    kinds = {d["kind"] for d in custom}
    assert (
        kinds
        == {
            "dev": set(),
            "prod": {"ScaledObject", "TriggerAuthentication"},
            "strimzi": {"ScaledObject", "TriggerAuthentication", "Kafka", "KafkaNodePool"}
            | {"KafkaTopic", "KafkaUser"},
        }[overlay]
    )


def test_the_crd_schema_check_is_strict_about_unknown_and_mistyped_fields() -> None:
    validator = crd_validator("keda.sh/v1alpha1", "ScaledObject")
    good = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "x"}}
    spec = {"scaleTargetRef": {"name": "d"}, "triggers": [{"type": "kafka", "metadata": {}}]}
    assert validator.is_valid({**good, "spec": spec})
    assert not validator.is_valid({**good, "spec": {**spec, "maxReplicas": 3}})
    assert not validator.is_valid({**good, "spec": {**spec, "maxReplicaCount": "3"}})
    topic = crd_validator("kafka.strimzi.io/v1", "KafkaTopic")
    doc = {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {}}
    assert topic.is_valid({**doc, "spec": {"partitions": 3, "config": {"any.key": "1"}}})
    assert not topic.is_valid({**doc, "spec": {"partition": 3}})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_darkroom_process_has_one_deployment_and_each_one_shot_a_job(overlay: str) -> None:
    by_kind: dict[str, list[str]] = {"Deployment": [], "Job": []}
    for proc in darkroom_processes(overlay):
        assert proc.container["command"] == [proc.command]
        by_kind[proc.workload["kind"]].append(proc.command)
    assert sorted(by_kind["Deployment"]) == sorted(SERVICES)
    # Strimzi's Topic Operator owns the topics there (KafkaTopic resources).
    one_shots = ["darkroom-migrate"] + ([] if overlay == "strimzi" else ["darkroom-topics"])
    assert sorted(by_kind["Job"]) == sorted(one_shots)


def probe_ports(proc: Process) -> dict[str, Any]:
    names = {p["name"]: p["containerPort"] for p in proc.container.get("ports", [])}
    found = {}
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = proc.container.get(kind)
        if probe:
            action = probe.get("httpGet") or probe["tcpSocket"]
            found[kind] = (names.get(action["port"], action["port"]), action.get("path"))
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_http_process_is_probed_on_its_own_port_and_the_relay_is_not(overlay: str) -> None:
    for command in SERVICES:
        proc = process(overlay, command)
        probes = probe_ports(proc)
        if command not in HTTP_PORTS:
            assert probes == {}, command  # the relay: no port
            continue
        setting, default = HTTP_PORTS[command]
        env = proc.shared_env(secret_values(overlay))
        port = int(env.get(setting, default))
        assert {p for p, _ in probes.values()} == {port}, command
        assert probes["readinessProbe"][1] == "/readyz", command
        # The projector's and the webhook sender's /healthz ping the broker: liveness only asks
        # for the server.
        live = None if command in ("darkroom-projector", "darkroom-webhooks") else "/healthz"
        assert probes["livenessProbe"][1] == live, command


def shutdown_bound_s(proc: Process) -> float:
    """The longest a clean stop takes: the preStop pause, then the broker watch (STOP_S, twice
    at most); a worker also drains for WORKER_DRAIN_TIMEOUT_S and commits."""
    pre_stop = proc.container.get("lifecycle", {}).get("preStop", {}).get("exec", {})
    bound = float(pre_stop["command"][1]) if pre_stop else 0.0
    bound += 2 * STOP_S
    if proc.command in WORKERS:
        env = proc.shared_env(secret_values(proc.overlay))
        bound += float(env.get("WORKER_DRAIN_TIMEOUT_S", 30.0)) + COMMIT_TIMEOUT_S
    return bound


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_grace_period_of_every_process_exceeds_its_shutdown(overlay: str) -> None:
    for command in SERVICES:
        proc = process(overlay, command)
        grace = proc.pod["terminationGracePeriodSeconds"]
        assert grace > shutdown_bound_s(proc), (command, grace, shutdown_bound_s(proc))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_darkroom_runs_as_user_10001_read_only_with_no_rights(overlay: str) -> None:
    for proc in darkroom_processes(overlay):
        pod, container = proc.pod, proc.container
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], proc.command
        assert set(container["resources"]) == {"requests", "limits"}, proc.command
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), proc.command


ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "secret"}
ALLOWED_VOLUMES |= {"persistentVolumeClaim", "projected"}


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What the 'restricted' Pod Security Standard (the namespace enforces it) refuses."""
    found = [f"host {k}" for k in ("hostNetwork", "hostPID", "hostIPC") if pod.get(k)]
    volumes = pod.get("volumes", [])
    found += [f"volume {v['name']}" for v in volumes if not set(v) - {"name"} <= ALLOWED_VOLUMES]
    pod_sc = pod.get("securityContext", {})
    for c in pod["containers"] + pod.get("initContainers", []):
        sc = {**pod_sc, **c.get("securityContext", {})}
        if sc.get("runAsNonRoot") is not True or sc.get("runAsUser") == 0:
            found.append(f"{c['name']}: may run as root")
        if sc.get("seccompProfile", {}).get("type") not in ("RuntimeDefault", "Localhost"):
            found.append(f"{c['name']}: no seccomp profile")
        if sc.get("allowPrivilegeEscalation") is not False or sc.get("privileged"):
            found.append(f"{c['name']}: may escalate")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []) or set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{c['name']}: keeps capabilities")
        found += [f"{c['name']}: hostPort" for p in c.get("ports", []) if p.get("hostPort")]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_meets_the_restricted_pod_security_standard_it_is_held_to(overlay: str) -> None:
    (namespace,) = of_kind(overlay, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for workload, pod in pod_templates(overlay):
        assert restricted_violations(pod) == [], workload["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_relay_is_exactly_one_pod_replaced_by_recreate_and_never_autoscaled(
    overlay: str,
) -> None:
    relay = process(overlay, "darkroom-relay").workload
    assert relay["spec"]["replicas"] == 1
    assert relay["spec"]["strategy"] == {"type": "Recreate"}
    scalers = [*of_kind(overlay, "ScaledObject"), *of_kind(overlay, "HorizontalPodAutoscaler")]
    targets = [d["spec"]["scaleTargetRef"]["name"] for d in scalers]
    assert relay["metadata"]["name"] not in targets
    budgets = [
        d["spec"]["selector"]["matchLabels"] for d in of_kind(overlay, "PodDisruptionBudget")
    ]
    autoscaled = [process(overlay, c).workload for c in SERVICES if c != "darkroom-relay"]
    for deployment in autoscaled:  # replicas belong to the autoscaler (or default to 1 in dev)
        assert "replicas" not in deployment["spec"]
        assert deployment["spec"]["selector"]["matchLabels"] in budgets


def backend_for(ingress: dict[str, Any], path: str) -> str | None:
    """The Service an ingress sends a request path to (Exact, then the longest Prefix)."""
    matches = []
    for rule in ingress["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            exact = p["pathType"] == "Exact" and path == p["path"]
            prefix = p["pathType"] == "Prefix" and path.startswith(p["path"].rstrip("/") + "/")
            if exact or prefix or path == p["path"]:
                matches.append((exact, len(p["path"]), p["backend"]["service"]["name"]))
    return max(matches)[2] if matches else None


def concrete(path: str) -> str:
    return path.replace("{job_id}", str(uuid.uuid4())).replace("{key:path}", "a/b.png")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_streams_reach_the_notifier_on_its_host_and_the_api_reaches_the_gateway(
    overlay: str,
) -> None:
    api, events = (
        named(overlay, "Ingress", "darkroom-api"),
        named(overlay, "Ingress", "darkroom-events"),
    )
    config = process(overlay, "darkroom-gateway").shared_env(secret_values(overlay))
    assert config["PUBLIC_BASE_URL"].split("://")[1] == api["spec"]["rules"][0]["host"]
    assert config["NOTIFIER_PUBLIC_URL"].split("://")[1] == events["spec"]["rules"][0]["host"]
    streams = [r.path for r in notifier_router.routes if r.path.startswith("/v1/")]
    assert streams and all(backend_for(events, concrete(p)) == "darkroom-notifier" for p in streams)
    routers = (jobs.router, tokens.router, assets.router, uploads.router, health.router)
    for path in {r.path for router in routers for r in router.routes}:
        assert backend_for(api, concrete(path)) == "darkroom-gateway", path
        assert backend_for(events, concrete(path)) in (None, "darkroom-notifier"), path
    sse = events["metadata"]["annotations"]
    assert sse["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(sse["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
