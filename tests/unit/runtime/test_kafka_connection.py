"""Kafka client settings for secured clusters: what is refused at start, what each client gets,
and that no client of the stack is built around them."""

from __future__ import annotations

import ast
import ssl
from pathlib import Path

import pytest
import trustme
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import ValidationError

from darkroom.runtime.kafka_connection import broker_security, client_options
from darkroom.runtime.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[3]
SECURITY_VARS = (
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SSL_CA_FILE",
    "KAFKA_SSL_CERT_FILE",
    "KAFKA_SSL_KEY_FILE",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECURITY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(path)
    return path


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    options = client_options(KafkaSettings())
    assert options["security_protocol"] == "PLAINTEXT"
    assert options["ssl_context"] is None and options["sasl_plain_username"] is None
    assert broker_security(KafkaSettings()) is None


def test_sasl_over_tls_gives_every_client_the_user_the_mechanism_and_a_verifying_context(
    ca_file: Path,
) -> None:
    settings = KafkaSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="darkroom",
        kafka_sasl_password="s3cret",
        kafka_ssl_ca_file=ca_file,
    )
    options = client_options(settings)
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "darkroom",
        "s3cret",
    )
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    security = broker_security(settings)
    assert isinstance(security, SASLScram256) and security.use_ssl
    assert "s3cret" not in repr(settings)  # a secret, never logged with the settings


def test_sasl_without_tls_sends_no_tls_and_faststream_gets_the_same_mechanism() -> None:
    settings = KafkaSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
    )
    assert client_options(settings)["ssl_context"] is None
    security = broker_security(settings)
    assert isinstance(security, SASLScram512) and not security.use_ssl


def test_tls_without_a_ca_file_trusts_the_systems_cas() -> None:
    settings = KafkaSettings(kafka_security_protocol="SSL")
    context = client_options(settings)["ssl_context"]
    assert isinstance(context, ssl.SSLContext) and context.cert_store_stats()["x509_ca"] > 0
    security = broker_security(settings)
    assert type(security) is BaseSecurity and security.use_ssl


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERT_FILE": "{ca}"}, "set both"),
        ({"KAFKA_SSL_CA_FILE": "{ca}"}, "use SSL or SASL_SSL"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CA_FILE": "/no/such.pem"}, "no such file"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        ({"KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM"),
    ],
)
def test_incomplete_or_wrong_security_settings_stop_the_process_at_start_saying_what(
    monkeypatch: pytest.MonkeyPatch, ca_file: Path, env: dict[str, str], says: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(ca=ca_file))
    with pytest.raises(ValidationError) as raised:
        KafkaSettings()
    assert says.lower() in str(raised.value).lower()


KAFKA_CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}


def _calls(tree: ast.AST, names: set[str]) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
    ]


def test_every_kafka_client_of_the_stack_takes_the_shared_connection_settings() -> None:
    """A client built with only `bootstrap_servers` would reach a secured cluster in plaintext."""
    unsecured = []
    for path in [*ROOT.glob("libs/*/darkroom/**/*.py"), *ROOT.glob("services/*/darkroom/**/*.py")]:
        tree = ast.parse(path.read_text())
        for call in _calls(tree, KAFKA_CLIENTS):
            if not any(k.arg is None for k in call.keywords):  # no **client_options(...)
                unsecured.append(f"{path.relative_to(ROOT)}:{call.lineno}")
        for call in _calls(tree, {"KafkaBroker"}):
            if not any(k.arg == "security" for k in call.keywords):
                unsecured.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert unsecured == []
