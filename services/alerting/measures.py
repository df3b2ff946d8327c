"""Measures that open a record of their own (第二十二条(三)): 移交 refers a red light's case to the supervision
bureau, which records its outcome once; 通报 circulates it against the district or the division; 收回资金 orders the
ledger's withdrawal, and until the ledger withdrew all of it the alert is not corrected. No I/O."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from backbone.errors import DomainError
from backbone.lifecycle import next_state
from contracts.alerting import (AlertCirculated, AlertReferred, DisposalSheet, FundsRecoveryOrdered,
                                ReferralConcluded)
from contracts.values import CITY_ORG_UNIT, AlertAction
from services.alerting.lifecycle import AlertState

REFER = "移交监督局"  # opens a case in the bureau's inbox; 移交有关部门 hands it outside the platform
CIRCULATE = "通报"
RECOVER = "收回资金"
Against = Literal["district", "division"]


def numbered(prefix: str, year: int, serial: int) -> str:
    """YJ-2026-000123 (a referral), TB-2026-000123 (a circular): numbered per year."""
    return f"{prefix}-{year}-{serial:06d}"


def takes(measure: str, action: AlertAction, sheet: DisposalSheet) -> bool:
    """Whether this step takes the measure."""
    return action is AlertAction.TAKE_MEASURE and measure in sheet.measures


def refer(alert: AlertState, rule_number: str, sheet: DisposalSheet, number: str, now: datetime) -> AlertReferred:
    """Refer → AlertReferred: the case, with the sheet that decided it and who referred it."""
    return AlertReferred(number=number, alert_id=alert.alert_id, rule_id=alert.rule_id, rule_number=rule_number,
                         org_unit=alert.org_unit, owner_division=alert.owner_division, sheet_number=sheet.number,
                         findings=sheet.findings, referred_by=sheet.handler,
                         referred_by_division=sheet.handler_division, at=now)


def default_against(alert: AlertState) -> Against:
    """A district's alert is circulated against the district, the city's against the division that owns the fund."""
    return "district" if alert.org_unit and alert.org_unit != CITY_ORG_UNIT else "division"


def circulate(alert: AlertState, rule_number: str, sheet: DisposalSheet, against: Against, number: str,
              now: datetime) -> AlertCirculated:
    """Circulate → AlertCirculated against the district or the division; ValueError when the alert names none."""
    if (alert.org_unit if against == "district" else alert.owner_division) is None:
        raise ValueError(f"the alert concerns no {against}")
    return AlertCirculated(number=number, alert_id=alert.alert_id, rule_id=alert.rule_id, rule_number=rule_number,
                           against=against, org_unit=alert.org_unit, owner_division=alert.owner_division,
                           sheet_number=sheet.number, findings=sheet.findings, circulated_by=sheet.handler, at=now)


class RecoveryState(StrEnum):
    ORDERED = "ordered"  # the ledger has not answered every order yet
    RECOVERED = "recovered"
    SHORT = "short"  # less was available than ordered: the rest is still to be recovered


@dataclass(frozen=True)
class Recovery:
    """An alert's recovery (收回资金): what its measure asks back and what the ledger withdrew in all, and how many
    orders (the first, then the rest after a shortfall) and answers there were."""

    ordered: Decimal
    withdrawn: Decimal
    orders: int
    answers: int

    @property
    def state(self) -> RecoveryState:
        if self.answers < self.orders:
            return RecoveryState.ORDERED
        return RecoveryState.SHORT if self.withdrawn < self.ordered else RecoveryState.RECOVERED

    @property
    def shortfall(self) -> Decimal | None:
        """Ordered and not withdrawn, once the ledger answered every order."""
        return None if self.state is RecoveryState.ORDERED else self.ordered - self.withdrawn


class RecoveryOutstanding(DomainError):
    """已纠正 while money ordered back is not back (yet)."""

    status = 409
    type_name = "recovery-outstanding"
    title = "The recovery ordered is not complete"


def recover(alert: AlertState, rule_number: str, sheet: DisposalSheet, indicator_id: str | None,
            available: Decimal | None, standing: Recovery | None, now: datetime) -> FundsRecoveryOrdered | None:
    """RecoverFunds → FundsRecoveryOrdered; None while an earlier order stands (the ledger has not answered it, or it
    came back whole); ValueError(field, message) when the sheet or the alert cannot carry it. After a shortfall a
    sheet orders the rest, at most the shortfall."""
    if standing is not None and standing.state is not RecoveryState.SHORT:
        return None
    if indicator_id is None:
        raise ValueError("body.measures", "收回资金: the alert names no indicator to recover from")
    amount = sheet.returned_amount
    if amount is None or amount <= 0:
        raise ValueError("body.returned_amount", "收回资金 needs the amount recovered (退回金额), above 0")
    if standing is not None and amount > standing.shortfall:  # type: ignore[operator]  # SHORT: answered
        raise ValueError("body.returned_amount", f"only {standing.shortfall} of the recovery ordered is short")
    if available is not None and amount > available:
        raise ValueError("body.returned_amount", f"at most {available} is left on indicator {indicator_id}")
    return FundsRecoveryOrdered(alert_id=alert.alert_id, rule_number=rule_number, indicator_id=indicator_id,
                                amount=amount, sheet_number=sheet.number, org_unit=alert.org_unit,
                                owner_division=alert.owner_division, ordered_by=sheet.handler, at=now,
                                rest=standing is not None)


def check_correction(standing: Recovery | None) -> None:
    """已纠正 (第二十二条(三)) marks a corrected red light green: money a measure ordered back is part of the
    correction, so RecoveryOutstanding while the ledger has not answered, or answered short."""
    if standing is None or standing.state is RecoveryState.RECOVERED:
        return
    if standing.state is RecoveryState.ORDERED:
        raise RecoveryOutstanding("the ledger has not yet withdrawn the recovery ordered (收回资金): the alert is "
                                  "corrected once the money is back", ordered=format(standing.ordered, "f"))
    raise RecoveryOutstanding(
        f"收回资金 came back {standing.shortfall} short of the {standing.ordered} ordered: order the rest with "
        "收回资金 before recording the correction", ordered=format(standing.ordered, "f"),
        withdrawn=format(standing.withdrawn, "f"), shortfall=format(standing.shortfall, "f"))


class ReferralStanding(StrEnum):
    REFERRED = "referred"
    CONCLUDED = "concluded"


class ReferralStep(StrEnum):
    CONCLUDE = "conclude"


REFERRAL_TRANSITIONS = {(ReferralStanding.REFERRED, ReferralStep.CONCLUDE): ReferralStanding.CONCLUDED}


def conclude(*, number: str, alert_id: str, org_unit: str | None, owner_division: str | None,
             recorded: tuple[str, str] | None, decision: str, findings: str, by: str,
             now: datetime) -> ReferralConcluded | None:
    """RecordOutcome → ReferralConcluded; None when the same outcome is recorded already (the same request twice),
    StepOutOfTurn (409) when another one is."""
    if recorded == (decision, findings):
        return None
    standing = ReferralStanding.CONCLUDED if recorded else ReferralStanding.REFERRED
    next_state(REFERRAL_TRANSITIONS, standing, ReferralStep.CONCLUDE, what=f"referral {number}", where=standing.value)
    return ReferralConcluded(number=number, alert_id=alert_id, org_unit=org_unit, owner_division=owner_division,
                             decision=decision, findings=findings, concluded_by=by, at=now)
