"""Warning rules (预警规则) as data, in the shape of the rule application form (附件2).

Three kinds (DESIGN §4): an **event** rule judges one record as it arrives; a **window** rule
judges it together with earlier records of the same group (payee, indicator) in a period; a
**deadline** rule expects one event within a time of another and rings a bell before the time
runs out. What a rule tests is a condition in the expression language of `expressions`.
"""

import json
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from backbone.workdays import period_end
from contracts.values import AlertLevel, RuleCategory
from services.alerting.rules.expressions import PLACEHOLDER, Expression, ExpressionError
from services.alerting.rules.facts import undocumented

STARTER_LIBRARY = Path(__file__).with_name("starter.json")
log = structlog.get_logger(__name__)


class WindowSpec(BaseModel):
    """Which earlier payments a window rule looks at together with the one arriving."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group_by: Literal["payee", "indicator"] = Field(description="Payments to the same payee, or on one indicator.")
    where: dict[str, str] = Field(default_factory=dict, description=(
        "Only payments with these field values: the rule judges such a payment, looking back at the others like it."))
    same: list[str] = Field(default_factory=list, description="Only payments with the same value of these fields.")
    period: Literal["month", "days"] = Field(description="The Beijing calendar month, or the last `days` days.")
    days_parameter: str | None = Field(None, description="The parameter holding the number of days.")


class DeadlineSpec(BaseModel):
    """An expected event within a time of another: the bell before, the light after."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_on: list[str] = Field(description="The event types that start the clock.")
    start_when: str = Field("True", description="Only starts the clock when this holds (facts: event, event_type, "
                                                "params).")
    per_step: bool = Field(False, description="A new clock for each starting event of the same subject "
                                              "(e.g. each step of an alert), instead of one per subject.")
    subject_path: str = Field("indicator_id", description="Where the starting event names the subject.")
    due_from: list[str] = Field(description="The facts whose date the time counts from: the first one present.")
    days_parameter: str = Field(description="The parameter holding the number of days.")
    calendar: Literal["working", "calendar"] = Field(description="Working days (the seed) or calendar days (the law).")
    expect_on: list[str] = Field(description="Event types that can meet the expectation.")
    expect_path: str = Field("indicator_id", description="Where an expected event names the subject.")
    expect_when: str = Field("True", description="The expectation is met when this holds (facts: event, params).")
    bell_parameter: str | None = Field(None, description="The parameter holding how many working days before the "
                                                        "deadline the bell rings; none: no bell.")
    points_parameter: str | None = Field(None, description=(
        "The parameter listing reporting points of the fiscal year as periods without the year (06, Q2, H1): "
        "one clock per point whose period ends on or after the `due_from` date, counting from the period's end, "
        "and met only by an expected event whose `expect_point_path` is that period's end."))
    expect_point_path: str = Field("period_end", description="Where an expected event names the end of its period.")
    late_clears: str | None = Field(None, description=(
        "The reason a late expected event clears the light with, when the light said that something was missing "
        "which then came (ZC-009: an indicator registered after a payment named it); none: late work does not "
        "undo a light."))


