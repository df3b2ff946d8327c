"""The registries through the gateway: imports with a per-row report, updates as events, payee facts for
alerting, a person's entries only with the PII permission (audited), and no ID number anywhere in clear."""

import asyncio
import hashlib
import json
from uuid import uuid4

import httpx
import pytest

from backbone.pii import mask_id_number
from tests.e2e import db, quiet
from tests.e2e.conftest import indicator_body, payment_body, traced
from tests.e2e.pages import every
from tests.e2e.people import forwarded
from tests.e2e.test_scope_and_privacy import database_mentions
from tests.people import id_number, name
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e
POOR_HEADER = "姓名,身份证号,户编号,区划,乡镇,行政村,贫困状态,年度"


def person(offset: int) -> int:
    """A person number no other test of this run uses (the registries outlive a test)."""
    return offset + PERSON_BASE


PERSON_BASE = int(uuid4().int % 10_000) * 100


def wrong_check_digit(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def poor_file(numbers: list[int], status: str = "未脱贫", extra: list[str] = ()) -> bytes:
    rows = [f"{name(n)},{id_number(n)},H{n},南关区,幸福街道,永兴村,{status},2026" for n in numbers]
    return ("\n".join([POOR_HEADER, *rows, *extra]) + "\n").encode()


def events_of(database_url: str, stream_prefix: str) -> list[dict]:
    return db.rows(database_url, "SELECT stream_id, version, event_type, payload::text AS payload, metadata::text"
                   " AS metadata FROM payments.events WHERE stream_id LIKE $1 ORDER BY position", stream_prefix + "%")



def lookup(payments_url: str, number: str, headers: dict[str, str]) -> httpx.Response:
    """A person's entries by ID number: the number in the body, never in the URL."""
    return httpx.post(f"{payments_url}/registry/persons/lookup", json={"id_number": number}, headers=headers)

def test_an_import_keeps_good_rows_reports_bad_ones_and_the_same_file_twice_is_nothing_new(stack, servers):
    admin = stack.admin_headers()
    good = [person(n) for n in range(5)]
    wrong = wrong_check_digit(id_number(person(9)))
    data = poor_file(good, extra=[f"坏人,{wrong},H9,南关区,,,未脱贫,2026", f"{name(1)},{id_number(person(6))},,火星区,,,未脱贫,2026"])
    with stack.client() as c:
        r = c.post("/registry/poor-population/import", files={"file": ("建档立卡.csv", data, "text/csv")}, headers=admin)
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["rows"], report["accepted"], report["rejected"], report["duplicate"]) == (7, 5, 2, False)
        assert {(e["row"], e["column"]) for e in report["errors"]} == {(7, "身份证号"), (8, "区划")}
        assert wrong not in r.text
        again = c.post("/registry/poor-population/import", files={"file": ("again.csv", data, "text/csv")},
                       headers=admin).json()
        assert again["duplicate"] is True and again["import_id"] == report["import_id"] and again["accepted"] == 5
        stored = c.get(f"/registry/imports/{report['import_id']}", headers=admin).json()
        assert stored["errors"] == report["errors"] and stored["imported_by"] == report["imported_by"]
        # Every fault, a page at a time in the file's order.
        first = c.get(f"/registry/imports/{report['import_id']}/faults", params={"limit": 1}, headers=admin).json()
        rest = c.get(f"/registry/imports/{report['import_id']}/faults", params={"cursor": first["next_cursor"]},
                     headers=admin).json()
        assert [(f["seq"], f["row"], f["column"]) for f in first["items"] + rest["items"]] == [
            (1, 7, "身份证号"), (2, 8, "区划")] and rest["next_cursor"] is None
        # The treasury system may not load registries.
        assert c.post("/registry/poor-population/import", files={"file": ("x.csv", data, "text/csv")},
                      headers=stack.treasury_headers()).status_code == 403
    events = events_of(servers.database_url, f"registry-import-{report['import_id']}")
    assert [e["event_type"] for e in events] == ["registry.PoorPopulationRecorded", "registry.RegistryImportCompleted"]
    assert all(id_number(n) not in e["payload"] for n in good for e in events)
    assert all(id_number(n)[:6] + "********" + id_number(n)[-4:] in events[0]["payload"] for n in good)


