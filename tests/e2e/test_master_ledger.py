"""The master ledger (总台账): rows and totals, as of a past instant, fund flow, scope."""

from datetime import timedelta
from uuid import uuid4

import httpx
import pytest

from backbone.clock import clock
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.test_scope_and_privacy import as_district
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e


def ledger(c, headers, **params) -> dict:
    r = c.get("/ledger", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def build_tree(c, admin, treasury, project: str) -> tuple[str, str, str]:
    """A city indicator of 1000.00, 600.00 to 南关区 and 300.00 to 宽城区, 250.00 paid in 南关区."""
    root = c.post("/indicators", headers=admin, json=indicator_body(
        "1000.00", org_unit="220100", budget_project=project)).json()["id"]
    children = c.post(f"/indicators/{root}/allocations", headers=admin, json={"allocations": [
        {"amount": "600.00", "org_unit": "220102", "owner_division": "agriculture"},
        {"amount": "300.00", "org_unit": "220103", "owner_division": "agriculture"}]}).json()["children"]
    nanguan, kuancheng = children[0]["id"], children[1]["id"]
    c.post("/payments/batch", headers=treasury, json={"payments": [
        payment_body(f"{uuid4().hex[:8]}-1", nanguan, "250.00")]})
    assert poll(lambda: c.get(f"/indicators/{nanguan}", headers=admin).json()["balance"]["paid"] == "250.00")
    return root, nanguan, kuancheng


def test_rows_and_totals_count_each_yuan_once(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    project = f"ledger-{uuid4().hex[:6]}"
    with stack.client() as c:
        root, nanguan, _ = build_tree(c, admin, treasury, project)
        page = ledger(c, admin, budget_project=project, sort="-amount")
        assert [(i["id"], i["amount"], i["allocated"], i["paid"], i["available"]) for i in page["items"]] == [
            (root, "1000.00", "900.00", "0.00", "100.00"), (nanguan, "600.00", "0.00", "250.00", "350.00"),
            (page["items"][2]["id"], "300.00", "0.00", "0.00", "300.00")]
        assert page["items"][1]["payment_progress"] == "0.4167"
        assert page["totals"] == {"indicators": 3, "received": "1000.00", "allocated_out": "0.00", "paid": "250.00",
                                  "refunded": "0.00", "available": "750.00"}
        # One district's view: what it received from the city, and nothing of its neighbour.
        district = ledger(c, admin, budget_project=project, org_unit="220102")
        assert district["totals"]["received"] == "600.00" and district["totals"]["available"] == "350.00"
        # Rolled up by org unit: each unit counts what it received, once.
        groups = ledger(c, admin, budget_project=project, group_by="org_unit")["groups"]
        assert [(g["key"], g["totals"]["received"], g["totals"]["allocated_out"], g["totals"]["available"])
                for g in groups] == [("220100", "1000.00", "900.00", "100.00"), ("220102", "600.00", "0.00", "350.00"),
                                     ("220103", "300.00", "0.00", "300.00")]
        # Pages follow a cursor without gaps or repeats.
        first = ledger(c, admin, budget_project=project, sort="-amount", limit=2)
        rest = ledger(c, admin, budget_project=project, sort="-amount", limit=2, cursor=first["next_cursor"])
        assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in page["items"]]
        assert rest["next_cursor"] is None


def test_as_of_a_past_instant_equals_the_ledger_captured_then_and_replay_equals_live(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    project = f"asof-{uuid4().hex[:6]}"
    with stack.client() as c:
        root, nanguan, _ = build_tree(c, admin, treasury, project)
        captured = ledger(c, admin, budget_project=project, sort="doc_no")
        # Every later change is made after this instant, on the same shifted clock: it is recorded after it.
        instant = clock().local_now()
        # Later changes: a withdrawal, a correction and another payment.
        c.post(f"/indicators/{nanguan}/withdrawals", headers=admin, json={"amount": "100.00", "reason": "收回"})
        fixed = c.post(f"/indicators/{nanguan}/corrections", headers=admin, json={
            "changes": {"function_code": "2130505", "doc_no": "长财农指〔2026〕13号"}, "reason": "科目和文号录入错误"})
        assert fixed.status_code == 200 and fixed.json()["function_code"] == "2130505"
        wrong = c.post(f"/indicators/{nanguan}/corrections", headers=admin,
                       json={"changes": {"amount": "1.00"}, "reason": "改金额"})
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.changes.amount"
        emptied = c.post(f"/indicators/{nanguan}/corrections", headers=admin,
                         json={"changes": {"doc_no": None}, "reason": "清空文号"})
        assert emptied.status_code == 422 and emptied.json()["errors"][0]["field"] == "changes.doc_no"
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{uuid4().hex[:8]}-2", nanguan, "50.00")]})
        assert poll(lambda: c.get(f"/indicators/{nanguan}", headers=admin).json()["balance"]["paid"] == "300.00")
        then = ledger(c, admin, budget_project=project, sort="doc_no", as_of=instant.isoformat())
        assert then["items"] == captured["items"] and then["totals"] == captured["totals"]
        # Replaying every event up to now rebuilds exactly the live ledger.
        now = ledger(c, admin, budget_project=project, sort="doc_no")
        replayed = ledger(c, admin, budget_project=project, sort="doc_no",
                          as_of=(clock().local_now() + timedelta(seconds=1)).isoformat())
        assert replayed["items"] == now["items"] and now["totals"]["available"] == "700.00"
        # Narrowed to one unit and year, the city indicator still counts what it gave its children.
        city = {"budget_project": project, "org_unit": "220100", "fiscal_year": 2026}
        assert ledger(c, admin, **city, as_of=clock().local_now().isoformat())["items"] \
            == ledger(c, admin, **city)["items"]
        yesterday = (clock().local_now() - timedelta(days=1)).date().isoformat()
        assert ledger(c, admin, budget_project=project, as_of=yesterday)["items"] == []
        bad = c.get("/ledger", params={"as_of": "31/03/2026"}, headers=admin)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "as_of"


def test_fund_flow_and_district_scope(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    project = f"flow-{uuid4().hex[:6]}"
    with stack.client() as c:
        root, nanguan, kuancheng = build_tree(c, admin, treasury, project)
        tree = c.get(f"/indicators/{root}/flow", headers=admin).json()
        assert (tree["amount"], tree["allocated"]) == ("1000.00", "900.00")
        by_unit = {n["org_unit"]: n for n in tree["children"]}
        assert by_unit["220102"]["paid"] == "250.00" and len(by_unit["220102"]["payments"]) == 1
        assert by_unit["220103"]["payments"] == []
    # 南关区 sees its indicator and the city indicator it came from, never 宽城区's.
    ledger_url = f"{stack.gateway}/api/v1"
    mine = httpx.get(f"{ledger_url}/ledger", params={"budget_project": project}, headers=as_district("220102")).json()
    assert {i["id"]: i["context_only"] for i in mine["items"]} == {root: True, nanguan: False}
    # The city's money is shown for context, not counted as the district's.
    assert (mine["totals"]["received"], mine["totals"]["available"]) == ("600.00", "350.00")
    # Rebuilt from events, the district's view is the same rows and totals.
    rebuilt = httpx.get(f"{ledger_url}/ledger", headers=as_district("220102"), params={
        "budget_project": project, "as_of": clock().local_now().isoformat()}).json()
    assert (rebuilt["items"], rebuilt["totals"]) == (mine["items"], mine["totals"])
    # A district allocates only within itself.
    r = httpx.post(f"{ledger_url}/indicators/{nanguan}/allocations", headers=as_district("220102"), json={
        "allocations": [{"amount": "10.00", "org_unit": "220103", "owner_division": "agriculture"}]})
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "allocations[0].org_unit"
    bad = httpx.get(f"{ledger_url}/ledger", params={"sort": "amount", "cursor": "WyJhYmMiLCJ4Il0="},
                    headers=as_district("220102"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    assert httpx.get(f"{ledger_url}/indicators/{root}", headers=as_district("220102")).status_code == 200
    assert httpx.get(f"{ledger_url}/indicators/{kuancheng}", headers=as_district("220102")).status_code == 404
    assert httpx.get(f"{ledger_url}/indicators/{root}/flow", headers=as_district("220102")).status_code == 404


def every_page(c, headers, **params) -> tuple[list[dict], dict]:
    """Every row, one page at a time, and the totals and groups the first page gave."""
    first = page = ledger(c, headers, limit=1, **params)
    items = list(page["items"])
    while page["next_cursor"]:
        page = ledger(c, headers, limit=1, cursor=page["next_cursor"], **params)
        items += page["items"]
    return items, {"totals": first["totals"], "groups": first["groups"]}


def test_the_live_ledger_sorted_and_paged_in_sql_equals_the_ledger_replayed_from_events(stack):
    """The live ledger is sorted, paged and totalled by PostgreSQL; the past one is folded from events in Python:
    asked for now, both give the same rows in the same order, the same totals and the same groups."""
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    project = f"sql-{uuid4().hex[:6]}"
    with stack.client() as c:
        build_tree(c, admin, treasury, project)
        c.post("/indicators", headers=admin, json=indicator_body("1000.00", org_unit="220102", budget_project=project,
                                                                 doc_no="吉财农〔2026〕2号"))
        district = as_district("220102")
        for sort in ("registered_at", "-registered_at", "amount", "-amount", "available", "-available", "doc_no",
                     "-doc_no"):
            live, live_totals = every_page(c, admin, budget_project=project, sort=sort, group_by="org_unit")
            replayed, replayed_totals = every_page(c, admin, budget_project=project, sort=sort, group_by="org_unit",
                                                   as_of=(clock().local_now() + timedelta(seconds=1)).isoformat())
            assert len(live) == 4 and live == replayed and live_totals == replayed_totals, sort
            # A district sees its own rows and the parent they came from, which counts in no total of its own.
            mine, mine_totals = every_page(c, district, budget_project=project, sort=sort)
            assert {i["org_unit"] for i in mine} == {"220100", "220102"}
            assert [i["context_only"] for i in mine if i["org_unit"] == "220100"] == [True]
            assert mine_totals["totals"]["received"] == "1600.00"
