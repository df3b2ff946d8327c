"""Disposal sheets (处理单, 认定处理单): what a person must record at each step of an alert. No I/O."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from backbone.identity import Principal
from contracts.alerting import DisposalSheet
from contracts.values import MEASURES, VERIFICATION_METHODS, VIOLATION_TYPES, AlertAction, Money
from services.alerting.lifecycle import DISTRICT, OWNER, SUPERVISION, AlertState

RESULTS: dict[AlertAction, Literal["正常", "违规"] | None] = {
    AlertAction.VERIFY_NORMAL: "正常", AlertAction.CONFIRM_VIOLATION: "违规",
    AlertAction.RECORD_CORRECTION: "违规", AlertAction.TAKE_MEASURE: "违规", AlertAction.REOPEN: None,
    AlertAction.CONCUR: None,
}
# The offices whose role alone makes them the owner of the alerts routed to them (LC-002, LC-003 …): the division
# code and the role are one name.
OFFICES = frozenset({"treasury", "budget", "poverty_office"})


class DispositionIn(BaseModel):
    """A disposal sheet as a person fills it in (national fields)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Literal["verify_normal", "confirm_violation", "record_correction", "take_measure", "reopen", "concur"]
    method: str | None = Field(None, description="核实方式: " + "、".join(VERIFICATION_METHODS))
    findings: str = Field(min_length=1, max_length=4000, description="基本情况描述")
    rectification: str | None = Field(None, max_length=4000, description="整改要求")
    violation_type: str | None = Field(None, description="违规类型: " + "、".join(VIOLATION_TYPES))
    returned_amount: Money | None = Field(None, description="退回金额")
    adjusted_amount: Money | None = Field(None, description="调账金额")
    other_amount: Money | None = Field(None, description="其他金额")
    measures: list[str] = Field(default_factory=list, description="处理措施: " + "、".join(MEASURES))
    attachments: list[str] = Field(default_factory=list, max_length=20, description="Ids of attached documents.")
    suspicious_item: bool = Field(False, description=(
        "疑点 (第二十四条(三)): on the verification of a yellow light (verify_normal, confirm_violation), that it "
        "counts as verified only once the supervision bureau concurs (action concur)."))
    circulate_against: Literal["district", "division"] | None = Field(None, description=(
        "Whom the measure 通报 circulates against: the district or the division the alert concerns (by default the "
        "district for a district's alert, the division for the city's)."))
    expected_version: int | None = Field(None, description="The alert version the sheet was filled against; "
                                                           "a newer one is a conflict, not an overwrite.")

    @field_validator("method")
    @classmethod
    def _method(cls, v: str | None) -> str | None:
        if v is not None and v not in VERIFICATION_METHODS:
            raise ValueError("expected one of " + "、".join(VERIFICATION_METHODS))
        return v

    @field_validator("violation_type")
    @classmethod
    def _violation_type(cls, v: str | None) -> str | None:
        if v is not None and v not in VIOLATION_TYPES:
            raise ValueError("expected one of the national violation types: " + "、".join(VIOLATION_TYPES))
        return v

    @field_validator("measures")
    @classmethod
    def _measures(cls, v: list[str]) -> list[str]:
        unknown = [m for m in v if m not in MEASURES]
        if unknown:
            raise ValueError(f"unknown measures {unknown}: expected " + "、".join(MEASURES))
        return v

    @field_validator("suspicious_item")
    @classmethod
    def _marks_a_verification(cls, v: bool, info: ValidationInfo) -> bool:
        if v and info.data.get("action") not in ("verify_normal", "confirm_violation"):
            raise ValueError("marks a yellow light's verification only (verify_normal, confirm_violation)")
        return v

    @field_validator("returned_amount", "adjusted_amount", "other_amount")
    @classmethod
    def _not_negative(cls, v: Money | None) -> Money | None:
        if v is not None and v < 0:
            raise ValueError("an amount cannot be negative")
        return v

    @model_validator(mode="after")
    def _what_each_step_needs(self) -> "DispositionIn":
        needed = {"verify_normal": ["method"], "confirm_violation": ["method", "violation_type", "rectification"],
                  "take_measure": ["measures"]}.get(self.action, [])
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise ValueError(f"{self.action} needs {', '.join(missing)}")
        return self

    def sheet(self, number: str, principal: Principal) -> DisposalSheet:
        return DisposalSheet(
            number=number, result=RESULTS[AlertAction(self.action)], handler=principal.subject,
            handler_org_unit=principal.org_unit, handler_division=principal.division,
            **self.model_dump(exclude={"action", "expected_version", "circulate_against"}))


def owns(principal: Principal, owner_division: str | None) -> bool:
    """Whether the person handles what the division owns (谁主管、谁负责): a competent division's people, or whoever
    holds the role of the office that owns it (预算处, 国库处, 局脱贫办), with no division role besides."""
    if owner_division is None:
        return False
    if owner_division in OFFICES and owner_division in principal.roles:
        return True
    return "division" in principal.roles and principal.division == owner_division


def relations(principal: Principal, alert: AlertState) -> frozenset[str]:
    """How a person stands to an alert: the owning division, the district concerned, the supervision bureau."""
    found = set()
    if owns(principal, alert.owner_division):
        found.add(OWNER)
    if "district" in principal.roles and principal.org_unit and principal.org_unit == alert.org_unit:
        found.add(DISTRICT)
    if "supervision" in principal.roles:
        found.add(SUPERVISION)
    return frozenset(found)


def sheet_number(year: int, serial: int) -> str:
    """CLD-2026-000123: 处理单 numbered per year."""
    return f"CLD-{year}-{serial:06d}"
