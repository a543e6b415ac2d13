"""Settings groups shared by the services: mix the ones a service needs into its Settings class.

Every field reads the environment variable of the same name (case-insensitive), so
`kafka_bootstrap_servers` reads `KAFKA_BOOTSTRAP_SERVERS` and `database_url` reads `DATABASE_URL`.
"""

from __future__ import annotations

import os
import socket
from functools import cached_property
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from darkroom.contracts.topics import Topics

# Kept in its own module; importable from here like every other settings group.
from darkroom.runtime.database_settings import DatabaseSettings as DatabaseSettings
from darkroom.runtime.secret_files import SecretFiles

DEV_SECRET_PREFIX = "dev-"
DEV_JWT_SECRET = "dev-jwt-secret-change-me-0123456789abcdef"


def _default_instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class BaseServiceSettings(SecretFiles):
    """What every service has: environment, log level, instance id; and secrets that may come
    from files (`darkroom.runtime.secret_files`, whose config it shares)."""

    darkroom_env: Literal["dev", "test", "prod"] = Field(
        "dev",
        description="dev and test accept the built-in development secrets; prod refuses them.",
    )
    log_level: str = Field("INFO", description="Python log level of the service.")
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="auto: readable text on a terminal, JSON lines otherwise."
    )
    instance_id: str = Field(
        default_factory=_default_instance_id,
        description="Id of this process (host-pid by default).",
    )


KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSecuritySettings(BaseSettings):
    """How the clients reach a secured cluster: TLS (a CA, a client certificate) and SASL."""

    kafka_security_protocol: KafkaSecurityProtocol = Field(
        "PLAINTEXT",
        description="PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL over TLS: MSK, "
        "Confluent Cloud, Strimzi's SCRAM listeners).",
    )
    kafka_ssl_ca_file: Path | None = Field(
        None, description="PEM file of the CAs to trust (TLS); unset: the system's CAs."
    )
    kafka_ssl_cert_file: Path | None = Field(
        None, description="PEM client certificate (mutual TLS), with KAFKA_SSL_KEY_FILE."
    )
    kafka_ssl_key_file: Path | None = Field(None, description="PEM private key of the certificate.")
    kafka_sasl_mechanism: KafkaSaslMechanism = Field(
        "SCRAM-SHA-512", description="SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password.")

    @property
    def kafka_uses_tls(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    @property
    def kafka_uses_sasl(self) -> bool:
        return self.kafka_security_protocol.startswith("SASL_")

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Self:
        if self.kafka_uses_sasl and (not self.kafka_sasl_username or not self.kafka_sasl_password):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        if (self.kafka_ssl_cert_file is None) != (self.kafka_ssl_key_file is None):
            raise ValueError("set both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE, or neither")
        files = (self.kafka_ssl_ca_file, self.kafka_ssl_cert_file, self.kafka_ssl_key_file)
        if any(files) and not self.kafka_uses_tls:
            raise ValueError(
                "KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL is "
                f"{self.kafka_security_protocol}: use SSL or SASL_SSL"
            )
        for path in files:
            if path is not None and not path.is_file():
                raise ValueError(f"{path}: no such file (KAFKA_SSL_* setting)")
        return self


class KafkaSettings(KafkaSecuritySettings):
    """Where the Kafka-compatible broker is and how topics are named and created."""

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated."
    )
    kafka_topic_suffix: str = Field(
        "", description="Appended to every topic and group name (test isolation)."
    )
    kafka_partitions: PositiveInt = Field(6, description="Partitions of topics the stack creates.")
    kafka_replication_factor: PositiveInt = Field(
        1, description="Replication factor of created topics."
    )
    kafka_enable_idempotence: bool = Field(
        False,
        description="Idempotent producers: a producer's own retries never duplicate or reorder a "
        "record. Set it on Apache Kafka; the embedded broker refuses it (a service then stops at "
        "start, saying so).",
    )
    kafka_min_insync_replicas: PositiveInt | None = Field(
        None,
        description="min.insync.replicas of the topics the stack creates (with acks=all, how many "
        "replicas must have a write); unset: the broker's default. Production: replication - 1.",
    )
    kafka_session_timeout_ms: PositiveInt = Field(
        6000,
        description="Consumer group session timeout; group joins take about half of it on Tansu.",
    )
    kafka_linger_ms: int = Field(
        2, ge=0, description="Producer linger: wait this long to batch sends."
    )
    kafka_fetch_max_wait_ms: int = Field(
        20,
        ge=0,
        description="Longest wait of a consumer's fetch; it also bounds how late records on a partition "
        "left out of an in-flight fetch are picked up.",
    )
    kafka_startup_timeout_s: float = Field(
        60.0, gt=0, description="How long to wait for the broker at start-up."
    )
    kafka_watch_interval_s: float = Field(
        2.0,
        gt=0,
        description="How often each process checks that the broker answers and still has the log it "
        "runs on; a broker that lost its log (restarted with memory storage) is taken in within this.",
    )

    @cached_property
    def topics(self) -> Topics:
        return Topics.with_suffix(self.kafka_topic_suffix)