def test_a_file_of_wrong_rows_keeps_its_faults_in_a_table_and_payments_after_it_still_flow(stack, servers):
    # The wrong column exported: 16,000 rows whose ID numbers fail the checksum. Carried whole in the
    # completion event, its faults made an event no broker takes, and every payment after it waited behind it.
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    bad = [f"{name(n)},{wrong_check_digit(id_number(person(n)))},H{n},南关区,幸福街道,永兴村,未脱贫,2026"
           for n in range(16_000)]
    with stack.client() as c:
        r = c.post("/registry/poor-population/import", headers=admin,
                   files={"file": ("错列.csv", ("\n".join([POOR_HEADER, *bad]) + "\n").encode(), "text/csv")})
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["rejected"], len(report["errors"])) == (16_000, 100)
        faults = every(c.get, f"/registry/imports/{report['import_id']}/faults", headers=admin)
        assert [f["seq"] for f in faults] == list(range(1, 16_001)) and faults[0]["column"] == "身份证号"
        indicator = c.post("/indicators", json=indicator_body("500.00"), headers=admin).json()["id"]
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{indicator}-after-import", indicator, "120.00")]}).raise_for_status()
        assert poll(lambda: c.get(f"/indicators/{indicator}", headers=admin).json()["balance"]["paid"] == "120.00"), \
            "a payment recorded after the import reaches the ledger"
        bad_cursor = c.get(f"/registry/imports/{report['import_id']}/faults", params={"cursor": "bm90LWpzb24="},
                           headers=admin)
        assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["field"] == "cursor"


def test_payments_carry_what_the_registries_say_about_their_payee(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    poor, employee, stranger, renamed = person(10), person(11), person(12), person(13)
    with stack.client() as c:
        assert c.post("/registry/poor-population/import", headers=admin, files={
            "file": ("poor.csv", poor_file([poor, renamed]), "text/csv")}).json()["accepted"] == 2
        employees = f"姓名,身份证号,工作单位\n{name(employee)},{id_number(employee)},长春市某局\n".encode()
        assert c.post("/registry/public-employees/import", headers=admin, files={
            "file": ("供养.csv", employees, "text/csv")}).json()["accepted"] == 1
        indicator = c.post("/indicators", json=indicator_body("1000.00"), headers=admin).json()["id"]
        tag = uuid4().hex[:8]
        payees = {"poor": (poor, name(poor)), "employee": (employee, name(employee)),
                  "stranger": (stranger, name(stranger)), "renamed": (renamed, "冒名者")}
        batch = [payment_body(f"{tag}-{k}", indicator, "10.00", payee_type="person", payee_name=payee_name,
                              payee_id_number=id_number(n)) for k, (n, payee_name) in payees.items()]
        batch.append(payment_body(f"{tag}-org", indicator, "10.00"))
        assert c.post("/payments/batch", json={"payments": batch}, headers=treasury).json()["accepted"] == 5
    recorded = {e["stream_id"].rsplit("-", 1)[1]: e for e in events_of(servers.database_url, f"payment-{tag}-")}
    facts = {k: json.loads(e["payload"])["payee_registry"] for k, e in recorded.items()}
    assert facts["poor"] == {"poor_status": "not_lifted", "poor_org_unit": "220102", "public_employee": False,
                             "employer": None, "name_matches": True, "registered_name": None}
    assert facts["employee"]["public_employee"] is True and facts["employee"]["employer"] == "长春市某局"
    assert facts["employee"]["poor_status"] is None
    assert facts["stranger"] == {"poor_status": None, "poor_org_unit": None, "public_employee": False,
                                 "employer": None, "name_matches": None, "registered_name": None}
    assert facts["renamed"]["name_matches"] is False and facts["renamed"]["registered_name"] == name(renamed)
    assert facts["org"] is None
    assert all(json.loads(e["payload"])["payee_id_index"] for k, e in recorded.items() if k != "org")


def test_updates_change_and_remove_people_as_events_and_the_same_update_twice_is_one(stack, servers):
    admin = stack.admin_headers()
    a, b, c_, new = person(20), person(21), person(22), person(23)
    with stack.client() as c:
        c.post("/registry/poor-population/import", headers=admin,
               files={"file": ("p.csv", poor_file([a, b, c_]), "text/csv")}).raise_for_status()
        update_id = f"prov-{uuid4().hex[:8]}"
        body = {"update_id": update_id,
                "persons": [{"id_number": id_number(a), "status": "已脱贫"},
                            {"id_number": id_number(new), "name": name(new), "org_unit": "220103",
                             "status": "返贫监测", "year": 2026},
                            {"id_number": id_number(person(24)), "status": "已脱贫"},
                            {"id_number": id_number(b), "status": "小康"}],
                "removals": [{"id_number": id_number(c_), "reason": "自然减员"},
                             {"id_number": id_number(person(25)), "reason": "?"}]}
        r = c.post("/registry/poor-population/updates", json=body, headers=admin)
        assert r.status_code == 200, r.text
        result = r.json()
        assert (result["recorded"], result["removed"], result["duplicate"]) == (2, 1, False)
        assert {e["field"] for rej in result["rejected"] for e in rej["errors"]} == {
            "persons[2].name", "persons[2].org_unit", "persons[2].year", "persons[3].status", "removals[1].id_number"}
        assert c.post("/registry/poor-population/updates", json=body, headers=admin).json()["duplicate"] is True
        changed = dict(body, persons=body["persons"][:1])
        conflict = c.post("/registry/poor-population/updates", json=changed, headers=admin)
        assert conflict.status_code == 409 and conflict.json()["errors"][0]["field"] == "update_id"
        bad = c.post("/registry/poor-population/updates", json={"persons": {}}, headers=admin)
        assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"persons", "update_id"}
        pii = forwarded("tester", ["poverty_office"], pii=True)
        payments_url = f"{stack.processes.url('payments')}/api/v1"
        entries = lookup(payments_url, id_number(a), pii).json()["entries"]
        assert [(e["registry"], e["status"], e["household"]) for e in entries] == [("poor_population", "lifted", f"H{a}")]
        assert lookup(payments_url, id_number(c_), pii).json()["entries"] == []
    events = events_of(servers.database_url, f"registry-update-poor_population-{update_id}")
    assert [e["event_type"] for e in events] == ["registry.PoorPopulationRecorded", "registry.RegistryPersonsRemoved"]
    assert '"status": "monitored"' in events[0]["payload"] and '"reason": "自然减员"' in events[1]["payload"]


