"""Measures that open a record of their own (第二十二条(三)): 移交 refers a red light's case to the supervision
bureau, 通报 circulates it against the district or the division, 收回资金 orders the ledger's withdrawal. No I/O."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from contracts.alerting import AlertCirculated, AlertReferred, DisposalSheet, FundsRecoveryOrdered
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


def recover(alert: AlertState, rule_number: str, sheet: DisposalSheet, indicator_id: str | None,
            available: Decimal | None, now: datetime) -> FundsRecoveryOrdered:
    """RecoverFunds → FundsRecoveryOrdered; ValueError(field, message) when the sheet or the alert cannot carry it."""
    if indicator_id is None:
        raise ValueError("body.measures", "收回资金: the alert names no indicator to recover from")
    amount = sheet.returned_amount
    if amount is None or amount <= 0:
        raise ValueError("body.returned_amount", "收回资金 needs the amount recovered (退回金额), above 0")
    if available is not None and amount > available:
        raise ValueError("body.returned_amount", f"at most {available} is left on indicator {indicator_id}")
    return FundsRecoveryOrdered(alert_id=alert.alert_id, rule_number=rule_number, indicator_id=indicator_id,
                                amount=amount, sheet_number=sheet.number, org_unit=alert.org_unit,
                                owner_division=alert.owner_division, ordered_by=sheet.handler, at=now)