class AuthSettings(BaseSettings):
    """Bearer-token (JWT, HS256) authentication."""

    jwt_secret: SecretStr = Field(
        SecretStr(DEV_JWT_SECRET),
        min_length=32,
        description="HS256 secret of bearer tokens, at least 32 bytes (RFC 7518 section 3.2).",
    )
    jwt_issuer: str = Field("darkroom", description="Issuer of the tokens this deployment makes.")
    stream_token_ttl_s: PositiveInt = Field(
        300, description="Lifetime of stream-only tokens for EventSource."
    )


ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})  # a bind to every address of the machine


def local_url(host: str, port: int) -> str:
    """The http URL at which a client on this machine reaches a server bound to `host:port`
    (a bind to every address, 0.0.0.0 or ::, at 127.0.0.1)."""
    if host in ANY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"


class GatewayAddress(BaseSettings):
    """Where the gateway listens, and the URL clients reach it at: `status_url`, `Location` and
    local signed asset URLs start with it (so workers read it too)."""

    gateway_host: str = Field("127.0.0.1", description="Address the gateway listens on.")
    gateway_port: int = Field(8000, description="Port the gateway listens on.")
    public_base_url: str = Field(
        "http://127.0.0.1:8000",
        description="The gateway's public URL (status_url, Location, local signed asset URLs). "
        "Unset: http://GATEWAY_HOST:GATEWAY_PORT, with 127.0.0.1 for a 0.0.0.0 bind.",
    )

    @field_validator("public_base_url")
    @classmethod
    def _public_url_without_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _derive_public_base_url(self) -> Self:
        if "public_base_url" not in self.model_fields_set:
            self.public_base_url = local_url(self.gateway_host, self.gateway_port)
        return self


class NotifierAddress(BaseSettings):
    """Where the notifier listens (the gateway derives the notifier's public URL from it)."""

    notifier_host: str = Field("127.0.0.1", description="Address the notifier listens on.")
    notifier_port: int = Field(8001, description="Port the notifier listens on.")


class ObservabilitySettings(BaseSettings):
    """Tracing."""

    otel_service_name: str | None = Field(
        None, description="Service name in traces (the service's own by default)."
    )
    otel_console_export: bool = Field(
        False, description="Print finished spans to stderr (debugging)."
    )


class SecretsCheck(BaseServiceSettings, AuthSettings):
    """Base of settings that hold secrets: in prod, a secret whose default is a development
    secret must have been set to something else (JWT_SECRET, and ASSET_URL_SECRET where present)."""

    @model_validator(mode="after")
    def _check_secrets(self) -> Self:
        if self.darkroom_env != "prod":
            return self
        weak = [
            name.upper()
            for name, field in type(self).model_fields.items()
            if _is_dev_secret(field.default) and _is_dev_secret(getattr(self, name))
        ]
        if weak:
            raise ValueError(
                f"DARKROOM_ENV=prod refuses the development default of {', '.join(weak)}: set real secrets"
            )
        return self


def _is_dev_secret(value: object) -> bool:
    return isinstance(value, SecretStr) and value.get_secret_value().startswith(DEV_SECRET_PREFIX)
