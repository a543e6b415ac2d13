"""How every Kafka client of the stack connects: the one place TLS and SASL settings are read.

aiokafka's producers, consumers and admin clients take `**client_options(settings)`; FastStream's
broker takes `broker_security(settings)`. A client built without them would reach a secured
cluster in plaintext and fail with a bare connection error, so nothing builds one by hand.
"""

from __future__ import annotations

import ssl
from typing import TypedDict

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from darkroom.runtime.settings import KafkaSettings


class KafkaConnection(TypedDict):
    """The connection arguments aiokafka's clients share."""

    bootstrap_servers: str
    security_protocol: str
    ssl_context: ssl.SSLContext | None
    sasl_mechanism: str
    sasl_plain_username: str | None
    sasl_plain_password: str | None


def tls_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """A context that verifies the brokers (KAFKA_SSL_CA_FILE, or the system's CAs) and presents
    the client certificate when one is set; None without TLS."""
    if not settings.kafka_uses_tls:
        return None
    return create_ssl_context(
        cafile=settings.kafka_ssl_ca_file,
        certfile=settings.kafka_ssl_cert_file,
        keyfile=settings.kafka_ssl_key_file,
    )


def client_options(settings: KafkaSettings) -> KafkaConnection:
    """Arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
    password = settings.kafka_sasl_password
    return KafkaConnection(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        security_protocol=settings.kafka_security_protocol,
        ssl_context=tls_context(settings),
        sasl_mechanism=settings.kafka_sasl_mechanism,
        sasl_plain_username=settings.kafka_sasl_username if settings.kafka_uses_sasl else None,
        sasl_plain_password=password.get_secret_value()
        if password and settings.kafka_uses_sasl
        else None,
    )


_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def broker_security(settings: KafkaSettings) -> BaseSecurity | None:
    """The same settings as FastStream's `security` argument."""
    options = client_options(settings)  # one TLS context: its files are read once
    context = options["ssl_context"]
    if not settings.kafka_uses_sasl:
        return BaseSecurity(ssl_context=context) if context else None
    return _SASL[settings.kafka_sasl_mechanism](
        username=options["sasl_plain_username"] or "",
        password=options["sasl_plain_password"] or "",
        ssl_context=context,
        use_ssl=context is not None,
    )
