"""ZC-009 无预算指标支付 (第七条(一)2) end to end: a payment naming an indicator the ledger has never had waits
for its registration, which may come on the other topic a little later; the next working day it rings, after the
second it is red; the indicator registered after all clears it, by system:alerting with the reason."""

import asyncio
import csv
import io
from uuid import uuid4

import pytest

from tests.e2e import clocks
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_indicator_import import HEADER, row
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
RULE = "spending.payment_indicator_unknown"


def with_its_id(indicator_id: str) -> bytes:
    """An indicator file naming its indicator (指标编号), as an export from another ledger does."""
    text = io.StringIO(newline="")
    csv.writer(text).writerows([[*HEADER, "指标编号"], [*row(f"ghost-{indicator_id[:6]}", "5000.00"), indicator_id]])
    return text.getvalue().encode("utf-8-sig")


def test_a_payment_on_an_indicator_the_ledger_never_had_rings_turns_red_and_clears_on_registration(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    alerting = f"{stack.gateway}/api/v1"
    ghost = str(uuid4())
    with stack.client() as c:
        known = c.post("/indicators", json=indicator_body("900.00"), headers=admin).json()["id"]
        batch = {"payments": [payment_body(f"{ghost}-p", ghost, "800.00"),
                              payment_body(f"{known}-p", known, "100.00")]}
        c.post("/payments/batch", headers=treasury, json=batch).raise_for_status()
        # The same batch again is the same payments: still one clock, later one alert.
        c.post("/payments/batch", headers=treasury, json=batch).raise_for_status()
        assert poll(lambda: [k["state"] for k in asyncio.run(clocks.of(servers.database_url, ghost, RULE))]
                    == ["waiting"])
        # A registered indicator's clock is settled by its registration, whichever topic came first.
        assert poll(lambda: [k["state"] for k in asyncio.run(clocks.of(servers.database_url, known, RULE))]
                    == ["met"])
        assert clocks.alert_of(alerting, admin, RULE, ghost) is None, "the day it arrives it may still be on its way"

        # The next working day: the bell.
        assert asyncio.run(clocks.move(servers.database_url, "bell_at", ghost, RULE, state="waiting")) == 1
        bell = poll(lambda: clocks.alert_of(alerting, admin, RULE, ghost))
        assert bell and (bell["level"], bell["status"]) == ("yellow_bell", "open")
        # The second working day ends: red, naming the payment and the indicator it could not find.
        assert asyncio.run(clocks.move(servers.database_url, "due_at", ghost, RULE, state="ringing")) == 1
        red = poll(lambda: (a := clocks.alert_of(alerting, admin, RULE, ghost)) and a["level"] == "red" and a)
        assert red and red["status"] == "open" and red["rule_number"] == "ZC-009"
        assert f"{ghost}-p" in red["explanation"]["summary"] and red["explanation"]["values"]["event.amount"] == "800.00"
        assert clocks.alert_of(alerting, admin, RULE, known) is None

        # The indicator is registered after all (imported from the ledger that had it): the red clears itself.
        imported = c.post("/indicators/import", headers=admin, files={"file": ("指标.csv", with_its_id(ghost))})
        assert imported.status_code == 200 and imported.json()["ids"] == [ghost], imported.text
        cleared = poll(lambda: (a := clocks.alert_of(alerting, admin, RULE, ghost)) and a["status"] == "cleared" and a)
        assert cleared and cleared["level"] == "red", "a cleared light keeps the level it had"
        history = c.get(f"/alerts/{cleared['id']}", headers=admin).json()["history"]
        assert [h["payload"].get("action") for h in history] == [None, "escalate", "clear"]
        assert history[-1]["actor"] == "system:alerting" and history[-1]["payload"]["reason"] == "预算指标已在台账登记"
