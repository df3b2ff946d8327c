"""Deadline rules end to end: bells ring ahead of a deadline, clear when the work is done in time, and turn
into lights when it is not, exactly once, also when alerting is killed while its clocks are running."""

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from backbone.clock import clock
from backbone.db import create_engine
from backbone.eventstore import EventStore
from services.alerting import app as alerting_app
from services.alerting.rules.book import RuleBook
from services.alerting.scheduler import close_month
from tests.e2e import clocks, db, quiet
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_alert_handling import OWNER, cash_alert
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
NOT_ALLOCATED = "indicator.not_allocated_in_time"


def received_days_ago(days: int, amount: str = "900.00") -> dict:
    """Central funds the city received `days` ago (the law gives it 30 days to pass them down)."""
    day = (clock().today() - timedelta(days=days)).isoformat()
    return indicator_body(amount, org_unit="220100", level="central", issued_on=day, received_on=day)


def not_allocated(stack, admin, indicator_id: str) -> dict | None:
    return clocks.alert_of(f"{stack.gateway}/api/v1", admin, NOT_ALLOCATED, indicator_id)


def test_late_funds_turn_red_at_once_and_a_ringing_bell_clears_when_the_money_is_passed_down(stack, servers):
    admin = stack.admin_headers()
    with stack.client() as c:
        overdue = c.post("/indicators", json=received_days_ago(40), headers=admin).json()["id"]
        due_soon = c.post("/indicators", json=received_days_ago(29), headers=admin).json()["id"]
        in_time = c.post("/indicators", json=received_days_ago(1), headers=admin).json()["id"]
        red = poll(lambda: not_allocated(stack, admin, overdue))
        assert red and (red["level"], red["status"]) == ("red", "open")
        assert "预算法" in red["explanation"]["basis"] and red["owner_division"] == "agriculture"
        bell = poll(lambda: not_allocated(stack, admin, due_soon))
        assert bell and (bell["level"], bell["status"]) == ("yellow_bell", "open")
        assert bell["explanation"]["summary"].startswith("将于")
        c.post(f"/indicators/{due_soon}/allocations", headers=admin, json={"allocations": [
            {"amount": "900.00", "org_unit": "220102", "owner_division": "agriculture"}]}).raise_for_status()
        cleared = poll(lambda: (a := not_allocated(stack, admin, due_soon)) and a["status"] == "cleared" and a)
        assert cleared and cleared["level"] == "yellow_bell"
        history = c.get(f"/alerts/{cleared['id']}", headers=admin).json()["history"]
        assert [h["payload"].get("action") for h in history] == [None, "clear"]
        assert history[1]["actor"] == "system:alerting"
        # Its clock is running, with a month to go: nothing rings yet.
        assert poll(lambda: [(k["state"], k["bell_ahead"]) for k in asyncio.run(
            clocks.of(servers.database_url, in_time, NOT_ALLOCATED))] == [("waiting", True)])
        assert not_allocated(stack, admin, in_time) is None


async def alerting_paid(database_url: str, indicator_ids: list[str]) -> list[Decimal]:
    """What alerting has counted as paid on these indicators, in their order."""
    paid = dict(await db.fetch(database_url, "SELECT indicator_id, paid FROM alerting.indicator_balances "
                                             "WHERE indicator_id = ANY($1)", indicator_ids))
    return [paid.get(i) for i in indicator_ids]


def test_sigkill_with_ringing_bells_escalates_each_exactly_once(stack, servers):
    admin = stack.admin_headers()
    with stack.client() as c:
        ids = [c.post("/indicators", json=received_days_ago(29), headers=admin).json()["id"] for _ in range(6)]
        assert poll(lambda: all(not_allocated(stack, admin, i) for i in ids), timeout=30), "the bells did not ring"
        # Let the time run out for the ringing clocks, as a month passing would.
        assert asyncio.run(clocks.move(servers.database_url, "due_at", ids, state="ringing")) == 6
        stack.processes.kill("alerting")
        stack.processes.start("alerting")
        stack.processes.wait_ready(["alerting"])
        assert poll(lambda: all(not_allocated(stack, admin, i)["level"] == "red" for i in ids), timeout=30)
        # Once a clock has expired the scheduler no longer looks at it: wait for that, and for quiet.
        assert poll(lambda: all([k["state"] for k in asyncio.run(clocks.of(servers.database_url, i, NOT_ALLOCATED))]
                                == ["expired"] for i in ids), timeout=30)
        quiet.settle(servers)
        for i in ids:
            alert = not_allocated(stack, admin, i)
            actions = [h["payload"].get("action") for h in c.get(f"/alerts/{alert['id']}", headers=admin)
                       .json()["history"]]
            assert actions == [None, "escalate"], actions


