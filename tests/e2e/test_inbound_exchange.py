"""Messages from the province (数据交换, inbound) end to end, pushed by the simulator through the gateway: issued
indicators reconciled with the ledger (第二十六条(一): a bell before the 5th working day, a yellow light after it,
cleared by a registration of the issued amount, both amounts named for another), one message taken once, forged
or malformed ones refused with the reason, a permission answer reaching its application, a rule level (第二十条)
reaching its rule, and a forwarded 附件3 reaching the province once."""

import asyncio
from uuid import uuid4

import httpx
import pytest

from backbone.clock import clock
from backbone.workdays import default_calendar
from services.sync.exchange.issued import issue_id_for
from tests.e2e import clocks, db
from tests.e2e.conftest import indicator_body
from tests.e2e.test_permission_applications import APPLICATIONS, form, reviewer
from tests.e2e.pages import every
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
NOT_REGISTERED, AMOUNT_DIFFERS = "indicator.issued_not_registered", "indicator.registered_amount_differs"


@pytest.fixture
def province(stack):
    with httpx.Client(base_url=stack.province, timeout=30) as client:
        yield client


def push(province, kind: str, payload: dict, **more) -> dict:
    r = province.post("/push", json={"kind": kind, "payload": {"schema_version": 1, **payload}, **more})
    assert r.status_code == 200, r.text
    return r.json()


def issued(doc_no: str, amount: str, working_days_ago: int) -> dict:
    day = default_calendar().sub_workdays(clock().today(), working_days_ago)
    return {"indicators": [{"doc_no": doc_no, "fund_name": "中央财政衔接推进乡村振兴补助资金", "amount": amount,
                            "issued_on": day.isoformat(), "level": "central", "fiscal_year": clock().today().year}]}


def alert(stack, admin, rule: str, doc_no: str) -> dict | None:
    return clocks.alert_of(f"{stack.gateway}/api/v1", admin, rule, issue_id_for(doc_no))


def register(stack, admin, doc_no: str, amount: str) -> str:
    with stack.client() as c:
        r = c.post("/indicators", headers=admin, json=indicator_body(
            amount, doc_no=doc_no, org_unit="220100", fiscal_year=clock().today().year))
        assert r.status_code == 201, r.text
        return r.json()["id"]


def test_an_issued_indicator_nobody_registers_rings_then_turns_yellow(stack, servers, province):
    admin = stack.admin_headers()
    doc_no = f"吉财农指〔2026〕{uuid4().hex[:6]}号"
    answer = push(province, "indicators_issued", issued(doc_no, "300000.00", 4))
    assert answer["status_code"] == 200 and answer["answer"]["status"] == "accepted", answer
    bell = poll(lambda: alert(stack, admin, NOT_REGISTERED, doc_no))
    assert bell and (bell["level"], bell["status"]) == ("yellow_bell", "open")
    assert doc_no in bell["explanation"]["summary"] and bell["owner_division"] == "budget"
    # The fifth working day passes.
    assert asyncio.run(clocks.move(servers.database_url, "due_at", issue_id_for(doc_no), NOT_REGISTERED)) == 1
    light = poll(lambda: (a := alert(stack, admin, NOT_REGISTERED, doc_no)) and a["level"] == "yellow" and a)
    assert light and light["status"] == "open"


