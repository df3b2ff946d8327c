"""Events of the alerting context (预警), topic `fundwatch.alerting.v1`."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import DomainEvent
from contracts.values import AlertAction, AlertLevel, AlertStatus, Money


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
    escalate_to: AlertLevel | None = Field(None, description="For a yellow bell: the level once its time runs out.")


class DisposalSheet(BaseModel):
    """处理单 (认定处理单): what a person found and decided at one step of an alert."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str = Field(description="处理单编号, e.g. CLD-2026-000123: numbered per year without gaps.")
    result: Literal["正常", "违规"] | None = Field(None, description="认定结果")
    violation_type: str | None = Field(None, description="违规类型, from the national list")
    method: str | None = Field(None, description="核实方式")
    findings: str = Field(description="基本情况描述")
    rectification: str | None = Field(None, description="整改要求")
    returned_amount: Money | None = Field(None, description="退回金额")
    adjusted_amount: Money | None = Field(None, description="调账金额")
    other_amount: Money | None = Field(None, description="其他金额")
    measures: list[str] = Field(default_factory=list, description="处理措施: 收回资金, 暂缓拨付, 通报, 移交…")
    attachments: list[str] = Field(default_factory=list, description="Ids of attached documents.")
    suspicious_item: bool = Field(False, description=(
        "疑点 (第二十四条(三)): the verification of a yellow light counts only once the supervision bureau "
        "concurs."))
    handler: str = Field(description="The person who made the sheet.")
    handler_org_unit: str | None = None
    handler_division: str | None = None


class AlertTransitioned(DomainEvent):
    """An alert moved along its lifecycle: automatically (clear, escalate) or by a person with a disposal sheet."""

    event_type: ClassVar[str] = "alerting.AlertTransitioned"
    context: ClassVar[str] = "alerting"

    alert_id: str
    rule_id: str
    org_unit: str | None = Field(description="Routing: the district concerned.")
    owner_division: str | None = Field(description="Routing: the division that owns the fund.")
    action: AlertAction
    from_level: AlertLevel
    from_status: AlertStatus
    to_level: AlertLevel
    to_status: AlertStatus
    sheet: DisposalSheet | None = Field(None, description="The disposal sheet of a person's step.")
    reason: str | None = Field(None, description="Why an automatic step happened.")
    at: datetime


class AlertBreachRepeated(DomainEvent):
    """The same rule broken again by the same subject in the same period: the alert is updated, not doubled."""

    event_type: ClassVar[str] = "alerting.AlertBreachRepeated"
    context: ClassVar[str] = "alerting"

    alert_id: str
    rule_id: str
    org_unit: str | None
    owner_division: str | None
    explanation: dict[str, Any] = Field(description="The latest breach's explanation.")
    at: datetime


class AlertReferred(DomainEvent):
    """移交 (第二十二条(三)): a red light's case handed to the supervision bureau with the sheet that decided it,
    numbered in the bureau's inbox; one case per alert."""

    event_type: ClassVar[str] = "alerting.AlertReferred"
    context: ClassVar[str] = "alerting"

    number: str = Field(description="The case's number in the bureau's inbox, per year.", examples=["YJ-2026-000001"])
    alert_id: str
    rule_id: str
    rule_number: str
    org_unit: str | None
    owner_division: str | None
    sheet_number: str = Field(description="The disposal sheet (处理单) that took the measure.")
    findings: str = Field(description="基本情况描述, as the sheet gives it.")
    referred_by: str
    referred_by_division: str | None
    at: datetime


class ReferralConcluded(DomainEvent):
    """The supervision bureau recorded the outcome of a case referred to it (移交): what it found and decided; once
    per case."""

    event_type: ClassVar[str] = "alerting.ReferralConcluded"
    context: ClassVar[str] = "alerting"

    number: str = Field(examples=["YJ-2026-000001"])
    alert_id: str
    org_unit: str | None
    owner_division: str | None
    decision: str = Field(description="处理决定, one of REFERRAL_DECISIONS.")
    findings: str = Field(description="查处情况: what the bureau found.")
    concluded_by: str
    at: datetime


