"""The provincial platform simulator: it takes a message only as the schemas of contracts/exchange describe it and
signed with the city's key, keeps one of each however often it arrives, and does what it is told (down, return)."""

from datetime import UTC, date, datetime

import httpx
import pytest

from backbone.settings import get_settings
from contracts.province import DailyRollup, MessageKind
from deploy.local import province
from services.sync.domain import district_figures
from services.sync.exchange.outbound import signed


@pytest.fixture
async def simulator():
    province.received.clear()
    province.faults.__dict__.update(province.Faults().__dict__)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=province.app), base_url="http://province") as c:
        yield c


def message(version: int = 1) -> dict:
    payload = DailyRollup(city="220100", rollup_date=date(2026, 11, 9), version=version,
                          computed_at=datetime(2026, 11, 9, 16, 0, 5, tzinfo=UTC),
                          figures=district_figures("220102", 2026, [], [], []))
    return signed(f"m-{version}", MessageKind.DAILY_ROLLUP, payload, get_settings())


async def test_a_valid_message_gets_a_receipt_and_is_held_once_however_often_it_arrives(simulator):
    first = await simulator.post("/exchange/messages", json=message())
    again = await simulator.post("/exchange/messages", json=message())
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "accepted" and first.json()["receipt_id"] == again.json()["receipt_id"]
    [held] = (await simulator.get("/received")).json()["items"]
    assert (held["message_id"], held["kind"], held["count"]) == ("m-1", "daily_rollup", 2)


@pytest.mark.parametrize("change,reason", [
    pytest.param(lambda m: m["payload"]["figures"]["totals"].update(paid="1.00"), "signature", id="tampered"),
    pytest.param(lambda m: m.update(key_id="someone-else"), "unknown key", id="unknown-key"),
    pytest.param(lambda m: m["payload"]["figures"]["totals"].update(paid=1.0), "payload", id="amount-as-number"),
    pytest.param(lambda m: m.update(schema_version=9), "unknown schema", id="unknown-version"),
    pytest.param(lambda m: m.pop("signature"), "not a message", id="unsigned"),
])
async def test_a_message_the_schemas_or_the_signature_do_not_admit_is_refused_and_not_held(simulator, change, reason):
    wrong = message()
    change(wrong)
    answer = await simulator.post("/exchange/messages", json=wrong)
    assert answer.status_code == 422 and reason in answer.json()["reason"]
    assert (await simulator.get("/received")).json()["items"] == []


async def test_down_it_answers_503_and_told_to_return_it_returns_the_next_message_only(simulator):
    await simulator.post("/faults", json={"down": True})
    assert (await simulator.post("/exchange/messages", json=message())).status_code == 503
    assert (await simulator.post("/faults", json={"down": False, "return_next": True})).json()["return_next"] is True
    returned = await simulator.post("/exchange/messages", json=message(1))
    assert returned.status_code == 422 and returned.json()["status"] == "returned"
    assert (await simulator.post("/exchange/messages", json=message(2))).status_code == 200
    held = (await simulator.get("/received")).json()["items"]
    assert {m["message_id"]: m["count"] for m in held} == {"m-1": 1, "m-2": 1}
