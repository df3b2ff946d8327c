"""People to reach (第十八条, 第二十一条): the liaison register, and the e-mails and SMS a red light, an overdue step
and the day's yellow bells send, through the tests' SMTP server and the SMS gateway's stand-in."""

import asyncio
from uuid import uuid4

import httpx
import pytest

from backbone.clock import clock
from tests.e2e import clocks, db
from tests.e2e.conftest import indicator_body
from tests.e2e.people import signed_in
from tests.e2e.test_alert_handling import OWNER, cash_alert
from tests.e2e.test_alerting_duplicates import redeliver
from tests.e2e.test_audit_trail import trail
from tests.support.waiting import poll

pytestmark = pytest.mark.e2e

GOALS_MISSING, NOT_HANDLED = "performance.goals_missing", "workflow.alert_not_handled"
CONFIRM = {"action": "confirm_violation", "method": "调阅材料", "findings": "现金发放补助，未通过一卡通",
           "violation_type": "其他", "rectification": "改为转账发放"}


def person(name: str, post: str, phone: str, email: str | None) -> dict:
    return {"name": name, "post": post, "phone": phone, "email": email}


def register(c: httpx.Client, unit: str, headers: dict[str, str], tag: str, phone: str) -> dict:
    """Name a unit's leader and contact with addresses of this test's own; the contact's row."""
    body = {"leader": person("刘局长", "副局长", "0431-88880000", f"leader-{tag}@{unit}.example"),
            "contact": person("王联络", "科员", phone, f"contact-{tag}@{unit}.example")}
    r = c.put(f"/liaisons/{unit}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def sms_to(stack, phone: str) -> list[dict]:
    return [m for m in httpx.get(f"{stack.processes.url('sms')}/messages").json()["items"] if m["to"] == phone]


def deliveries(c: httpx.Client, headers: dict[str, str], subject: str) -> list[dict]:
    r = c.get("/notifications/deliveries", params={"subject": subject, "limit": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_the_register_is_kept_by_each_district_and_the_treasury_with_every_change_audited(stack, servers):
    tag = uuid4().hex[:6]
    nanguan = signed_in("南关区财政局-赵", ["district"], org_unit="220102")
    kuancheng = signed_in("宽城区财政局-钱", ["district"], org_unit="220103")
    treasury = signed_in("国库处-陈", ["treasury"])
    admin = stack.admin_headers()
    with stack.client() as c:
        # The district names its own people (第十八条): an event, and the row as the register shows it.
        row = register(c, "220102", nanguan, tag, "13900000001")
        assert (row["unit_name"], row["unit_kind"], row["set_by"]) == ("南关区", "district", "南关区财政局-赵")
        assert c.get("/liaisons/220102", headers=kuancheng).json()["contact"]["email"] == f"contact-{tag}@220102.example"
        # The same people again change nothing: no new version, no new event.
        again = register(c, "220102", nanguan, tag, "13900000001")
        assert again["version"] == row["version"]
        events = db.rows(servers.database_url, "SELECT count(*) AS n FROM alerting.events WHERE stream_id = 'liaisons-220102'")
        assert events[0]["n"] == row["version"]
        # Another district may not; the treasury may set any row.
        refused = c.put("/liaisons/220102", headers=kuancheng, json={
            "leader": person("x", "x", "13900000002", None), "contact": person("x", "x", "13900000002", None)})
        assert refused.status_code == 403
        changed = register(c, "220102", treasury, tag + "b", "13900000003")
        assert changed["version"] == row["version"] + 1 and changed["set_by"] == "国库处-陈"
        # Bad input names the field; an unknown unit is a 404.
        bad = c.put("/liaisons/220102", headers=nanguan, json={
            "leader": person("刘", "副局长", "not a phone", None), "contact": person("王", "科员", "13900000001", None)})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.leader.phone"
        assert c.put("/liaisons/999999", headers=treasury, json={
            "leader": person("刘", "副局长", "13900000001", None),
            "contact": person("王", "科员", "13900000001", None)}).status_code == 404
        assert c.get("/liaisons/220199", headers=nanguan).status_code == 404
        listed = c.get("/liaisons", params={"kind": "district"}, headers=nanguan).json()["items"]
        assert any(i["unit"] == "220102" for i in listed) and all(i["unit_kind"] == "district" for i in listed)
        # Every change is in the audit trail, refused ones too.
        # The trail is written behind the answer: wait for it.
        assert poll(lambda: {w["actor"] for w in trail(c, admin, action="PUT /api/v1/liaisons/{unit}",
                                                       target="/api/v1/liaisons/220102")}
                    >= {"南关区财政局-赵", "宽城区财政局-钱", "国库处-陈"})


def test_a_red_light_reaches_the_owning_division_once_by_mail_and_sms_however_often_it_is_delivered(stack, servers):
    tag = uuid4().hex[:6]
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    alerting = f"{stack.processes.url('alerting')}/api/v1"
    with stack.client() as c:
        contact = register(c, "agriculture", admin, tag, "13911110000")["contact"]
        # The mail server is busy for the division's first attempt: it is tried again, and the error recorded.
        stack.mailbox.fail_next(contact["email"], 1)
        alert_id = cash_alert(c, admin, treasury)
        assert httpx.post(f"{alerting}/alerts/{alert_id}/dispositions", json=CONFIRM, headers=OWNER).status_code == 201

        def sent() -> list[dict]:
            mine = [d for d in deliveries(c, admin, alert_id) if d["recipient"] in (contact["email"], contact["phone"])]
            return mine if len(mine) == 2 and all(d["status"] == "sent" for d in mine) else []
        done = poll(sent, timeout=30)
        assert done, deliveries(c, admin, alert_id)
        by_channel = {d["channel"]: d for d in done}
        assert by_channel["email"]["attempts"] == 2 and "451" in by_channel["email"]["last_error"]
        assert by_channel["sms"]["attempts"] == 1 and by_channel["sms"]["kind"] == "red_light"
        mails, texts = stack.mailbox.to(contact["email"]), sms_to(stack, contact["phone"])
        assert [m for m in mails if alert_id in m["subject"]] and len([m for m in mails if alert_id in m["subject"]]) == 1
        assert len([t for t in texts if alert_id in t["text"]]) == 1
        # Alerting's events of the alert delivered again: nothing new is planned or sent.
        assert asyncio.run(redeliver(servers.database_url, servers.kafka_bootstrap, [f"alert-{alert_id}"],
                                          ("alerting",))) >= 2
        # A later event on the same partition has been consumed once its own alert is there.
        later = cash_alert(c, admin, treasury)
        assert poll(lambda: db.rows(servers.database_url,
                                    "SELECT 1 FROM alerting.processed_events p JOIN alerting.events e"
                                    " ON e.event_id = p.event_id WHERE p.consumer = 'alerting-notifications'"
                                    " AND e.stream_id = $1", f"alert-{later}"))
        assert len([d for d in deliveries(c, admin, alert_id)
                    if d["recipient"] in (contact["email"], contact["phone"])]) == 2
        assert len([m for m in stack.mailbox.to(contact["email"]) if alert_id in m["subject"]]) == 1
        assert len([t for t in sms_to(stack, contact["phone"]) if alert_id in t["text"]]) == 1
        # Only operators and the treasury read the record of deliveries.
        assert httpx.get(f"{alerting}/notifications/deliveries", headers=OWNER).status_code == 403


def test_an_overdue_step_of_a_district_reaches_its_responsible_leader(stack, servers):
    tag = uuid4().hex[:6]
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    with stack.client() as c:
        leader = register(c, "220102", admin, tag, "13922220000")["leader"]
        alert_id = cash_alert(c, admin, treasury)
        # Three working days at the verification step have passed (LC-001's clock on the alert).
        assert poll(lambda: asyncio.run(clocks.move(servers.database_url, "due_at", alert_id, NOT_HANDLED)) == 1)
        assert poll(lambda: [m for m in stack.mailbox.to(leader["email"]) if "超期" in m["subject"]], timeout=30)
        reminder = poll(lambda: [d for d in c.get("/notifications/deliveries", params={"kind": "overdue", "limit": 1000},
                                                  headers=admin).json()["items"] if d["recipient"] == leader["email"]])
        assert reminder and reminder[0]["role"] == "leader" and reminder[0]["status"] == "sent"
        # The leader's office phone is no mobile: no SMS to it.
        assert not [d for d in c.get("/notifications/deliveries", params={"kind": "overdue", "limit": 1000},
                                     headers=admin).json()["items"] if d["recipient"] == leader["phone"]]


def test_the_day_s_yellow_bells_go_to_the_division_as_one_digest_the_next_morning(stack, servers):
    tag = uuid4().hex[:6]
    admin = stack.admin_headers()
    with stack.client() as c:
        contact = register(c, "education", admin, tag, "13933330000")["contact"]
        indicators = [c.post("/indicators", json=indicator_body("800.00", owner_division="education",
                                                                org_unit="220100"), headers=admin).json()["id"]
                      for _ in range(2)]
        # Two working days before their goals are due, the bells ring (JX-001) ...
        for indicator in indicators:
            assert poll(lambda: asyncio.run(clocks.move(servers.database_url, "bell_at", indicator, GOALS_MISSING)) == 1)
        bells = poll(lambda: (found := db.rows(
            servers.database_url, "SELECT d.alert_id FROM alerting.digest_bells d JOIN alerting.alerts a"
            " ON a.alert_id = d.alert_id WHERE a.subject_id = ANY($1) AND d.office = 'education'", indicators))
            and len(found) == 2 and found)
        assert bells
        bell_ids = sorted(b["alert_id"] for b in bells)
        # ... and nothing is sent the same day.
        assert not [m for m in stack.mailbox.to(contact["email"]) if bell_ids[0] in m["body"]]
        # The day is over (the bells' day moved back, as a deadline test moves its clock's row): one digest.
        yesterday = clock().today().toordinal() - 1
        asyncio.run(db.execute(servers.database_url, "UPDATE alerting.digest_bells SET day = $2 WHERE alert_id = ANY($1)",
                               bell_ids, type(clock().today()).fromordinal(yesterday)))
        digests = poll(lambda: [m for m in stack.mailbox.to(contact["email"]) if bell_ids[0] in m["body"]], timeout=30)
        assert len(digests) == 1 and bell_ids[1] in digests[0]["body"] and "黄色警铃汇总（2 条）" in digests[0]["subject"]
        assert poll(lambda: [t for t in sms_to(stack, contact["phone"]) if bell_ids[0] in t["text"]])
