"""The permission application lifecycle (第二十五条): one transition table, who may take which step, the
account change an approval makes, and the separation of duties between the steps. No I/O.

    submitted ──accept──▶ forwarded ──approve──▶ approved ──issue──▶ issued   (开通 only)
        │  ▲                   └──reject──▶ rejected
     return│resubmit
        ▼  │
      returned
"""

from enum import StrEnum

from backbone.access import ADMIN, POVERTY_OFFICE, PROVINCE_SYSTEM, SUPERVISION, TREASURY
from backbone.errors import DomainError
from backbone.lifecycle import next_state
from backbone.identity import Principal
from contracts.gateway import PermissionForm, UserChanged, UserRegistered, UserRevoked


class Kind(StrEnum):
    """What an application asks for."""

    GRANT = "grant"  # 开通
    CHANGE = "change"  # 变更
    REVOKE = "revoke"  # 撤销


class Status(StrEnum):
    SUBMITTED = "submitted"  # 已提交, waits for the treasury division
    RETURNED = "returned"  # 退回修改
    FORWARDED = "forwarded"  # 已报省财政厅, waits for its answer (the province queue)
    APPROVED = "approved"  # 省财政厅同意: the account change has taken effect
    REJECTED = "rejected"  # 省财政厅不同意
    ISSUED = "issued"  # 开通: the initial password was issued to the applicant (告知)


class Step(StrEnum):
    ACCEPT = "accept"
    RETURN = "return"
    RESUBMIT = "resubmit"
    APPROVE = "approve"
    REJECT = "reject"
    ISSUE = "issue"


TRANSITIONS: dict[tuple[Status, Step], Status] = {
    (Status.SUBMITTED, Step.ACCEPT): Status.FORWARDED,
    (Status.SUBMITTED, Step.RETURN): Status.RETURNED,
    (Status.RETURNED, Step.RESUBMIT): Status.SUBMITTED,
    (Status.FORWARDED, Step.APPROVE): Status.APPROVED,
    (Status.FORWARDED, Step.REJECT): Status.REJECTED,
    (Status.APPROVED, Step.ISSUE): Status.ISSUED,
}
OPEN_STATUSES = (Status.SUBMITTED, Status.RETURNED, Status.FORWARDED)

# Who takes each step: competent divisions and districts apply (the treasury division and administrators
# for anyone); the treasury division reviews; the provincial platform answers, or the treasury division
# records a paper answer; administrators issue passwords. Supervision reads everything.
READERS_OF_ALL = (TREASURY, ADMIN, SUPERVISION, PROVINCE_SYSTEM)


def next_status(status: Status, step: Step, kind: Kind) -> Status:
    """Where the application goes with `step`, or why it cannot go there."""
    table = TRANSITIONS if kind is Kind.GRANT else {k: v for k, v in TRANSITIONS.items() if k[1] is not Step.ISSUE}
    return next_state(table, status, step, what=f"a {kind.value} application", where=status.value)


def may_apply(principal: Principal, org_unit: str, division: str | None) -> bool:
    """Whether the caller may apply for a person placed there: a district for its own org unit, a division
    for its own division, the treasury division and administrators for anyone."""
    if principal.has_any(TREASURY, ADMIN):
        return True
    if "district" in principal.roles and division is None and org_unit == principal.org_unit:
        return True
    return "division" in principal.roles and division is not None and division == principal.division


def account_event(kind: Kind, application_id: str, form: PermissionForm
                  ) -> UserRegistered | UserChanged | UserRevoked:
    """What an approved application does to the account (第二十五条(二))."""
    if kind is Kind.GRANT:
        return UserRegistered(username=form.username, display_name=form.name, org_unit=form.org_unit,
                              division=form.division, roles=form.roles, pii=form.pii, application_id=application_id)
    if kind is Kind.CHANGE:
        return UserChanged(username=form.username, display_name=form.name, org_unit=form.org_unit,
                           division=form.division, roles=form.roles, pii=form.pii, application_id=application_id)
    return UserRevoked(username=form.username, application_id=application_id)



class StepByInvolvedPerson(DomainError):
    status = 403
    type_name = "separation-of-duties"
    title = "Another person must take this step"


# Roles and permissions the bootstrap administrator never brings in alone, however new the platform: they
# watch or administer the platform itself, or open personal data.
NEVER_BY_BOOTSTRAP = frozenset({ADMIN, POVERTY_OFFICE, SUPERVISION})


def bootstrap_may_review(roles: list[str], pii: bool, *, treasury_staff: bool) -> bool:
    """Whether the bootstrap administrator may review an application it made itself: only for a new
    platform's first staff (while no treasury person, who reviews applications, has an account), and never
    for the roles of NEVER_BY_BOOTSTRAP or for the permission to see personal data."""
    return not treasury_staff and not pii and not NEVER_BY_BOOTSTRAP.intersection(roles)


def check_independent(actor: str, *, applicant: str, username: str, reviewer: str | None = None,
                      bootstrap: str | None = None) -> None:
    """Separation of duties (三员分立): nobody reviews an application they made or that is about themselves,
    and nobody records the province's answer to one they made, reviewed or are the subject of; else one
    person could give themselves, or a friend, any role alone. The one exception is `bootstrap`, the
    administrator from the deployment's environment, when `bootstrap_may_review` lets it review what it
    applied for; the province's answer then comes from the key the deployment configured for the province."""
    involved = {username: "is the subject of"}
    if actor != bootstrap or reviewer is not None:
        involved[applicant] = "made"
    if reviewer is not None:
        involved[reviewer] = "reviewed"
    if actor in involved:
        raise StepByInvolvedPerson(f"{actor} {involved[actor]} this application: another person takes this step")
