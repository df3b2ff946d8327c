"""A batch's payments are stored from one dump of each record (`PaymentIn.event_payload`), without building and
validating a `PaymentRecorded` per record: the stored form must be exactly the validated event's."""

import pytest

from backbone.pii import PersonalData, mask_id_number
from contracts.payments import PaymentRecorded
from services.payments.domain import check_batch, registry_facts, sort_batch

KEY = b"test-digest-key"
PERSONAL = PersonalData(keys={"k1": b"k" * 32}, current="k1", index_key=b"test-index-key")
PERSON_ID = "11010519491231002X"
ENTRIES = [{"registry": "poor_population", "status": "not_lifted", "org_unit": "220102", "name": "张 三"},
           {"registry": "public_employees", "employer": "某局", "name": "张三"}]


def record(**overrides):
    return {"payment_id": "P-1", "indicator_id": "ind-1", "payer_name": "南关区农业农村局", "payer_account": "0710-001",
            "amount": "600.50", "paid_at": "2026-03-01T10:00:00+08:00", "purpose": "产业补助",
            "settlement_method": "transfer", "payment_method": "direct", "payee_name": "某合作社",
            "payee_account": "6222 0000 1111 2222", "payee_type": "organization"} | overrides


def validated_event(payment, registry):
    """The event as the model builds it, field by field (the way intake built it before)."""
    number = payment.payee_id_number
    return PaymentRecorded(**payment.model_dump(exclude={"payee_id_number"}),
                           payee_id_masked=mask_id_number(number) if number else None,
                           payee_id_index=PERSONAL.blind_index(number) if number else None,
                           payee_registry=registry_facts(payment.payee_name, registry or []) if number else None,
                           content_hash=payment.content_hash(KEY))


@pytest.mark.parametrize("overrides,registry", [
    pytest.param({}, None, id="organisation"),
    pytest.param({"payee_credit_code": "91110000600037341L", "org_unit": "220102", "indicator_id": None}, None,
                 id="organisation-with-credit-code"),
    pytest.param({"payee_type": "person", "payee_id_number": PERSON_ID, "payee_name": "张三"}, ENTRIES,
                 id="person-on-registries"),
    pytest.param({"payee_type": "person", "payee_id_number": PERSON_ID.lower(), "payee_name": "李四"}, [],
                 id="person-on-no-registry"),
])
def test_the_stored_payload_is_the_validated_events_json(overrides, registry):
    [payment] = sort_batch([record(**overrides)]).to_record
    payload = payment.event_payload(KEY, PERSONAL, registry)
    assert payload == validated_event(payment, registry).model_dump(mode="json")
    assert payload["content_hash"] == payment.content_hash(KEY)
    assert PERSON_ID not in str(payload)


def test_a_batch_validated_at_once_reports_each_bad_record_as_validating_it_alone_would():
    records = [record(payment_id=f"P-{i}") for i in range(6)]
    records[1] = record(payment_id="P-1", amount="-1", payee_account="abc")
    records[3] = "not a record"
    records[4] = record(payment_id="P-4", payee_type="person")
    checked = check_batch(records)
    assert [index for index, _ in checked.valid] == [0, 2, 5]
    alone = [check_batch([r]) for r in records]
    assert [r.errors for r in checked.rejected] == [
        [{**e, "field": e["field"].replace("payments[0]", f"payments[{i}]")} for e in alone[i].rejected[0].errors]
        for i in (1, 3, 4)]
    assert [(r.index, r.payment_id) for r in checked.rejected] == [(1, "P-1"), (3, None), (4, "P-4")]
