"""What an operator sees of a running platform: readiness that names what it checked, and Prometheus metrics
that move with the work (requests, consumed events, raised alerts), not shown to callers from outside."""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_alert_handling import cash_alert
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= set(ls))


def test_readiness_says_what_it_checked_and_metrics_count_the_work(stack):
    alerting = stack.processes.url("alerting")
    ready = httpx.get(f"{alerting}/readyz", timeout=10)
    assert ready.status_code == 200
    report = ready.json()
    assert (report["status"], report["checks"]["database"], report["checks"]["broker"]) == ("ready", "ok", "ok")
    assert set(report["checks"]["outbox"]) == {"pending", "oldest_age_seconds"}
    assert "alerting" in report["checks"]["consumers"] and report["faults"] == []

    before = samples(alerting)
    with stack.client() as c:
        cash_alert(c, stack.admin_headers(), stack.treasury_headers())
    assert poll(lambda: value(samples(alerting), "fundwatch_alerts_raised_total", rule="spending.cash_above_limit",
                              level="yellow")
                > value(before, "fundwatch_alerts_raised_total", rule="spending.cash_above_limit", level="yellow"))
    after = samples(alerting)
    assert value(after, "fundwatch_events_applied_total", group="alerting",
                 event_type="payments.PaymentRecorded") > 0
    gateway = samples(stack.gateway)
    assert value(gateway, "fundwatch_http_requests_total", service="gateway", route="/api/v1/auth/token",
                 method="POST", status="200") >= 1, "requests are counted by their route template"
    # Prometheus scrapes the pods; a caller who came through the ingress is not shown the figures.
    assert httpx.get(f"{stack.gateway}/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 404