def test_a_registration_of_the_issued_amount_clears_the_bell_and_another_amount_names_both(stack, province):
    admin = stack.admin_headers()
    right, wrong = (f"吉财农指〔2026〕{uuid4().hex[:6]}号" for _ in range(2))
    push(province, "indicators_issued", issued(right, "300000.00", 4) | {
        "indicators": issued(right, "300000.00", 4)["indicators"] + issued(wrong, "800000.00", 4)["indicators"]})
    assert poll(lambda: alert(stack, admin, NOT_REGISTERED, right) and alert(stack, admin, NOT_REGISTERED, wrong))
    register(stack, admin, right, "300000.00")
    cleared = poll(lambda: (a := alert(stack, admin, NOT_REGISTERED, right)) and a["status"] == "cleared" and a)
    assert cleared and alert(stack, admin, AMOUNT_DIFFERS, right) is None
    register(stack, admin, wrong, "80000.00")
    differs = poll(lambda: alert(stack, admin, AMOUNT_DIFFERS, wrong))
    assert differs and differs["level"] == "yellow"
    assert "800000.00" in differs["explanation"]["summary"] and "80000.00" in differs["explanation"]["summary"]
    # Registered with another amount, the document is not registered as issued: its bell keeps ringing.
    assert alert(stack, admin, NOT_REGISTERED, wrong)["status"] == "open"


def test_the_same_message_twice_is_taken_once_and_forged_or_malformed_ones_are_refused(stack, servers, province):
    admin = stack.admin_headers()
    doc_no = f"吉财农指〔2026〕{uuid4().hex[:6]}号"
    first = push(province, "indicators_issued", issued(doc_no, "1000.00", 0))
    again = push(province, "indicators_issued", issued(doc_no, "1000.00", 0), message_id=first["message_id"])
    assert again["answer"] == first["answer"] and again["status_code"] == 200
    other = push(province, "indicators_issued", issued(doc_no, "2000.00", 0), message_id=first["message_id"])
    assert other["status_code"] == 409, other
    forged = push(province, "indicators_issued", issued(doc_no, "1000.00", 0), tamper=True)
    assert forged["status_code"] == 422, forged
    assert [e["field"] for e in forged["answer"]["errors"]] == ["signature"], forged
    bad = push(province, "indicators_issued", {"indicators": [{"doc_no": doc_no, "amount": 1000}]})
    assert bad["status_code"] == 422
    assert any(e["field"].startswith("payload.indicators.0") for e in bad["answer"]["errors"]), bad
    # Only the province's key reaches the endpoint at all.
    with stack.client() as c:
        assert c.post("/exchange/inbound", json={}, headers=admin).status_code == 403
        # The information center sees the message once, as it came, with the receipt the city gave.
        kept = [m for m in every(c.get, "/exchange/inbound", headers=admin, params={"kind": "indicators_issued"})
                if m["message_id"] == first["message_id"]]
        assert len(kept) == 1 and kept[0]["payload"]["indicators"][0]["doc_no"] == doc_no
        assert kept[0]["receipt"] == first["answer"]
    # One issued indicator, named once in sync's event store.
    assert asyncio.run(db.fetch(servers.database_url, "SELECT event_id FROM sync.events WHERE stream_id = $1",
                                f"issued-indicator-{issue_id_for(doc_no)}")).__len__() == 1


def test_a_forwarded_application_reaches_the_province_once_and_its_answer_comes_back(stack, province):
    admin = stack.admin_headers()
    username = f"inbound-{uuid4().hex[:6]}"
    with stack.client() as c:
        r = c.post(APPLICATIONS, json=form(username, 31), headers=admin)
        assert r.status_code == 201, r.text
        application_id = r.json()["application_id"]
        assert c.post(f"{APPLICATIONS}/{application_id}/review", json={"decision": "accepted"},
                      headers=reviewer()).status_code == 200
    held = poll(lambda: next((m for m in province.get("/received").json()["items"]
                              if m["kind"] == "permission_application"
                              and m["payload"]["application_id"] == application_id), None))
    assert held and held["count"] == 1 and "*" in held["payload"]["form"]["id_masked"]
    answer = push(province, "permission_answer", {"application_id": application_id, "decision": "approved",
                                                  "remarks": "同意"})
    assert answer["status_code"] == 200, answer
    with stack.client() as c:
        done = poll(lambda: (a := c.get(f"{APPLICATIONS}/{application_id}", headers=admin).json())
                    and a["status"] == "approved" and a)
    assert done
    unknown = push(province, "permission_answer", {"application_id": "nobody", "decision": "approved"})
    assert unknown["status_code"] == 422 and unknown["answer"]["errors"][0]["field"] == "payload.application_id"


