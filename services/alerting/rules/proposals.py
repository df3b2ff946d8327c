"""The yearly rule proposal's lifecycle (第十六条), pure: a division proposes a rule, the treasury division
accepts it into the city's list or rejects it, and an accepted one is approved into force.

    proposed ──accept──▶ accepted ──approve──▶ approved
        └──reject──▶ rejected
"""

from enum import StrEnum

from backbone.lifecycle import next_state


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"  # 已提出, waits for the treasury division
    ACCEPTED = "accepted"  # 已汇总
    REJECTED = "rejected"  # 未采纳
    APPROVED = "approved"  # 已批准: in force from the start of its fiscal year


class ProposalStep(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    APPROVE = "approve"


TRANSITIONS: dict[tuple[ProposalStatus, ProposalStep], ProposalStatus] = {
    (ProposalStatus.PROPOSED, ProposalStep.ACCEPT): ProposalStatus.ACCEPTED,
    (ProposalStatus.PROPOSED, ProposalStep.REJECT): ProposalStatus.REJECTED,
    (ProposalStatus.ACCEPTED, ProposalStep.APPROVE): ProposalStatus.APPROVED,
}


def decide(proposal_id: str, status: str, step: ProposalStep) -> ProposalStatus:
    """Where `step` takes the proposal, or StepOutOfTurn naming where it stands."""
    now = ProposalStatus(status)
    return next_state(TRANSITIONS, now, step, what=f"rule proposal {proposal_id}", where=now.value)
