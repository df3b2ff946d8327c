"""The alert (预警) aggregate: raising one alert per (rule, subject, period). No I/O."""

from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from contracts.alerting import AlertRaised, AlertSubject
from contracts.values import AlertLevel
from services.alerting.rules.engine import Breach


def alert_id_for(rule_id: str, subject: AlertSubject, period: str) -> str:
    """The same rule on the same subject in the same period is always the same alert."""
    return str(uuid5(NAMESPACE_URL, f"fundwatch:alert:{rule_id}:{subject.kind}:{subject.id}:{period}"))


def raise_alert(*, breach: Breach, period: str, org_unit: str | None, owner_division: str | None,
                now: datetime, bell: bool = False) -> AlertRaised:
    """RaiseAlert → AlertRaised, with the explanation a finance official reads; a bell (黄色警铃) carries
    the level it turns into when its time runs out."""
    rule = breach.rule
    return AlertRaised(
        alert_id=alert_id_for(rule.id, breach.subject, period),
        rule_id=rule.id, rule_number=rule.number, rule_name=rule.name,
        level=AlertLevel.YELLOW_BELL if bell else rule.level, escalate_to=rule.level if bell else None,
        subject=breach.subject, period=period, org_unit=org_unit, owner_division=owner_division,
        explanation={"rule": rule.name, "category": rule.category.value, "basis": rule.basis,
                     "description": rule.description, "summary": breach.summary, "values": breach.values},
        raised_at=now,
    )


# The levels as the platform's people read them (the seed's 附件2 form says 黄灯预警, 红灯预警).
LEVEL_NAMES = {"yellow_bell": "黄色警铃", "yellow": "黄灯", "red": "红灯"}
