"""暂缓拨付 (第二十二条(三)): an indicator suspended by a red light's measure, lifted by the division that owns the
fund with the supervision bureau's consent. One transition table, decisions without I/O.

    lifted ──suspend──▶ suspended ──request_lift──▶ lift_requested ──consent──▶ lifted
                                                          └──refuse──▶ suspended
"""

from datetime import datetime
from enum import StrEnum

from backbone.lifecycle import next_state
from contracts.alerting import FundsSuspended, SuspensionLiftDecided, SuspensionLiftRequested

SUSPEND_MEASURE = "暂缓拨付"


class Standing(StrEnum):
    SUSPENDED = "suspended"
    LIFT_REQUESTED = "lift_requested"
    LIFTED = "lifted"  # also an indicator never suspended


class Step(StrEnum):
    SUSPEND = "suspend"
    REQUEST_LIFT = "request_lift"
    CONSENT = "consent"
    REFUSE = "refuse"


TRANSITIONS: dict[tuple[Standing, Step], Standing] = {
    (Standing.LIFTED, Step.SUSPEND): Standing.SUSPENDED,
    (Standing.SUSPENDED, Step.REQUEST_LIFT): Standing.LIFT_REQUESTED,
    (Standing.LIFT_REQUESTED, Step.CONSENT): Standing.LIFTED,
    (Standing.LIFT_REQUESTED, Step.REFUSE): Standing.SUSPENDED,
}


def _check(indicator_id: str, standing: Standing, step: Step) -> None:
    next_state(TRANSITIONS, standing, step, what=f"the suspension of indicator {indicator_id}", where=standing.value)


def suspend(*, indicator_id: str, standing: Standing, alert_id: str, sheet_number: str, org_unit: str | None,
            owner_division: str | None, by: str, now: datetime) -> FundsSuspended | None:
    """SuspendFunds → FundsSuspended; None when the indicator is suspended already (a second sheet adds nothing)."""
    if standing is not Standing.LIFTED:
        return None
    return FundsSuspended(indicator_id=indicator_id, alert_id=alert_id, sheet_number=sheet_number, org_unit=org_unit,
                          owner_division=owner_division, suspended_by=by, at=now)


def request_lift(*, indicator_id: str, standing: Standing, reason: str, by: str,
                 now: datetime) -> SuspensionLiftRequested:
    """RequestLift → SuspensionLiftRequested, or StepOutOfTurn (409) where it stands."""
    _check(indicator_id, standing, Step.REQUEST_LIFT)
    return SuspensionLiftRequested(indicator_id=indicator_id, reason=reason, requested_by=by, at=now)


def decide_lift(*, indicator_id: str, standing: Standing, consent: bool, reason: str, by: str,
                now: datetime) -> SuspensionLiftDecided:
    """DecideLift → SuspensionLiftDecided (consent lifts, refusal keeps it), or StepOutOfTurn (409)."""
    _check(indicator_id, standing, Step.CONSENT if consent else Step.REFUSE)
    return SuspensionLiftDecided(indicator_id=indicator_id, consent=consent, reason=reason, decided_by=by, at=now)