def test_a_persons_entries_need_the_pii_permission_and_every_read_is_audited(stack, servers):
    admin = stack.admin_headers()
    p = person(30)
    with stack.client() as c:
        c.post("/registry/poor-population/import", headers=admin,
               files={"file": ("p.csv", poor_file([p]), "text/csv")}).raise_for_status()
        # The bootstrap administrator holds no PII permission.
        assert c.post("/registry/persons/lookup", json={"id_number": id_number(p)}, headers=admin).status_code == 403
    payments_url = f"{stack.processes.url('payments')}/api/v1"
    auditor = f"auditor-{uuid4().hex[:6]}"
    reader = forwarded(auditor, ["supervision"], pii=True)
    trace_id, traced_reader = traced(reader)
    r = lookup(payments_url, id_number(p), traced_reader)
    assert r.status_code == 200 and r.json()["id_masked"] == mask_id_number(id_number(p)) and id_number(p) not in r.text
    assert r.json()["entries"][0]["name"] == name(p)
    other_district = forwarded("tester", ["district"], org_unit="220103", pii=True)
    assert lookup(payments_url, id_number(p), other_district).json()["entries"] == []
    invalid = lookup(payments_url, "123456", reader)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "id_number"
    mine = [json.loads(e["payload"]) for e in events_of(servers.database_url, "pii-read-")
            if json.loads(e["metadata"])["actor"] == auditor]
    assert len(mine) == 1, "one successful read, one audit record"
    assert mine[0]["what"] == "registry_person" and mine[0]["found"] is True
    assert mine[0]["person"]["id_masked"] == id_number(p)[:6] + "********" + id_number(p)[-4:]
    # The number travelled in a request: no trace span and no log line keeps it.
    assert poll(lambda: "POST /api/v1/registry/persons/lookup" in stack.span_names("payments", trace_id))
    telemetry = [*stack.trace_dir.glob("*.jsonl"), *stack.processes.log_dir.glob("*.log")]
    assert telemetry and not [f.name for f in telemetry if id_number(p) in f.read_text(encoding="utf-8")]


def test_no_id_number_of_an_import_and_payment_run_reaches_a_log_line_or_a_table(stack, servers):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    numbers = [person(40 + n) for n in range(30)]
    wrong = id_number(person(99))[:-1] + ("1" if id_number(person(99))[-1] != "1" else "2")
    with stack.client() as c:
        c.post("/registry/poor-population/import", headers=admin, files={"file": ("p.csv", poor_file(
            numbers, extra=[f"坏人,{wrong},,南关区,,,未脱贫,2026"]), "text/csv")}).raise_for_status()
        c.post("/registry/public-employees/updates", headers=admin, json={"update_id": uuid4().hex, "persons": [
            {"id_number": id_number(numbers[0]), "name": name(numbers[0]), "employer": "某局"}]}).raise_for_status()
        indicator = c.post("/indicators", json=indicator_body("1000.00"), headers=admin).json()["id"]
        tag = uuid4().hex[:8]
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{tag}-{n}", indicator, "1.00", payee_type="person", payee_name=name(n),
                         payee_id_number=id_number(n)) for n in numbers]}).raise_for_status()
        assert poll(lambda: c.get(f"/indicators/{indicator}", headers=admin).json()["balance"]["paid"] == "30.00")
    quiet.settle(servers)
    secrets = [id_number(n) for n in numbers] + [wrong]
    for log in stack.processes.log_dir.glob("*.log"):
        text = log.read_text(encoding="utf-8", errors="replace")
        assert not [s for s in secrets if s in text], f"an ID number is in {log.name}"
    for number in (secrets[0], secrets[-2], wrong):
        assert asyncio.run(database_mentions(servers.database_url, number)) == []


