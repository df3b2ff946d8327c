"""Messages from the province and the reconciliation of issued indicators (第二十六条(一)): the schemas a message
must keep, how an issued document stands against what was registered, and the rules that ring and light for it."""

from datetime import date
from decimal import Decimal

from backbone.workdays import default_calendar
from contracts.province import INBOUND, MessageKind, schema_faults, sign, verify
from backbone.settings import Settings
from services.alerting.deadlines import meets, start
from services.alerting.rule_levels import level_in
from services.alerting.rules import starter_rules
from services.alerting.rules.engine import judge
from services.sync.exchange.issued import issue_id_for, news, outcome_of

RULES = starter_rules()
ISSUED = {"issue_id": issue_id_for("吉财农指〔2026〕7号"), "doc_no": "吉财农指〔2026〕7号", "fund_name": "衔接资金",
          "amount": Decimal("500000.00"), "issued_on": date(2026, 11, 2), "level": "central", "fiscal_year": 2026,
          "org_unit": "220100", "owner_division": "budget", "message_id": "m-1"}


def message(payload: dict, kind: str = "indicators_issued") -> dict:
    return {"message_id": "m-1", "kind": kind, "schema_version": 1, "key_id": "k", "payload": payload,
            "signature": "x"}


def test_an_issued_indicator_keeps_its_schema_and_each_fault_is_named_by_its_path():
    good = {"schema_version": 1, "indicators": [{"doc_no": "吉财农指〔2026〕7号", "fund_name": "衔接资金",
                                                 "amount": "500000.00", "issued_on": "2026-11-02", "level": "central",
                                                 "fiscal_year": 2026}]}
    assert schema_faults(message(good)) == []
    bad = {**good, "indicators": [{**good["indicators"][0], "amount": 500000, "level": "city"}]}
    assert {field for field, _ in schema_faults(message(bad))} == {"payload.indicators.0.amount",
                                                                  "payload.indicators.0.level"}
    assert [f for f, _ in schema_faults({**message(good), "kind": "gossip"})] == ["kind"]
    assert [f for f, _ in schema_faults(message(good, kind="rule_levels"))] != []


def test_the_province_sends_only_its_kinds():
    assert INBOUND == {MessageKind.INDICATORS_ISSUED, MessageKind.RECEIPT, MessageKind.PERMISSION_ANSWER,
                       MessageKind.RULE_LEVELS}


def test_the_development_province_key_pair_signs_and_verifies():
    s = Settings()
    body = {"message_id": "m-1", "kind": "receipt", "schema_version": 1, "key_id": s.province_key_id, "payload": {}}
    signed = body | {"signature": sign(body, s.province_signing_key.get_secret_value())}
    assert verify(signed, s.province_public_key)
    assert not verify(signed | {"payload": {"forged": True}}, s.province_public_key)


def test_a_document_is_reconciled_by_its_amount_and_only_news_is_told():
    assert issue_id_for("吉财农指〔2026〕7号") == issue_id_for("吉财农指〔2026〕7号")
    assert outcome_of(Decimal("500000.00"), Decimal("500000")) == "matched"
    assert outcome_of(Decimal("500000.00"), Decimal("50000.00")) == "mismatched"
    # A first registration is news; the same standing again is not; another wrong sum is a new mismatch.
    assert news("unregistered", None, "matched", Decimal("1"))
    assert not news("matched", Decimal("1"), "matched", Decimal("1"))
    assert news("mismatched", Decimal("2"), "mismatched", Decimal("3"))


def test_an_issued_document_rings_before_its_fifth_working_day_and_only_a_matching_registration_meets_it():
    rule = RULES["indicator.issued_not_registered"]
    [watch] = start(rule, "sync.IndicatorIssued", ISSUED, default_calendar())
    assert watch.subject_id == ISSUED["issue_id"]
    assert watch.due_at.date() == default_calendar().add_workdays(date(2026, 11, 2), 5)
    assert watch.bell_at is not None and watch.bell_at < watch.due_at
    reconciled = {"issue_id": ISSUED["issue_id"], "outcome": "mismatched"}
    assert meets(rule, "sync.IssuedIndicatorReconciled", reconciled) is None
    assert meets(rule, "sync.IssuedIndicatorReconciled", reconciled | {"outcome": "matched"}) == (
        ISSUED["issue_id"], None)


def test_another_amount_registered_is_an_alert_naming_both_amounts():
    issued = {"issue_id": ISSUED["issue_id"], "doc_no": ISSUED["doc_no"], "outcome": "mismatched",
              "indicator_id": "i-1", "issued_amount": Decimal("500000.00"), "registered_amount": Decimal("50000.00"),
              "fiscal_year": 2026, "org_unit": "220100", "owner_division": "agriculture"}
    [found] = judge([RULES["indicator.registered_amount_differs"]], "sync.IssuedIndicatorReconciled",
                    {"issued": issued}, "220100")
    assert "500000.00" in found.summary and "50000.00" in found.summary
    assert (found.subject.kind, found.subject.id, found.subject.indicator_id) == (
        "issued_indicator", ISSUED["issue_id"], "i-1")
    assert judge([RULES["indicator.registered_amount_differs"]], "sync.IssuedIndicatorReconciled",
                 {"issued": issued | {"outcome": "matched"}}, "220100") == []


class Change:
    def __init__(self, fiscal_year: int, level: str, changed_at: int) -> None:
        self.fiscal_year, self.level, self.changed_at = fiscal_year, level, changed_at


def test_a_level_holds_from_its_fiscal_year_on_and_the_last_change_made_wins():
    changes = [Change(2026, "red", 1), Change(2027, "yellow_bell", 2), Change(2026, "yellow", 3)]
    assert level_in(changes, 2025) is None
    assert level_in(changes, 2026).value == "yellow"
    assert level_in(changes, 2028).value == "yellow_bell"
