"""The whole platform as separate processes against the suite's PostgreSQL and broker."""

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx

from backbone.clock import clock
from backbone.settings import get_settings
from deploy.local.processes import APPS, ServiceProcesses, service_env
from deploy.local.servers import free_ports
from tests.e2e.people import GATEWAY_ENV
from tests.support.mailbox import Mailbox, start_mailbox

MAX_DOCUMENT_BYTES = 64 * 1024
MAX_REQUEST_BYTES = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    processes: ServiceProcesses
    trace_dir: Path
    mailbox: Mailbox  # the local SMTP server notifications are e-mailed through

    @property
    def gateway(self) -> str:
        return self.processes.url("gateway")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.gateway}/api/v1", timeout=30)

    def span_names(self, service: str, trace_id: str) -> list[str]:
        """The names of a service's exported spans of one trace (32 hex digits)."""
        path = self.trace_dir / f"{service}.jsonl"
        names = []
        for line in path.read_text().splitlines() if path.exists() else []:
            try:
                span = json.loads(line)
            except json.JSONDecodeError:
                continue  # the exporter is still writing this line: the next read gets it whole
            if span["context"]["trace_id"] == f"0x{trace_id}":
                names.append(span["name"])
        return names

    def admin_headers(self) -> dict[str, str]:
        s = get_settings()
        with self.client() as c:
            r = c.post("/auth/token", json={"username": s.admin_user, "password": s.admin_password.get_secret_value()})
            r.raise_for_status()
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

    @property
    def province(self) -> str:
        """The provincial platform simulator's base URL."""
        return self.processes.url("province")

    def treasury_headers(self) -> dict[str, str]:
        return {"X-Api-Key": get_settings().treasury_api_key.get_secret_value()}


def started_stack(servers) -> Iterator[Stack]:
    """The whole platform for the session: the `stack` fixture of tests/conftest.py, shared by the e2e and the
    browser tests (one stack per run, whichever folders it covers)."""
    run_dir = ROOT / ".data" / "test" / f"stack-{uuid4().hex[:6]}"
    trace_dir = run_dir / "traces"
    trace_dir.mkdir(parents=True)
    *app_ports, smtp_port = free_ports(len(APPS) + 1)
    ports = dict(zip(APPS, app_ports, strict=True))
    smtp, mailbox = start_mailbox(smtp_port)
    env = service_env(database_url=servers.database_url, kafka_bootstrap=servers.kafka_bootstrap, ports=ports,
                      extra={"FUNDWATCH_TRACE_FILE": str(trace_dir / "{service}.jsonl"),
                             "FUNDWATCH_RELAY_POLL_SECONDS": "0.2",
                             "FUNDWATCH_RELAY_CHECK_SECONDS": "1",
                             "FUNDWATCH_CONSUMER_STALL_SECONDS": "5",
                             "FUNDWATCH_SCHEDULER_SECONDS": "0.5",
                             # The exchange retries within the tests' patience while the simulator is down.
                             "FUNDWATCH_EXCHANGE_POLL_SECONDS": "0.2",
                             "FUNDWATCH_EXCHANGE_RETRY_SECONDS": "0.2",
                             "FUNDWATCH_EXCHANGE_RETRY_MAX_SECONDS": "1",
                             "FUNDWATCH_EXCHANGE_TIMEOUT_SECONDS": "5",
                             # The suite is one busy person signing in often from one address; rate limits are
                             # tested with a key's own limit.
                             "FUNDWATCH_RATE_LIMIT_PERSON": "100000/minute",
                             "FUNDWATCH_RATE_LIMIT_SIGN_IN": "100000/minute",
                             "FUNDWATCH_DOCUMENT_DIR": str(run_dir / "documents"),
                             "FUNDWATCH_MAX_DOCUMENT_BYTES": str(MAX_DOCUMENT_BYTES),
                             "FUNDWATCH_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
                             # Notifications on, through the test's SMTP server and the SMS gateway's stand-in,
                             # retried within the tests' patience.
                             "FUNDWATCH_NOTIFY_SMTP_HOST": "127.0.0.1",
                             "FUNDWATCH_NOTIFY_SMTP_PORT": str(smtp_port),
                             "FUNDWATCH_NOTIFY_SMS_URL": f"http://127.0.0.1:{ports['sms']}/messages",
                             "FUNDWATCH_NOTIFY_POLL_SECONDS": "0.2",
                             "FUNDWATCH_NOTIFY_RETRY_SECONDS": "0.3",
                             "FUNDWATCH_NOTIFY_RETRY_MAX_SECONDS": "1",
                             "FUNDWATCH_NOTIFY_TIMEOUT_SECONDS": "5"})
    procs = ServiceProcesses(env=env, log_dir=run_dir / "logs", ports=ports)
    procs.start_all()
    try:
        procs.wait_ready()
        os.environ[GATEWAY_ENV] = procs.url("gateway")
        yield Stack(procs, trace_dir, mailbox)
    finally:
        procs.stop_all()
        smtp.stop()


def traced(headers: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """A trace id of the test's choosing and the headers that start a request in it (W3C traceparent): spans are
    exported in batches, and a test that looks for what is *not* in them first waits for this trace's."""
    trace_id = secrets.token_hex(16)
    return trace_id, (headers or {}) | {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}


def indicator_body(amount: str = "1000.00", **overrides) -> dict:
    """An indicator issued and received today, so that no registration-time rule fires unless a test wants it."""
    today = clock().today().isoformat()
    return {
        "doc_no": "长财农指〔2026〕12号", "fund_name": "中央财政衔接推进乡村振兴补助资金",
        "fund_nature": "general_budget", "function_code": "2130504", "economic_code": "50901",
        "budget_project": "产业发展", "amount": amount, "fiscal_year": 2026, "level": "central",
        "issued_on": today, "received_on": today, "owner_division": "agriculture",
        "org_unit": "220102", "poverty_tag": True,
    } | overrides


def payment_body(payment_id: str, indicator_id: str | None, amount: str, **overrides) -> dict:
    return {
        "payment_id": payment_id, "indicator_id": indicator_id, "payer_name": "南关区农业农村局",
        "payer_account": "0710001200000001", "amount": amount, "paid_at": "2026-03-01T10:00:00+08:00",
        "purpose": "产业发展补助", "settlement_method": "transfer", "payment_method": "direct",
        "payee_name": "南关区某农民专业合作社", "payee_account": "6222000011112222", "payee_type": "organization",
        "org_unit": "220102",
    } | overrides