def test_per_person_payments_raise_the_yellow_lights_of_the_registry_rules(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    poor, employee, stranger = person(150), person(151), person(152)
    with stack.client() as c:
        c.post("/registry/poor-population/import", headers=admin,
               files={"file": ("p.csv", poor_file([poor, employee]), "text/csv")}).raise_for_status()
        c.post("/registry/public-employees/updates", headers=admin, json={"update_id": uuid4().hex, "persons": [
            {"id_number": id_number(employee), "name": name(employee), "employer": "某局"}]}).raise_for_status()
        indicator = c.post("/indicators", json=indicator_body("1000.00"), headers=admin).json()["id"]
        tag = uuid4().hex[:8]
        paid = {"poor": (poor, name(poor)), "employee": (employee, name(employee)),
                "stranger": (stranger, name(stranger)), "impostor": (poor, "冒名者")}
        c.post("/payments/batch", headers=treasury, json={"payments": [
            payment_body(f"{tag}-{k}", indicator, "10.00", payee_type="person", payee_name=payee_name,
                         payee_id_number=id_number(n)) for k, (n, payee_name) in paid.items()]}).raise_for_status()

        def raised():
            items = c.get("/alerts", params={"limit": 1000}, headers=admin).json()["items"]
            return {(a["subject"]["id"].removeprefix(f"{tag}-"), a["rule_number"], a["level"]) for a in items
                    if a["subject"]["id"].startswith(tag)}
        # The impostor's payment is also the second for the same purpose to that ID number (DR-003).
        expected = {("stranger", "DR-001", "yellow"), ("employee", "DR-002", "yellow"),
                    ("impostor", "DR-004", "yellow"), ("impostor", "DR-003", "yellow")}
        assert poll(lambda: raised() >= expected, timeout=30), raised()
        assert raised() == expected, "the registered poor person paid under their own name raises nothing"


def test_the_common_headers_of_real_exports_import_and_a_file_failing_as_a_whole_is_a_422_not_remembered(
        stack, servers):
    admin = stack.admin_headers()
    numbers = [person(n) for n in range(20, 23)]
    rows = [f"{id_number(n)},{name(n)},南关区,2201020{n},脱贫不稳定户,2025" for n in numbers]
    real = ("\n".join(["公民身份号码,成员姓名,县（市、区）,户码,脱贫属性,识别年份", *rows]) + "\n").encode()
    no_status = ("\n".join(["证件号码,姓名,区划,户编号,年度", *(r.rsplit(",", 2)[0] + ",2025" for r in rows)])
                 + "\n").encode()
    with stack.client() as c:
        # A required column missing: a 422 naming it, twice (not remembered), and nothing recorded.
        for _ in range(2):
            r = c.post("/registry/poor-population/import", headers=admin,
                       files={"file": ("建档立卡.csv", no_status, "text/csv")})
            assert r.status_code == 422, r.text
            assert [(e["field"], e["column"]) for e in r.json()["errors"]] == [("file", "贫困状态")]
            assert "贫困状态" in r.json()["detail"] and "贫困户状态" in r.json()["errors"][0]["message"]
        digest = hashlib.sha256(no_status).hexdigest()[:32]
        assert events_of(servers.database_url, f"registry-import-poor_population-{digest}") == []
        # An unreadable file: the same, naming the file.
        r = c.post("/registry/poor-population/import", headers=admin,
                   files={"file": ("建档立卡.xlsx", b"PK\x03\x04 broken", "application/octet-stream")})
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["file"], r.text
        # The headers of a real export are read, the household kinds too.
        r = c.post("/registry/poor-population/import", headers=admin, files={"file": ("导出.csv", real, "text/csv")})
        assert r.status_code == 200, r.text
        assert (r.json()["accepted"], r.json()["rejected"], r.json()["duplicate"]) == (3, 0, False)
        again = c.post("/registry/poor-population/import", headers=admin, files={"file": ("导出.csv", real)}).json()
        assert again["duplicate"] is True and again["accepted"] == 3
    events = events_of(servers.database_url, f"registry-import-{r.json()['import_id']}")
    persons = json.loads(events[0]["payload"])["persons"]
    assert {(p["status"], p["org_unit"], p["year"]) for p in persons} == {("monitored", "220102", 2025)}
