"""移交 (第二十二条(三)): a red light's case referred to the supervision bureau by the measure a sheet takes. No I/O."""

from datetime import datetime

from contracts.alerting import AlertReferred, DisposalSheet
from contracts.values import AlertAction
from services.alerting.lifecycle import AlertState

REFER = "移交监督局"  # the measure that opens a case; 移交有关部门 hands it outside the platform


def referral_number(year: int, serial: int) -> str:
    """YJ-2026-000123: cases of the bureau's inbox numbered per year."""
    return f"YJ-{year}-{serial:06d}"


def refers(action: AlertAction, sheet: DisposalSheet) -> bool:
    """Whether this step hands the alert's case to the supervision bureau."""
    return action is AlertAction.TAKE_MEASURE and REFER in sheet.measures


def refer(alert: AlertState, rule_number: str, sheet: DisposalSheet, number: str, now: datetime) -> AlertReferred:
    """Refer → AlertReferred: the case, with the sheet that decided it and who referred it."""
    return AlertReferred(number=number, alert_id=alert.alert_id, rule_id=alert.rule_id, rule_number=rule_number,
                         org_unit=alert.org_unit, owner_division=alert.owner_division, sheet_number=sheet.number,
                         findings=sheet.findings, referred_by=sheet.handler,
                         referred_by_division=sheet.handler_division, at=now)
