"""The Kubernetes manifests as the cluster would get them: each overlay rendered by
`kubectl kustomize`, the CRD schemas kept in deploy/schemas, and each Darkroom container's
process, environment and settings class."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pydantic_settings import BaseSettings

from darkroom.gateway.settings import GatewaySettings, ProjectorSettings, RelaySettings
from darkroom.gateway.webhooks.settings import WebhookSettings
from darkroom.image_worker.settings import ImageWorkerSettings
from darkroom.notifier.settings import NotifierSettings
from darkroom.runtime.db.migrate import MigrateSettings
from darkroom.runtime.settings import KafkaSettings
from darkroom.upscale_worker.settings import UpscaleWorkerSettings
from darkroom.video_worker.settings import VideoWorkerSettings

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
SCHEMAS = ROOT / "deploy" / "schemas"
OVERLAYS = ("dev", "prod", "strimzi")
Doc = dict[str, Any]

# Every long-running process, by its command, and the one-shot steps.
SERVICES: dict[str, type[BaseSettings]] = {
    "darkroom-gateway": GatewaySettings,
    "darkroom-relay": RelaySettings,
    "darkroom-projector": ProjectorSettings,
    "darkroom-webhooks": WebhookSettings,
    "darkroom-notifier": NotifierSettings,
    "darkroom-image-worker": ImageWorkerSettings,
    "darkroom-upscale-worker": UpscaleWorkerSettings,
    "darkroom-video-worker": VideoWorkerSettings,
}
ONE_SHOTS: dict[str, type[BaseSettings]] = {
    "darkroom-migrate": MigrateSettings,
    "darkroom-topics": KafkaSettings,
}
PROCESSES = {**SERVICES, **ONE_SHOTS}
WORKERS = ("darkroom-image-worker", "darkroom-upscale-worker", "darkroom-video-worker")


@cache
def render(overlay: str) -> tuple[Doc, ...]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its kustomize) is needed to render deploy/k8s"
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def of_kind(overlay: str, kind: str) -> list[Doc]:
    return [doc for doc in render(overlay) if doc["kind"] == kind]


def named(overlay: str, kind: str, name: str) -> Doc:
    (doc,) = [d for d in of_kind(overlay, kind) if d["metadata"]["name"] == name]
    return doc


def pod_templates(overlay: str) -> Iterator[tuple[Doc, Doc]]:
    """(workload, pod spec) of every Deployment, StatefulSet and Job."""
    for doc in render(overlay):
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield doc, doc["spec"]["template"]["spec"]


# -- CRD schemas ------------------------------------------------------------------------------


def crd_schema_path(api_version: str, kind: str) -> Path:
    group, version = api_version.split("/")
    return SCHEMAS / group / f"{kind.lower()}-{version}.json"


def to_json_schema(node: Any) -> Any:
    """A CRD's openAPIV3Schema as JSON Schema, as strict as the API server's field validation:
    unknown fields are errors unless the schema preserves them. CEL rules
    (x-kubernetes-validations) are dropped: the tests check the ones that matter themselves."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


@cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    schema = to_json_schema(json.loads(crd_schema_path(api_version, kind).read_text()))
    return jsonschema.Draft202012Validator(schema)


# -- Darkroom containers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    """One Darkroom container of a rendered overlay."""

    overlay: str
    workload: Doc
    pod: Doc
    container: Doc

    @property
    def command(self) -> str:
        return str(self.container["command"][0])

    @property
    def settings_class(self) -> type[BaseSettings]:
        return PROCESSES[self.command]

    def shared_env(self, secret_values: dict[str, str]) -> dict[str, str]:
        """What envFrom gives: darkroom-config and the Secret (values given for prod's)."""
        env: dict[str, str] = {}
        for source in self.container.get("envFrom", []):
            if "configMapRef" in source:
                env |= named(self.overlay, "ConfigMap", source["configMapRef"]["name"])["data"]
            else:
                env |= secret_values
        return env

    def own_env(self) -> dict[str, Any]:
        return {e["name"]: e for e in self.container.get("env", [])}


def darkroom_processes(overlay: str) -> list[Process]:
    return [
        Process(overlay, workload, pod, container)
        for workload, pod in pod_templates(overlay)
        for container in pod["containers"]
        if container["image"].split(":")[0].endswith("darkroom")
    ]


def process(overlay: str, command: str) -> Process:
    (found,) = [p for p in darkroom_processes(overlay) if p.command == command]
    return found


def dev_secret(overlay: str, name: str) -> dict[str, str]:
    (secret,) = [s for s in of_kind(overlay, "Secret") if s["metadata"]["name"].startswith(name)]
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def env_file(path: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in path.read_text().splitlines()]
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2 and not pair[0].startswith("#")}


def secret_values(overlay: str) -> dict[str, str]:
    """darkroom-secrets: generated in dev; prod's is made outside git from the documented keys."""
    if overlay == "dev":
        return dev_secret(overlay, "darkroom-secrets")
    return env_file(K8S / "overlays" / "prod" / "secrets.env.example")


def setting_names(cls: type[BaseSettings]) -> set[str]:
    return {name.upper() for name in cls.model_fields}
