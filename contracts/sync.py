"""Events of the sync context (数据交换), topic `fundwatch.sync.v1`: the daily rollup of each district, the
poverty office's standing authorizations to send routine data to the province, and the monthly reports (月报)."""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import DomainEvent
from contracts.province import DistrictFigures, DivisionPart, MessageKind, MonthFigures, RuleLevel
from contracts.values import Money


class RollupComputed(DomainEvent):
    """A district's daily rollup (日报, 第二十六条(二)) was computed: the first of its day, or a new version when
    a re-run found other numbers (a late correction)."""

    event_type: ClassVar[str] = "sync.RollupComputed"
    context: ClassVar[str] = "sync"

    rollup_date: date = Field(description="The day rolled up (Beijing).")
    org_unit: str
    version: int = Field(ge=1)
    figures: DistrictFigures
    reason: Literal["daily", "rerun"]
    computed_at: datetime
    message_id: str = Field(description="The message that carries this version to the province.")


class ExchangeAuthorized(DomainEvent):
    """The poverty office (局脱贫办) authorized a kind of routine data to go to the province (第二十七条)."""

    event_type: ClassVar[str] = "sync.ExchangeAuthorized"
    context: ClassVar[str] = "sync"

    authorization_id: str
    kind: MessageKind
    granted_by: str
    granted_at: datetime
    note: str | None = None


class ExchangeAuthorizationRevoked(DomainEvent):
    """A standing authorization was revoked: messages of its kind not yet sent wait again."""

    event_type: ClassVar[str] = "sync.ExchangeAuthorizationRevoked"
    context: ClassVar[str] = "sync"

    authorization_id: str
    kind: MessageKind
    revoked_by: str
    revoked_at: datetime
    reason: str


class MonthlyReportDrafted(DomainEvent):
    """A monthly report (月报, 第二十四条) was made: a division's draft (一), or the city's, consolidated from the
    division reports and the districts' figures (二); a version above 1 corrects the one it names."""

    event_type: ClassVar[str] = "sync.MonthlyReportDrafted"
    context: ClassVar[str] = "sync"

    report_id: str
    kind: Literal["division", "city"]
    month: str = Field(description="2026-11")
    division: str = Field(description="The division that prepares it: its own for a division report, treasury (国库处) "
                                      "for the city's.")
    version: int = Field(ge=1)
    corrects: str | None = Field(None, description="The report this version corrects.")
    status: Literal["draft", "consolidated"]
    figures: MonthFigures
    divisions: list[DivisionPart] = Field(default_factory=list, description="A city report's division reports.")
    analysis: str | None = None
    prepared_by: str
    at: datetime


class MonthlyReportStepped(DomainEvent):
    """A monthly report took a step of its lifecycle (services/sync/reports/lifecycle.py), by `actor`."""

    event_type: ClassVar[str] = "sync.MonthlyReportStepped"
    context: ClassVar[str] = "sync"

    report_id: str
    kind: Literal["division", "city"]
    month: str
    fiscal_year: int
    period_end: date = Field(description="The month's last day: the reporting point a deadline clock waits for.")
    division: str
    step: str
    from_status: str
    to_status: str
    actor: str
    at: datetime
    analysis: str | None = Field(None, description="The analysis (问题及建议) written at an edit.")
    opinion: str | None = Field(None, description="A reviewer's or co-signer's opinion, or the province's reason.")
    consolidated_into: str | None = Field(None, description="The city report that took this division report in.")
    message_id: str | None = Field(None, description="The message that carries the report to the province.")
class IndicatorIssued(DomainEvent):
    """The province's message named an indicator the central or provincial government issued to the city
    (指标下达): the 5 working days of 第二十六条(一) to register it count from its issue date."""

    event_type: ClassVar[str] = "sync.IndicatorIssued"
    context: ClassVar[str] = "sync"

    issue_id: str = Field(description="One per document number (文件号).")
    message_id: str = Field(description="The inbound message that carried it.")
    doc_no: str
    fund_name: str
    amount: Money
    issued_on: date
    level: Literal["central", "province"]
    fiscal_year: int
    org_unit: str = Field(description="The city (市本级) receives what is issued to it.")
    owner_division: str = Field(description="预算处 receives the funds of higher governments and registers them.")


class IssuedIndicatorReconciled(DomainEvent):
    """An issued indicator was matched with the one registered in the ledger by its document number
    (第二十六条(一)): the amounts agree, or they do not (both named)."""

    event_type: ClassVar[str] = "sync.IssuedIndicatorReconciled"
    context: ClassVar[str] = "sync"

    issue_id: str
    doc_no: str
    outcome: Literal["matched", "mismatched"]
    indicator_id: str = Field(description="The registered indicator.")
    issued_amount: Money
    registered_amount: Money
    fiscal_year: int
    org_unit: str
    owner_division: str | None = Field(description="The registered indicator's owner (谁主管、谁负责).")


class PermissionAnswerReceived(DomainEvent):
    """The province answered a forwarded permission application (反馈, 第二十五条(二)): the gateway applies it."""

    event_type: ClassVar[str] = "sync.PermissionAnswerReceived"
    context: ClassVar[str] = "sync"

    message_id: str
    application_id: str
    decision: Literal["approved", "rejected"]
    remarks: str | None = None


class RuleLevelsReceived(DomainEvent):
    """The Ministry or the province set warning levels of rules (第二十条): alerting applies them."""

    event_type: ClassVar[str] = "sync.RuleLevelsReceived"
    context: ClassVar[str] = "sync"

    message_id: str
    levels: list[RuleLevel]
