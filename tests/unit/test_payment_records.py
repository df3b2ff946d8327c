"""Payment records from the treasury: per-record validation, masking, duplicate digests, and a batch sorted into
what to record, repeats, duplicates and conflicts."""

import hashlib
from decimal import Decimal

import orjson
import pytest
from pydantic import ValidationError

from backbone.errors import InvalidInput

from backbone.pii import PersonalData, mask_id_number
from services.payments.domain import (RefundExceedsPayment, RefundIn, batch_records, check_batch, refund,
                                      sort_batch)

# A checksum-valid resident ID number (GB 11643) made up for tests.
PERSON_ID = "11010519491231002X"
KEY = b"test-digest-key"
PERSONAL = PersonalData(keys={"k1": b"k" * 32}, current="k1", index_key=b"test-index-key")


def record(**overrides):
    base = {
        "payment_id": "P-1", "indicator_id": "ind-1", "payer_name": "南关区农业农村局", "payer_account": "0710001",
        "amount": "600.00", "paid_at": "2026-03-01T10:00:00+08:00", "purpose": "产业补助",
        "settlement_method": "transfer", "payment_method": "direct", "payee_name": "某合作社",
        "payee_account": "6222000011112222", "payee_type": "organization",
    }
    return base | overrides


def test_bad_records_are_reported_with_index_and_field_and_the_rest_pass():
    checked = check_batch([record(), record(payment_id="P-2", amount="12.345"), record(payment_id="P-3")])
    assert [i for i, _ in checked.valid] == [0, 2]
    assert len(checked.rejected) == 1
    bad = checked.rejected[0]
    assert (bad.index, bad.payment_id) == (1, "P-2")
    assert [e["field"] for e in bad.errors] == ["payments[1].amount"]


@pytest.mark.parametrize("overrides,field", [
    pytest.param({"amount": "0"}, "payments[0].amount", id="zero-amount"),
    pytest.param({"paid_at": "2026-03-01T10:00:00"}, "payments[0].paid_at", id="naive-time"),
    pytest.param({"settlement_method": "barter"}, "payments[0].settlement_method", id="unknown-settlement"),
    pytest.param({"org_unit": "999999"}, "payments[0].org_unit", id="unknown-org-unit"),
    pytest.param({"payee_type": "person"}, "payments[0]", id="person-without-id-number"),
    pytest.param({"unexpected": 1}, "payments[0].unexpected", id="unknown-field"),
    pytest.param({"payee_account": "6222-abc"}, "payments[0].payee_account", id="account-not-digits"),
    pytest.param({"payer_account": "123"}, "payments[0].payer_account", id="account-too-short"),
    pytest.param({"payee_credit_code": "91110000600037341M"}, "payments[0].payee_credit_code", id="bad-credit-code"),
    pytest.param({"payee_type": "person", "payee_id_number": "110105209912310029"}, "payments[0].payee_id_number",
                 id="born-in-the-future"),
    pytest.param({"payee_type": "person", "payee_id_number": "110105189912310023"}, "payments[0].payee_id_number",
                 id="born-before-1900"),
    pytest.param({"payee_id_number": "11010519491231002X"}, "payments[0]", id="organisation-with-id-number"),
])
def test_each_kind_of_malformed_record_names_its_field(overrides, field):
    checked = check_batch([record(**overrides)])
    assert [e["field"] for e in checked.rejected[0].errors] == [field]


@pytest.mark.parametrize("body", [
    pytest.param([record()], id="a-bare-list"),
    pytest.param({"payments": record()}, id="one-record-not-in-a-list"),
    pytest.param({"records": [record()]}, id="no-payments"),
])
def test_a_batch_is_an_object_with_a_list_of_payments(body):
    with pytest.raises(InvalidInput) as refused:
        batch_records(body, limit=10)
    assert refused.value.extra["errors"] == [{"field": "payments", "message": "a list of payment records is required"}]


def test_a_batch_above_the_limit_is_refused_whole():
    assert batch_records({"payments": [record()] * 3}, limit=3) == [record()] * 3
    with pytest.raises(InvalidInput, match="at most 3 payments per batch") as refused:
        batch_records({"payments": [record()] * 4}, limit=3)
    assert refused.value.extra["errors"][0]["message"] == "4 records, at most 3"


def test_a_batch_records_the_first_of_each_payment_id_and_sets_repeats_and_malformed_records_aside():
    batch = sort_batch([record(), record(payment_id="P-2"), record(), record(amount="600.01"),
                        record(payment_id="P-3", amount="-1")])
    assert [p.payment_id for p in batch.to_record] == ["P-1", "P-2"]
    assert [(i, p.payment_id) for i, p in batch.repeats] == [(2, "P-1"), (3, "P-1")]
    assert [(r.index, r.payment_id) for r in batch.rejected] == [(4, "P-3")]


def test_a_repeat_with_the_content_of_its_first_is_a_duplicate_and_with_other_content_a_conflict():
    batch = sort_batch([record(), record(payment_id="P-2"), record(), record(amount="600.01")])
    duplicates, conflicts = batch.duplicates_and_conflicts([], {}, KEY)
    assert duplicates == 1
    assert [(c.index, c.payment_id, c.errors) for c in conflicts] == [(3, "P-1", [
        {"field": "payments[3].payment_id", "message": "this payment id was already recorded with different content"}])]


