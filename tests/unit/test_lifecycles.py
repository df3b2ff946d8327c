"""Every lifecycle has one shape: a transition table, a pure decision, and one error for a step out of turn
that says where the thing stands and what it could do now."""

import pytest

from backbone.lifecycle import StepOutOfTurn
from services.alerting.rules.proposals import ProposalStatus, ProposalStep, decide
from services.performance.domain import check_filing, check_review


@pytest.mark.parametrize("status,step,target", [
    ("proposed", ProposalStep.ACCEPT, ProposalStatus.ACCEPTED),
    ("proposed", ProposalStep.REJECT, ProposalStatus.REJECTED),
    ("accepted", ProposalStep.APPROVE, ProposalStatus.APPROVED),
])
def test_a_rule_proposal_moves_as_its_table_says(status, step, target):
    assert decide("p-1", status, step) is target


@pytest.mark.parametrize("status,step", [("proposed", ProposalStep.APPROVE), ("rejected", ProposalStep.ACCEPT),
                                         ("approved", ProposalStep.APPROVE)])
def test_a_rule_proposal_step_out_of_turn_is_named_with_what_is_possible(status, step):
    with pytest.raises(StepOutOfTurn) as refused:
        decide("p-1", status, step)
    assert refused.value.status == 409 and refused.value.extra["status_now"] == status
    assert refused.value.extra["allowed"] == {"proposed": ["accept", "reject"], "accepted": ["approve"]}.get(status, [])


def test_a_filing_is_filed_again_while_it_waits_or_after_a_return_and_an_accepted_one_is_final():
    assert check_filing(None) is False and check_filing("filed") is False and check_filing("returned") is True
    with pytest.raises(StepOutOfTurn):
        check_filing("accepted")


def test_only_a_filed_filing_is_reviewed():
    assert check_review("filed", "accepted") == "accepted" and check_review("filed", "returned") == "returned"
    for status in (None, "returned", "accepted"):
        with pytest.raises(StepOutOfTurn) as refused:
            check_review(status, "accepted")
        assert refused.value.extra["allowed"] == (["file"] if status in (None, "returned") else [])