def test_a_rule_level_from_the_province_reaches_the_rule_and_its_history(stack, province):
    # Next year's levels: the stack is shared, and this year's alerts of other tests keep their rules' levels.
    admin = stack.admin_headers()
    year = clock().today().year + 1
    answer = push(province, "rule_levels", {"levels": [
        {"number": "ZB-006", "level": "red", "fiscal_year": year, "authority": "province",
         "document": "吉财监〔2026〕3号"},
        # A national rule's level is the Ministry's (第二十条): the province's word on one is left.
        {"number": "ZC-006", "level": "red", "fiscal_year": year, "authority": "province"}]})
    assert answer["status_code"] == 200, answer

    def rule(number: str, fiscal_year: int) -> dict:
        with stack.client() as c:
            items = c.get("/rules", params={"limit": 1000, "fiscal_year": fiscal_year}, headers=admin).json()["items"]
        return next(r for r in items if r["rule"]["number"] == number)
    found = poll(lambda: (r := rule("ZB-006", year))["level_history"] and r)
    assert found and found["rule"]["level"] == "red" and found["source"] == "starter"
    assert [(h["level_before"], h["level"], h["authority"]) for h in found["level_history"]] == [
        ("yellow", "red", "province")]
    assert rule("ZB-006", year - 1)["rule"]["level"] == "yellow", "a level holds from its fiscal year on"
    national = rule("ZC-006", year)
    assert national["rule"]["level"] == "yellow" and national["level_history"] == []


def test_a_receipt_message_returns_a_message_the_province_acknowledged_and_the_same_word_again_changes_nothing(
        stack, province):
    admin = stack.admin_headers()
    with stack.client() as c:
        r = c.post(APPLICATIONS, json=form(f"inbound-{uuid4().hex[:6]}", 32), headers=admin)
        application_id = r.json()["application_id"]
        assert c.post(f"{APPLICATIONS}/{application_id}/review", json={"decision": "accepted"},
                      headers=reviewer()).status_code == 200

        def ours(status: str) -> dict | None:
            items = c.get("/exchange/messages", params={"kind": "permission_application", "limit": 1000},
                          headers=admin).json()["items"]
            return next((m for m in items if m["subject"] == application_id and m["status"] == status), None)
        sent = poll(lambda: ours("acknowledged"))
        assert sent
        for _ in range(2):
            answer = province.post("/receipts", json={"message_id": sent["message_id"], "status": "returned",
                                                      "reason": "身份证号与纸质申请表不一致"}).json()
            assert answer["status_code"] == 200, answer
        returned = ours("refused")
        assert returned and "身份证号与纸质申请表不一致" in returned["last_error"]
        assert returned["receipt"]["status"] == "returned"
    assert province.post("/receipts", json={"message_id": str(uuid4())}).status_code == 404


def test_a_registration_whose_document_number_is_corrected_to_the_issued_one_clears_the_bell(stack, province):
    admin = stack.admin_headers()
    doc_no = f"吉财农指〔2026〕{uuid4().hex[:6]}号"
    push(province, "indicators_issued", issued(doc_no, "300000.00", 4))
    assert poll(lambda: alert(stack, admin, NOT_REGISTERED, doc_no))
    # Typed wrong at registration, then corrected (第二十六条: 谁采集，谁负责).
    indicator = register(stack, admin, doc_no.replace("〔2026〕", "〔2062〕"), "300000.00")
    with stack.client() as c:
        fixed = c.post(f"/indicators/{indicator}/corrections", headers=admin,
                       json={"changes": {"doc_no": doc_no}, "reason": "文号录入错误"})
        assert fixed.status_code == 200, fixed.text
    cleared = poll(lambda: (a := alert(stack, admin, NOT_REGISTERED, doc_no)) and a["status"] == "cleared" and a)
    assert cleared
