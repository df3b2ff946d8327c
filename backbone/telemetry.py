"""Tracing and structured logging, set up once per process."""

import logging
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import structlog
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, ALWAYS_ON

from backbone.pii import redact_id_numbers
from backbone.settings import Settings

_configured = False


def _add_trace_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format(ctx.trace_id, "032x")
        event["span_id"] = format(ctx.span_id, "016x")
    return event


def configure_logging(level: str = "INFO", stream: TextIO = sys.stdout) -> None:
    """JSON log lines with dotted event names and the active trace id — ours and the libraries'
    (uvicorn, aiokafka, SQLAlchemy) alike."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, _redact,
                    structlog.processors.JSONRenderer(ensure_ascii=False)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _redact, structlog.processors.JSONRenderer(ensure_ascii=False)],
    ))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # One line per outgoing request is noise, and a URL is no place to trust with what it carries.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    # A URL or an error may quote an ID number (a mistyped path, a caller's message); no log line carries one.
    return {k: redact_id_numbers(v) if isinstance(v, str) else v for k, v in event.items()}


class RedactingExporter(SpanExporter):
    """Exports spans with every ID number in their name and attributes masked (a span records the URL)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([ReadableSpan(
            name=redact_id_numbers(s.name), context=s.context, parent=s.parent, resource=s.resource,
            attributes={k: redact_id_numbers(v) if isinstance(v, str) else v for k, v in (s.attributes or {}).items()},
            events=s.events, links=s.links, kind=s.kind, status=s.status, start_time=s.start_time,
            end_time=s.end_time, instrumentation_scope=s.instrumentation_scope) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def configure_tracing(service: str, settings: Settings) -> None:
    """A tracer provider for this process, exporting where the settings say, and the
    instrumentation of httpx, asyncpg and aiokafka."""
    global _configured
    if _configured:
        return
    _configured = True
    if not (settings.otlp_endpoint or settings.trace_file):
        # No exporter: keep the no-op provider. Trace context still flows through requests,
        # events and messages; only nothing is recorded here. Messages need no instrumentation for
        # it: the relay writes each event's context into its message and the consumer runner reads it
        # from there, while aiokafka's instrumentation would make a span of every record fetched, at a
        # cost of about 6 % of a consumer's CPU (bench/README.md).
        HTTPXClientInstrumentor().instrument()
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"fundwatch-{service}"}),
                              sampler=ParentBased(ALWAYS_ON))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(RedactingExporter(OTLPSpanExporter())))
    if settings.trace_file:
        path = settings.trace_file.format(service=service)
        out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with the process
        exporter = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
        provider.add_span_processor(BatchSpanProcessor(RedactingExporter(exporter), schedule_delay_millis=200))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    AsyncPGInstrumentor().instrument()
    AIOKafkaInstrumentor().instrument()


def instrument_app(app: FastAPI) -> None:
    """Server spans for every request, health probes excluded."""
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")


def shutdown_tracing() -> None:
    """Flush what is buffered (called on a clean stop)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