def test_a_payment_id_recorded_before_is_judged_against_the_stored_content_not_the_batchs_first():
    batch = sort_batch([record(), record(payment_id="P-2"), record(), record(amount="600.01")])
    stored = {"P-1": sort_batch([record(amount="600.01")]).to_record[0].content_hash(KEY),
              "P-2": batch.to_record[1].content_hash(KEY)}
    duplicates, conflicts = batch.duplicates_and_conflicts(["P-1", "P-2"], stored, KEY)
    # P-1 as first sent (index 0) and again (2) differ from what is stored; P-2 and the changed P-1 (3) match it.
    assert duplicates == 2
    assert [c.index for c in conflicts] == [0, 2]


def test_an_invalid_id_number_is_refused_without_repeating_it():
    wrong = PERSON_ID[:-1] + "1"
    checked = check_batch([record(payee_type="person", payee_id_number=wrong)])
    error = checked.rejected[0].errors[0]
    assert error["field"] == "payments[0].payee_id_number"
    assert wrong not in str(checked.rejected)


def test_a_person_payment_carries_only_the_masked_id_number():
    checked = check_batch([record(payee_type="person", payee_id_number=PERSON_ID)])
    event = checked.valid[0][1].to_event(KEY, PERSONAL)
    assert event.payee_id_masked == "110105********002X" == mask_id_number(PERSON_ID)
    assert event.payee_id_index == PERSONAL.blind_index(PERSON_ID)
    assert PERSON_ID not in event.model_dump_json()


def test_the_same_record_has_the_same_digest_and_a_changed_one_does_not():
    a, b, c = (check_batch([r]).valid[0][1] for r in (record(), record(), record(amount="600.01")))
    assert a.content_hash(KEY) == b.content_hash(KEY) != c.content_hash(KEY)


def test_the_digest_does_not_give_the_id_number_away():
    # Everything but the 8 birth-date digits is public in the event; without the key, trying
    # every birth date must not find a digest that matches.
    person = check_batch([record(payee_type="person", payee_id_number=PERSON_ID)]).valid[0][1]
    event = person.to_event(KEY, PERSONAL)
    guess = person.model_copy(update={"payee_id_number": PERSON_ID})
    assert event.content_hash != guess.content_hash(b"") and event.content_hash == guess.content_hash(KEY)
    assert hashlib.sha256(orjson.dumps(person.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest() \
        != event.content_hash


def test_accounts_are_compacted_and_a_valid_credit_code_kept():
    [(_, payment)] = check_batch([record(payee_account="6222 0000 1111 2222",
                                         payee_credit_code="91110000600037341L")]).valid
    assert (payment.payee_account, payment.payee_credit_code) == ("6222000011112222", "91110000600037341L")


def test_a_batch_that_is_not_a_list_of_objects_is_reported_per_record():
    checked = check_batch(["not a record", 42])
    assert [r.index for r in checked.rejected] == [0, 1]


def recorded(amount: str = "500.00"):
    return check_batch([record(amount=amount)]).valid[0][1].to_event(KEY, PERSONAL)


def refund_request(**overrides) -> RefundIn:
    return RefundIn.model_validate({"refund_id": "R-1", "amount": "200.00", "refunded_at": "2026-03-05T10:00:00+08:00",
                                    "reason": "收款账户错误退回"} | overrides)


@pytest.mark.parametrize("so_far,request_,returned,total", [
    pytest.param("0.00", {}, "200.00", "200.00", id="partial-refund"),
    pytest.param("300.00", {"amount": "200.00"}, "200.00", "500.00", id="refund-the-rest"),
    pytest.param("150.00", {"kind": "reversal", "amount": None}, "350.00", "500.00", id="reversal-returns-the-rest"),
])
def test_refunds_return_at_most_what_was_paid(so_far, request_, returned, total):
    event = refund(payment=recorded(), refunded_so_far=Decimal(so_far), request=refund_request(**request_), key=KEY)
    assert (event.amount, event.refunded_total) == (Decimal(returned), Decimal(total))


def test_a_refund_above_what_is_left_names_the_amount_and_what_is_left():
    with pytest.raises(RefundExceedsPayment) as err:
        refund(payment=recorded(), refunded_so_far=Decimal("300.00"), request=refund_request(amount="200.01"), key=KEY)
    assert err.value.extra["left"] == "200.00" and err.value.extra["errors"][0]["field"] == "amount"


@pytest.mark.parametrize("overrides,field", [
    pytest.param({"amount": None}, "amount", id="refund-without-amount"),
    pytest.param({"refunded_at": "2026-03-05T10:00:00"}, "refunded_at", id="naive-time"),
])
def test_a_malformed_refund_names_its_field(overrides, field):
    with pytest.raises((InvalidInput, ValidationError)) as err:
        refund(payment=recorded(), refunded_so_far=Decimal("0"), request=refund_request(**overrides), key=KEY)
    assert field in str(err.value.extra if isinstance(err.value, InvalidInput) else err.value.errors())