class AlertCirculated(DomainEvent):
    """通报 (第二十二条(三)): a circular against the district or the division a red light concerns, numbered per
    year; one per alert."""

    event_type: ClassVar[str] = "alerting.AlertCirculated"
    context: ClassVar[str] = "alerting"

    number: str = Field(description="The circular's number, per year.", examples=["TB-2026-000001"])
    alert_id: str
    rule_id: str
    rule_number: str
    against: Literal["district", "division"]
    org_unit: str | None = Field(description="The district circulated against, or the alert's.")
    owner_division: str | None = Field(description="The division circulated against, or the alert's.")
    sheet_number: str
    findings: str
    circulated_by: str
    at: datetime


class FundsRecoveryOrdered(DomainEvent):
    """收回资金 (第二十二条(三)): a red light's measure recovers an amount from the indicator it concerns; the ledger
    writes the withdrawal (收回) from this event and answers with ledger.FundsRecovered. One per alert, and again for
the rest when the ledger's answer was short."""

    event_type: ClassVar[str] = "alerting.FundsRecoveryOrdered"
    context: ClassVar[str] = "alerting"

    alert_id: str
    rule_number: str
    indicator_id: str
    amount: Money = Field(description="The amount recovered, as the sheet's 退回金额 gives it.")
    sheet_number: str
    org_unit: str | None
    owner_division: str | None
    ordered_by: str
    at: datetime
    rest: bool = Field(False, description="An order for (part of) the rest of an earlier one the ledger could not "
                                          "withdraw whole: it asks for nothing more than that order did.")


class FundsSuspended(DomainEvent):
    """暂缓拨付 (第二十二条(三)): a red light's measure suspends the indicator it concerns; every later payment on it
    is a red light (ZC-010) until the suspension is lifted."""

    event_type: ClassVar[str] = "alerting.FundsSuspended"
    context: ClassVar[str] = "alerting"

    indicator_id: str
    alert_id: str
    sheet_number: str
    org_unit: str | None
    owner_division: str | None
    suspended_by: str
    at: datetime


class SuspensionLiftRequested(DomainEvent):
    """The division that owns the fund asks to lift its suspension, with why."""

    event_type: ClassVar[str] = "alerting.SuspensionLiftRequested"
    context: ClassVar[str] = "alerting"

    indicator_id: str
    reason: str
    requested_by: str
    at: datetime


class SuspensionLiftDecided(DomainEvent):
    """The supervision bureau consents to lifting a suspension (it is lifted) or refuses (it stays)."""

    event_type: ClassVar[str] = "alerting.SuspensionLiftDecided"
    context: ClassVar[str] = "alerting"

    indicator_id: str
    consent: bool
    reason: str
    decided_by: str
    at: datetime


class RuleProposed(DomainEvent):
    """A division proposed a warning rule for a fiscal year (附件2, 第十五条); `definition` is the whole rule."""

    event_type: ClassVar[str] = "alerting.RuleProposed"
    context: ClassVar[str] = "alerting"

    proposal_id: str
    fiscal_year: int
    definition: dict[str, Any] = Field(description="The rule as data: number, name, category, level, basis, …")
    proposer_division: str | None
    contact: str | None = Field(None, description="联系电话 of the person filling in the form.")
    cycle_id: str | None = Field(None, description="The proposing division's part of the yearly cycle.")


class RuleProposalReviewed(DomainEvent):
    """The treasury division consolidated (accepted) or turned down a proposal (第十六条)."""

    event_type: ClassVar[str] = "alerting.RuleProposalReviewed"
    context: ClassVar[str] = "alerting"

    proposal_id: str
    decision: Literal["accepted", "rejected"]
    reason: str