class Rule(BaseModel):
    """One row of 附件2: 规则名称, 规则分类, 预警级别, 规则描述, 规则依据, 适用范围, 预警处理人, and how it is judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    number: str
    name: str = Field(description="规则名称")
    category: RuleCategory = Field(description="规则分类")
    level: AlertLevel = Field(description="预警级别 (for a deadline rule: the level once time has run out)")
    kind: Literal["event", "window", "deadline"]
    description: str = Field(description="规则描述")
    basis: str = Field(description="规则依据")
    scope: list[str] = Field(description="适用范围: org units, * for all")
    handler: str = Field(description="预警处理人")
    action: str = Field("预警提示", description="控制方式")
    national: bool = Field(False, description="Level fixed by the Ministry of Finance (第二十条): not changed locally.")
    parameters: dict[str, Any] = Field(default_factory=dict)
    on: list[str] = Field(default_factory=list, description="Event types an event or window rule judges.")
    subject: Literal["payment", "indicator", "payee", "alert", "cycle", "org_unit", "division", "month",
                     "issued_indicator", "filing"] = Field(
        "payment", description="What the alert is about (a cycle: a party's step in the yearly rule cycle; a division "
                               "or a month: the monthly report owed by a division, or the city's of a month; an "
                               "issued indicator: a document of 指标下达 from the province, by its issue_id; a "
                               "filing: a performance filing returned for rectification, by its filing_id).")
    when: str | None = Field(None, description="The condition of a breach (event and window rules).")
    summary: str = Field(description="The explanation in plain words, with {fact.path} placeholders of facts a rule "
                                     "may show (services/alerting/rules/facts.py).")
    values: list[str] = Field(default_factory=list, description="Facts shown with the alert, as dotted paths of "
                                                                "facts a rule may show.")
    window: WindowSpec | None = None
    deadline: DeadlineSpec | None = None

    _when: Expression | None = PrivateAttr(None)
    _start_when: Expression | None = PrivateAttr(None)
    _expect_when: Expression | None = PrivateAttr(None)
    _params: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("summary")
    @classmethod
    def _summary_shows_documented_facts(cls, summary: str, info: ValidationInfo) -> str:
        for path in PLACEHOLDER.findall(summary):
            if fault := undocumented(path, info.data.get("parameters", {})):
                raise ValueError(f"{{{path}}}: {fault}")
        return summary

    @field_validator("values")
    @classmethod
    def _values_are_documented_facts(cls, values: list[str], info: ValidationInfo) -> list[str]:
        for n, path in enumerate(values):
            if fault := undocumented(path, info.data.get("parameters", {})):
                raise ValueError(f"values[{n}]: {fault}")
        return values

    @model_validator(mode="after")
    def _kind_has_its_parts(self) -> "Rule":
        if self.kind in ("event", "window") and not (self.on and self.when):
            raise ValueError(f"an {self.kind} rule needs `on` and `when`")
        if self.kind == "window" and self.window is None:
            raise ValueError("a window rule needs `window`")
        if self.kind == "deadline" and self.deadline is None:
            raise ValueError("a deadline rule needs `deadline`")
        if self.deadline is not None and self.deadline.points_parameter is not None:
            points = self.parameters.get(self.deadline.points_parameter)
            if not isinstance(points, list) or not points:
                raise ValueError(f"parameter {self.deadline.points_parameter} lists the reporting points, e.g. "
                                 '["H1"] or ["Q1", "H1", "Q3"]')
            for point in points:
                try:
                    period_end(f"2000-{point}")
                except ValueError:
                    raise ValueError(f"reporting point {point!r}: expected a month (06), quarter (Q2) or half (H1)"
                                     ) from None
        return self

    def model_post_init(self, _: Any) -> None:
        # Parsed once: a condition that does not parse keeps the rule out of force.
        self._when = Expression(self.when) if self.when else None
        if self.deadline is not None:
            self._start_when = Expression(self.deadline.start_when)
            self._expect_when = Expression(self.deadline.expect_when)
        self._params = {name: _parameter(value) for name, value in self.parameters.items()}

    # Read from pydantic's store of private attributes at once: its `__getattr__` for `self._when` cost a tenth of
    # a payment's judgment (every rule, every payment).
    @property
    def condition(self) -> Expression | None:
        return self.__pydantic_private__["_when"]

    @property
    def start_condition(self) -> Expression | None:
        return self.__pydantic_private__["_start_when"]

    @property
    def expect_condition(self) -> Expression | None:
        return self.__pydantic_private__["_expect_when"]

    @property
    def params(self) -> dict[str, Any]:
        """Parameters as conditions see them: decimal strings as Decimal."""
        return self.__pydantic_private__["_params"]

    def holds(self, condition: Expression, facts: Mapping[str, Any], *, strict: bool = False) -> bool:
        """Whether one of this rule's conditions holds on the facts. A condition that cannot be evaluated on
        them (an approved rule written against facts of another shape) holds for nobody and is logged: it must
        never stop the events it judges. `strict` (a backtest) raises ExpressionError instead."""
        try:
            return bool(condition.evaluate(facts))
        except ExpressionError as exc:
            if strict:
                raise
            log.warning("rule.unevaluable", rule_id=self.id, number=self.number, error=str(exc))
            return False

    def applies_to(self, org_unit: str | None) -> bool:
        return "*" in self.scope or org_unit in self.scope



def _parameter(value: Any) -> Any:
    # Amounts are written with their decimal point ("1000.00") and become Decimal; codes ("220100") stay text.
    if isinstance(value, str):
        if "." in value and value.replace(".", "", 1).lstrip("-").isdigit():
            try:
                return Decimal(value)
            except InvalidOperation:
                return value
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [_parameter(v) for v in value]
    return value


@cache
def starter_rules() -> dict[str, Rule]:
    """The rule library shipped with FundWatch, by rule id."""
    return {r["id"]: Rule(**r) for r in json.loads(STARTER_LIBRARY.read_text(encoding="utf-8"))}
