"""OpenTelemetry tracing: one provider per process; trace context travels in event envelopes."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from darkroom.contracts.envelope import TraceContext


def configure_tracing(service: str, console: bool = False) -> None:
    """Install the process's tracer provider (spans are printed only when `console`)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def current_trace() -> TraceContext | None:
    """The current span's context, to put in an event envelope."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if "traceparent" not in carrier:
        return None
    return TraceContext(traceparent=carrier["traceparent"], tracestate=carrier.get("tracestate"))


def context_from(trace_context: TraceContext | None) -> Context | None:
    """The OpenTelemetry context an envelope carries, to continue its trace."""
    if trace_context is None:
        return None
    carrier = {"traceparent": trace_context.traceparent}
    if trace_context.tracestate:
        carrier["tracestate"] = trace_context.tracestate
    return propagate.extract(carrier)
