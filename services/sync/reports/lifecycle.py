"""A monthly report (月报, 第二十四条) from its draft to the province's receipt: two transition tables, one per kind,
over one set of statuses, and the separation of duties of its co-signature. Pure: no I/O, no clock.

Why two tables: a division's report (一) goes to the treasury, not to the province; it ends `consolidated`, when a
city report takes it in. The city's report (二) is made by consolidating, so it is born `consolidated`, and only it
goes on through the supervision bureau's sign-off of the suspicious items (三, `supervision_reviewed`), the poverty
office's co-signature (第二十七条, `cosigned`) and the exchange (`sent`) to the province's answer. A report the
supervision bureau, the poverty office or the province returns is `returned` for good: the treasury revises it as a
new version that names it, and a sent report is never changed in place."""

from enum import StrEnum

from backbone.errors import DomainError
from backbone.lifecycle import next_state


class ReportKind(StrEnum):
    DIVISION = "division"  # 主管处(室)按月报国库处
    CITY = "city"  # 国库处按月汇总, 经局脱贫办会签后报省财政厅


class ReportStatus(StrEnum):
    DRAFT = "draft"  # the division is writing its analysis
    SUBMITTED = "submitted"  # handed to the treasury
    CONSOLIDATED = "consolidated"  # a division's: taken into the city report; the city's: made, being reviewed
    SUPERVISION_REVIEWED = "supervision_reviewed"  # the supervision bureau signed the suspicious items off
    COSIGNED = "cosigned"  # the poverty office co-signed
    SENT = "sent"  # handed to the exchange
    ACKNOWLEDGED = "acknowledged"  # the province's receipt
    RETURNED = "returned"  # returned (by the bureau, the poverty office or the province): revised as a new version


class ReportStep(StrEnum):
    EDIT = "edit"  # write the analysis (问题及建议)
    SUBMIT = "submit"
    CONSOLIDATE = "consolidate"
    APPROVE_SUSPICIOUS = "approve_suspicious"  # 监督局 signs section 三 off
    RETURN_SUSPICIOUS = "return_suspicious"
    COSIGN = "cosign"  # 局脱贫办 approves
    REFUSE_COSIGNATURE = "refuse_cosignature"
    SEND = "send"
    ACKNOWLEDGE = "acknowledge"
    RETURN = "return"  # the province returned it (退回)


S, P = ReportStatus, ReportStep
DIVISION_TRANSITIONS: dict[tuple[ReportStatus, ReportStep], ReportStatus] = {
    (S.DRAFT, P.EDIT): S.DRAFT,
    (S.DRAFT, P.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, P.CONSOLIDATE): S.CONSOLIDATED,
}
CITY_TRANSITIONS: dict[tuple[ReportStatus, ReportStep], ReportStatus] = {
    (S.CONSOLIDATED, P.EDIT): S.CONSOLIDATED,
    (S.CONSOLIDATED, P.APPROVE_SUSPICIOUS): S.SUPERVISION_REVIEWED,
    (S.CONSOLIDATED, P.RETURN_SUSPICIOUS): S.RETURNED,
    (S.SUPERVISION_REVIEWED, P.COSIGN): S.COSIGNED,
    (S.SUPERVISION_REVIEWED, P.REFUSE_COSIGNATURE): S.RETURNED,
    (S.COSIGNED, P.SEND): S.SENT,
    (S.SENT, P.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.SENT, P.RETURN): S.RETURNED,
}
TABLES = {ReportKind.DIVISION: DIVISION_TRANSITIONS, ReportKind.CITY: CITY_TRANSITIONS}
# A city report is revised (a new version naming it) once returned, or corrected once the province has it.
REVISABLE = frozenset({S.RETURNED, S.ACKNOWLEDGED})


def after(kind: ReportKind, status: ReportStatus, step: ReportStep, report_id: str) -> ReportStatus:
    """Where `step` takes a report of `kind` standing at `status` (StepOutOfTurn, 409, when it cannot)."""
    return next_state(TABLES[kind], status, step, what=f"{kind.value} report {report_id}", where=status.value)


class SeparationOfDuties(DomainError):
    """Whoever prepared a report (or revised it) cannot co-sign it or sign its suspicious items off (第二十七条)."""

    status = 403
    type_name = "separation-of-duties"
    title = "Separation of duties"


def check_duties(actor: str, step: ReportStep, report_id: str, *, prepared_by: str,
                 signed_off_by: str | None = None) -> None:
    """Refuse a reviewer's step to whoever prepared the report, or signed off its suspicious items, naming why."""
    if actor == prepared_by:
        raise SeparationOfDuties(f"{actor} prepared report {report_id}: its {step.value} needs someone else "
                                 "(separation of duties, 第二十七条)", prepared_by=prepared_by)
    if actor == signed_off_by:
        raise SeparationOfDuties(f"{actor} signed off the suspicious items of {report_id}: its {step.value} needs "
                                 "someone else (separation of duties)", signed_off_by=signed_off_by)