async def run_out(database_url: str, rule_id: str, subject_id: str) -> int:
    return await clocks.move(database_url, "due_at", subject_id, rule_id, state="waiting")


def test_an_alert_left_unhandled_rings_a_reminder_that_clears_when_it_is_handled(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    alerting = f"{stack.processes.url('alerting')}/api/v1"
    with stack.client() as c:
        alert_id = cash_alert(c, admin, treasury)
        # Three working days pass without a sheet.
        assert asyncio.run(run_out(servers.database_url, "workflow.alert_not_handled", alert_id)) == 1

        def reminder():
            items = c.get("/alerts", params={"rule": "workflow.alert_not_handled", "limit": 1000},
                          headers=admin).json()["items"]
            return next((a for a in items if a["subject"]["id"] == alert_id), None)
        bell = poll(reminder)
        assert bell and (bell["level"], bell["status"], bell["subject"]["kind"]) == ("yellow_bell", "open", "alert")
        assert bell["owner_division"] == "agriculture", "the reminder goes to whoever must handle the alert"
        httpx.post(f"{alerting}/alerts/{alert_id}/dispositions", headers=OWNER, json={
            "action": "confirm_violation", "method": "调阅材料", "findings": "现金发放", "violation_type": "其他",
            "rectification": "改为转账"}).raise_for_status()
        assert poll(lambda: reminder()["status"] == "cleared")


async def close(database_url: str, today: date) -> bool:
    """Run the scheduler's month close as of `today` (the month before it closes)."""
    engine = create_engine(database_url)
    store = EventStore(alerting_app.spec.tables, source="alerting",
                       inline_projections=list(alerting_app.spec.inline_projections))
    try:
        async with engine.begin() as conn:
            return await close_month(conn, store, RuleBook(), today)
    finally:
        await engine.dispose()


def test_month_end_rings_for_indicators_and_districts_behind_schedule_and_the_next_month_takes_over(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        slow = c.post("/indicators", json=indicator_body("1000.00", org_unit="220104"), headers=admin).json()["id"]
        fine = c.post("/indicators", json=indicator_body("100.00", org_unit="220104"), headers=admin).json()["id"]
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{slow}-p", slow, "100.00", org_unit="220104"),
            payment_body(f"{fine}-p", fine, "100.00", org_unit="220104")]}).raise_for_status()
        assert poll(lambda: asyncio.run(alerting_paid(servers.database_url, [slow, fine])) == [Decimal("100.00")] * 2)
        december = date(2026, 12, 1)
        assert asyncio.run(close(servers.database_url, december))
        assert not asyncio.run(close(servers.database_url, december + timedelta(days=20))), "a month closes once"

        def bells(rule: str, subject: str) -> list[dict]:
            items = c.get("/alerts", params={"rule": rule, "limit": 1000}, headers=admin).json()["items"]
            return [a for a in items if a["subject"]["id"] == subject]
        november = bells("spending.behind_schedule", slow)
        assert [(a["period"], a["level"], a["status"]) for a in november] == [("2026-11", "yellow_bell", "open")]
        assert november[0]["explanation"]["values"]["indicator.payment_progress"] == "0.1000"
        assert bells("spending.behind_schedule", fine) == [], "fully spent"
        district = bells("workflow.district_behind", "220104")
        assert [(a["period"], a["org_unit"]) for a in district] == [("2026-11", "220104")]
        # December closes with the indicator still behind: November's bell clears, December's rings.
        assert asyncio.run(close(servers.database_url, date(2027, 1, 1)))
        both = {a["period"]: a["status"] for a in bells("spending.behind_schedule", slow)}
        assert both == {"2026-11": "cleared", "2026-12": "open"}
