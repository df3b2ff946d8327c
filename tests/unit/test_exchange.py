"""The exchange with the province (数据交换): a message's lifecycle, the back-off between attempts, how the
province's answers are read, and the signature over the canonical JSON."""

from datetime import timedelta

import pytest

from contracts.keys import new_keypair
from backbone.lifecycle import StepOutOfTurn
from contracts.province import canonical, sign, verify
from services.sync.exchange.lifecycle import (TRANSITIONS, DeliveryStep, MessageStatus, after, backoff, step_for_answer,
                                              step_for_receipt)

S, P = MessageStatus, DeliveryStep


@pytest.mark.parametrize("status,step,to", [
    pytest.param(S.AWAITING_AUTHORIZATION, P.AUTHORIZE, S.PENDING, id="authorized-goes-out"),
    pytest.param(S.PENDING, P.WITHDRAW, S.AWAITING_AUTHORIZATION, id="revoked-waits-again"),
    pytest.param(S.PENDING, P.SEND, S.SENT, id="sent"),
    pytest.param(S.SENT, P.SEND, S.SENT, id="unanswered-sent-again"),
    pytest.param(S.SENT, P.ACKNOWLEDGE, S.ACKNOWLEDGED, id="receipt"),
    pytest.param(S.SENT, P.REFUSE, S.REFUSED, id="returned"),
    pytest.param(S.SENT, P.RETRY, S.PENDING, id="no-answer-retried"),
    pytest.param(S.SENT, P.GIVE_UP, S.FAILED, id="attempts-run-out"),
    pytest.param(S.REFUSED, P.RESEND, S.PENDING, id="refused-resent"),
    pytest.param(S.FAILED, P.RESEND, S.PENDING, id="failed-resent"),
])
def test_each_step_where_the_table_has_it(status, step, to):
    assert after(status, step, "m-1") is to


def test_a_step_out_of_turn_names_where_the_message_stands_and_what_is_possible():
    with pytest.raises(StepOutOfTurn) as refused:
        after(S.ACKNOWLEDGED, P.RESEND, "m-1")
    assert refused.value.extra == {"status_now": "acknowledged", "allowed": ["refuse"]}
    with pytest.raises(StepOutOfTurn):
        after(S.AWAITING_AUTHORIZATION, P.SEND, "m-1")


def test_only_a_resend_or_the_provinces_later_word_moves_a_queued_message_and_only_a_return_an_acknowledged_one():
    assert {step for (status, step) in TRANSITIONS if status is S.REFUSED} == {P.RESEND}
    assert {step for (status, step) in TRANSITIONS if status is S.FAILED} == {P.RESEND, P.ACKNOWLEDGE, P.REFUSE}
    assert [key for key in TRANSITIONS if key[0] is S.ACKNOWLEDGED] == [(S.ACKNOWLEDGED, P.REFUSE)]


def test_a_receipt_message_takes_the_step_of_its_word_once():
    # Accepted while the city still retried it: acknowledged; the same word again changes nothing.
    assert step_for_receipt(S.PENDING, "accepted") is P.ACKNOWLEDGE
    assert step_for_receipt(S.ACKNOWLEDGED, "accepted") is None
    # Returned after a first receipt, once the province looked at it (退回).
    assert step_for_receipt(S.ACKNOWLEDGED, "returned") is P.REFUSE
    assert step_for_receipt(S.REFUSED, "returned") is None
    assert step_for_receipt("refused", "returned") is None, "as the row holds it"


def test_the_wait_doubles_from_the_first_up_to_the_longest():
    assert [backoff(n, 2, 30) for n in (1, 2, 3, 4, 5, 6)] == [timedelta(seconds=s) for s in (2, 4, 8, 16, 30, 30)]


@pytest.mark.parametrize("code,attempts,step", [
    pytest.param(200, 1, P.ACKNOWLEDGE, id="receipt"),
    pytest.param(422, 1, P.REFUSE, id="returned-or-invalid"),
    pytest.param(401, 1, P.REFUSE, id="not-recognised"),
    pytest.param(503, 1, P.RETRY, id="down"),
    pytest.param(429, 1, P.RETRY, id="too-busy"),
    pytest.param(None, 1, P.RETRY, id="no-answer"),
    pytest.param(None, 5, P.GIVE_UP, id="no-answer-last-attempt"),
    pytest.param(200, 5, P.ACKNOWLEDGE, id="receipt-at-last-attempt"),
])
def test_the_provinces_answer(code, attempts, step):
    assert step_for_answer(code, attempts, max_attempts=5) is step


def test_the_canonical_form_sorts_keys_keeps_chinese_and_has_no_spaces():
    assert canonical({"b": "南关区", "a": {"y": 1, "x": "1.00"}}) == '{"a":{"x":"1.00","y":1},"b":"南关区"}'.encode()


def test_a_signed_message_verifies_and_any_change_or_another_key_breaks_it():
    private, public = new_keypair()
    message = {"message_id": "m-1", "kind": "daily_rollup", "schema_version": 1, "key_id": "k1",
               "payload": {"received": "100.00"}}
    message["signature"] = sign(message, private)
    assert verify(message, public)
    assert not verify(message | {"payload": {"received": "100.01"}}, public)
    assert not verify(message | {"key_id": "k2"}, public)
    assert not verify(message, new_keypair()[1])
    assert not verify(message | {"signature": "not base64!"}, public)
