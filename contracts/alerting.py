"""Events of the alerting context (预警), topic `fundwatch.alerting.v1`."""

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import DomainEvent
from contracts.values import AlertLevel


class AlertSubject(BaseModel):
    """What an alert is about: an indicator, a payment, a goal, with their ids."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(examples=["payment"])
    id: str
    indicator_id: str | None = None


class AlertRaised(DomainEvent):
    """A rule was breached: an alert was raised at the rule's level (预警)."""

    event_type: ClassVar[str] = "alerting.AlertRaised"
    context: ClassVar[str] = "alerting"

    alert_id: str
    rule_id: str
    rule_number: str
    rule_name: str
    level: AlertLevel
    subject: AlertSubject
    period: str = Field(description="The period the dedup key covers, e.g. the fiscal year.")
    org_unit: str | None
    owner_division: str | None
    explanation: dict[str, Any] = Field(description="Rule, basis and the values that triggered it.")
    raised_at: datetime