class RuleApproved(DomainEvent):
    """An accepted rule is in force from the start of its fiscal year (after the province's feedback)."""

    event_type: ClassVar[str] = "alerting.RuleApproved"
    context: ClassVar[str] = "alerting"

    proposal_id: str
    rule_id: str
    fiscal_year: int


class RequirementProposed(DomainEvent):
    """A division's business requirement for the platform (附件1, 第十五条)."""

    event_type: ClassVar[str] = "alerting.RequirementProposed"
    context: ClassVar[str] = "alerting"

    requirement_id: str
    fiscal_year: int
    kind: Literal["预算分配下达", "资金支付", "绩效管理", "其他"] = Field(description="业务需求类型")
    description: str = Field(description="业务需求描述")
    basis: str = Field(description="依据")
    scope: list[str] = Field(description="适用范围: org units")
    proposer_division: str | None
    contact: str | None = None
    cycle_id: str | None = Field(None, description="The proposing division's part of the yearly cycle.")
    proposer_org_unit: str | None = Field(None, description=(
        "The district that proposed it to a division (征求区财政部门意见, 第十五条); None for a division's own."))
    to_division: str | None = Field(None, description="The division a district's proposal goes to.")


class RequirementCommented(DomainEvent):
    """A district commented on a division's business requirement for the coming year (第十五条: 在征求区(开发区)
    财政部门意见的基础上)."""

    event_type: ClassVar[str] = "alerting.RequirementCommented"
    context: ClassVar[str] = "alerting"

    comment_id: str
    requirement_id: str
    fiscal_year: int
    org_unit: str = Field(description="The commenting district.")
    to_division: str | None = Field(description="The division whose requirement it is.")
    text: str = Field(description="意见")


class RuleCycleOpened(DomainEvent):
    """The yearly cycle of rules and requirements for a fiscal year began for one party (第十五条, 第十六条):
    a division proposes by 10-15, the treasury division consolidates and reports to the province by 11-01."""

    event_type: ClassVar[str] = "alerting.RuleCycleOpened"
    context: ClassVar[str] = "alerting"

    cycle_id: str = Field(description="<fiscal year>-<division>, e.g. 2028-agriculture")
    fiscal_year: int
    step: Literal["propose", "consolidate"]
    owner_division: str = Field(description="The division whose step it is.")
    org_unit: str
    due_on: date


class RuleProposalsSubmitted(DomainEvent):
    """The treasury division reported the city's requirements and rules for a fiscal year to the province."""

    event_type: ClassVar[str] = "alerting.RuleProposalsSubmitted"
    context: ClassVar[str] = "alerting"

    cycle_id: str
    fiscal_year: int
    proposal_ids: list[str]
    requirement_ids: list[str]
    rules: list[dict[str, Any]] = Field(default_factory=list, description="The reported rules as data (附件2).")
    requirements: list[dict[str, Any]] = Field(default_factory=list, description=(
        "The reported requirements (附件1): kind, description, basis, scope."))


class MonthClosed(DomainEvent):
    """A month ended: the month-end rules (序时进度, districts' progress) judge where the money stands."""

    event_type: ClassVar[str] = "alerting.MonthClosed"
    context: ClassVar[str] = "alerting"

    month: str = Field(description="2026-11")
    closed_on: date = Field(description="The month's last day.")
    fiscal_year: int
    time_progress: Decimal = Field(description="Share of the fiscal year gone by at the month's end (序时进度).")


class RuleLevelChanged(DomainEvent):
    """A rule's warning level was set by the Ministry or the province (第二十条), from a fiscal year on."""

    event_type: ClassVar[str] = "alerting.RuleLevelChanged"
    context: ClassVar[str] = "alerting"

    rule_id: str
    number: str
    fiscal_year: int
    level_before: AlertLevel
    level: AlertLevel
    authority: Literal["ministry", "province"]
    document: str | None = None
    message_id: str = Field(description="The province's message that carried it.")
