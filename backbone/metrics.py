"""Prometheus metrics of a FundWatch process, served at /metrics: what an operator watches to know the platform
moves (requests, the outbox, consumer lag, dead letters, alerts, streams, crashed loops).

A process restart shows as a new `process_start_time_seconds` (prometheus-client's process collector):
`changes(process_start_time_seconds[1h])` counts restarts.
"""

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("fundwatch_http_requests_total", "Requests answered, by route template and status.",
                   ["service", "route", "method", "status"])
LATENCY = Histogram("fundwatch_http_request_seconds", "Time to answer a request, by route template.",
                    ["service", "route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
OUTBOX_PENDING = Gauge("fundwatch_outbox_pending", "Events stored but not yet published.", ["schema"])
OUTBOX_OLDEST = Gauge("fundwatch_outbox_oldest_age_seconds", "Age of the oldest event waiting to be published.",
                      ["schema"])
REPUBLISHED = Counter("fundwatch_events_republished_total",
                      "Events queued again because the broker forgot them.", ["schema"])
CONSUMER_LAG = Gauge("fundwatch_consumer_lag", "Messages a consumer group is behind the end of a partition.",
                     ["group", "topic", "partition"])
EVENTS_APPLIED = Counter("fundwatch_events_applied_total", "Events a consumer group applied (repeats skipped).",
                         ["group", "event_type"])
DEAD_LETTERS = Counter("fundwatch_dead_letters_total", "Events a consumer group could not apply.", ["group"])
ALERTS_RAISED = Counter("fundwatch_alerts_raised_total",
                        "Alerts raised, by rule and level (a raise whose transaction was retried counts again).",
                        ["rule", "level"])
OPEN_STREAMS = Gauge("fundwatch_open_streams", "Server-Sent Event streams open now.", ["service"])
LOOP_CRASHES = Counter("fundwatch_background_crashes_total", "Background loops that died of an error and were "
                       "started again.", ["task"])


def exposition() -> tuple[bytes, str]:
    """The metrics in the Prometheus text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


class RequestMetrics:
    """Counts and times every HTTP request by its route template (bounded labels: never the raw path)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            REQUESTS.labels(self.service, route, method, str(status)).inc()
            LATENCY.labels(self.service, route, method).observe(time.perf_counter() - started)
