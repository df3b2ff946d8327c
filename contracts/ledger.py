"""Events of the ledger context (总台账), topic `fundwatch.ledger.v1`."""

from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from contracts.envelope import DomainEvent
from contracts.values import FundNature, Level, Money


class IndicatorRegistered(DomainEvent):
    """A budget indicator (预算指标) was registered on the platform (登记)."""

    event_type: ClassVar[str] = "ledger.IndicatorRegistered"
    context: ClassVar[str] = "ledger"

    indicator_id: str
    doc_no: str = Field(description="指标文件号")
    fund_name: str = Field(description="资金名称")
    fund_nature: FundNature = Field(description="资金性质")
    function_code: str = Field(description="支出功能分类科目")
    economic_code: str = Field(description="政府支出经济分类科目")
    budget_project: str = Field(description="预算项目")
    amount: Money = Field(description="金额")
    fiscal_year: int
    level: Level
    issued_on: date | None = Field(None, description="文件印发日期")
    received_on: date | None = Field(None, description="接收日期")
    registered_on: date = Field(description="登记日期")
    owner_division: str = Field(description="主管处室")
    org_unit: str
    poverty_tag: bool = Field(description="扶贫资金标识")
    parent_id: str | None = None


class IndicatorAllocated(DomainEvent):
    """Part of an indicator was allocated (分配下达) into a child indicator."""

    event_type: ClassVar[str] = "ledger.IndicatorAllocated"
    context: ClassVar[str] = "ledger"

    indicator_id: str = Field(description="The parent indicator.")
    child_id: str
    amount: Money
    org_unit: str
    owner_division: str
    allocated_on: date = Field(description="下达日期")


class IndicatorAdjusted(DomainEvent):
    """The amount of an indicator was increased or decreased (调增 / 调减) or withdrawn (收回)."""

    event_type: ClassVar[str] = "ledger.IndicatorAdjusted"
    context: ClassVar[str] = "ledger"

    indicator_id: str
    kind: Literal["increase", "decrease", "withdrawal"]
    delta: Money = Field(description="Signed change of the amount.")
    amount_after: Money
    reason: str
    adjusted_on: date


class FundsRecovered(DomainEvent):
    """The ledger's answer to a recovery (收回资金) a red light's measure ordered: what it withdrew from the
    indicator and what it could not, because less was available than ordered (the shortfall)."""

    event_type: ClassVar[str] = "ledger.FundsRecovered"
    context: ClassVar[str] = "ledger"

    alert_id: str
    indicator_id: str
    sheet_number: str = Field(description="The disposal sheet (处理单) that ordered the recovery.")
    ordered: Money
    withdrawn: Money = Field(description="Withdrawn from the indicator (收回): at most what was available.")
    shortfall: Money = Field(description="Ordered but not withdrawn: 0 when the whole amount came back.")
    org_unit: str | None = Field(description="Routing, as the order gives it: the district concerned.")
    owner_division: str | None = Field(description="Routing, as the order gives it: the division that owns the fund.")
    at: datetime


class IndicatorDocumentAttached(DomainEvent):
    """A scanned document (指标文件扫描件) was attached to an indicator."""

    event_type: ClassVar[str] = "ledger.IndicatorDocumentAttached"
    context: ClassVar[str] = "ledger"

    indicator_id: str
    document_id: str
    sha256: str = Field(description="Address of the bytes: their SHA-256, lowercase hex.")
    media_type: str = Field(description="Type read from the bytes.")
    size: int = Field(ge=1, description="Bytes.")
    filename: str = Field(description="The uploader's file name.")
    attached_on: date


class IndicatorCorrected(DomainEvent):
    """Elements of an indicator were corrected (更正), with the reason; the amount changes only by adjustment."""

    event_type: ClassVar[str] = "ledger.IndicatorCorrected"
    context: ClassVar[str] = "ledger"

    indicator_id: str
    changes: dict[str, Any] = Field(description="The corrected elements and their new values.")
    previous: dict[str, Any] = Field(description="The same elements before the correction.")
    reason: str
    corrected_on: date


LibraryKind = Literal["regulation", "measures", "indicator_document", "notice", "other"]


class LibraryDocumentFiled(DomainEvent):
    """A document was filed in the library of regulations and notices (第十七条): a division's 扶贫资金预算管理制度
    (`regulation`), 资金管理办法 (`measures`), a 预算指标文件 it issued (`indicator_document`), a 通知 (`notice`), copied
    (抄送) to the offices in `copied_to`."""

    event_type: ClassVar[str] = "ledger.LibraryDocumentFiled"
    context: ClassVar[str] = "ledger"

    document_id: str = Field(description="Named by the bytes: the same file filed again is this document.")
    title: str
    kind: LibraryKind
    doc_no: str | None = Field(None, description="文号")
    issued_on: date | None = Field(None, description="印发日期")
    issuing_division: str | None = Field(None, description="The division that made it (制定处室).")
    fund_codes: list[str] = Field(default_factory=list, description="The funds it governs: 支出功能分类科目 codes.")
    rules: list[str] = Field(default_factory=list, description="The warning rules it bears on, by number (ZC-001).")
    sha256: str = Field(description="Address of the bytes: their SHA-256, lowercase hex.")
    media_type: str = Field(description="Type read from the bytes.")
    size: int = Field(ge=1, description="Bytes.")
    filename: str = Field(description="The uploader's file name.")
    copied_to: list[str] = Field(description="The offices it is copied to (抄送): poverty_office, treasury.")


class LibraryDocumentRead(DomainEvent):
    """An office a library document was copied to (抄送) marked it read (已阅), by one of its people."""

    event_type: ClassVar[str] = "ledger.LibraryDocumentRead"
    context: ClassVar[str] = "ledger"

    document_id: str
    office: str = Field(description="poverty_office (局脱贫办) or treasury (国库处)")
