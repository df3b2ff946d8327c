"""Performance goals (绩效目标) and their indicators (绩效指标): the national three-level frame, comparison
of actual against target, deviation, measuring a report's actuals, money progress, and the year-end
self-evaluation score. No I/O.

Deviation is a signed share of the target, exact to four places: negative when an indicator falls
short (≥ and the lower bound of a range), positive when it overruns (≤ and the upper bound). A
target of zero has no share: the deviation is then None and any difference counts as severe.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from backbone.errors import InvalidInput, fault
from backbone.lifecycle import next_state
from backbone.workdays import period_end

FOUR = Decimal("0.0001")
ONE, ZERO = Decimal("1"), Decimal("0")
SEVERE_SHARE = Decimal("0.20")  # a deviation beyond a fifth of the target is 严重偏离

# 一级指标 → 二级指标 (the national frame)
FRAME: dict[str, tuple[str, ...]] = {
    "产出指标": ("数量指标", "质量指标", "时效指标", "成本指标"),
    "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"),
    "满意度指标": ("服务对象满意度指标",),
}


class Comparison(StrEnum):
    AT_LEAST = "gte"  # ≥
    AT_MOST = "lte"  # ≤
    EQUAL = "eq"  # =
    RANGE = "range"  # 区间
    QUALITATIVE = "qualitative"  # 定性


class Grade(StrEnum):
    """A qualitative indicator's result."""

    ACHIEVED = "achieved"  # 达成
    PARTLY = "partly"  # 部分达成
    NOT_ACHIEVED = "not_achieved"  # 未达成


GRADE_SHARE = {Grade.ACHIEVED: ONE, Grade.PARTLY: Decimal("0.5"), Grade.NOT_ACHIEVED: ZERO}


class IndicatorTarget(BaseModel):
    """One 绩效指标: its place in the frame, how it is compared, its target, unit and weight."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    level1: str = Field(description="一级指标: " + "、".join(FRAME))
    level2: str = Field(description="二级指标")
    name: str = Field(min_length=1, max_length=200, description="三级指标")
    comparison: Comparison
    target: Decimal | None = Field(None, description="The target for ≥, ≤ and =.")
    target_low: Decimal | None = Field(None, description="Lower bound of a range.")
    target_high: Decimal | None = Field(None, description="Upper bound of a range.")
    target_text: str | None = Field(None, max_length=500, description="The target in words, for a qualitative one.")
    unit: str = Field("", max_length=20, description="计量单位")
    weight: Decimal = Field(gt=0, le=100, description="分值权重; a goal's weights add up to 100.")

    @field_validator("level1")
    @classmethod
    def _level1(cls, v: str) -> str:
        if v not in FRAME:
            raise ValueError("expected one of " + "、".join(FRAME))
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "IndicatorTarget":
        if self.level2 not in FRAME[self.level1]:
            raise ValueError(f"level2 of {self.level1} is one of " + "、".join(FRAME[self.level1]))
        needs = {Comparison.RANGE: ("target_low", "target_high"), Comparison.QUALITATIVE: ("target_text",)}.get(
            self.comparison, ("target",))
        missing = [n for n in needs if getattr(self, n) in (None, "")]
        if missing:
            raise ValueError(f"a {self.comparison.value} indicator needs {', '.join(missing)}")
        if self.comparison is Comparison.RANGE and self.target_low > self.target_high:  # type: ignore[operator]
            raise ValueError("target_low is above target_high")
        return self


class Outcome(BaseModel):
    """How an actual value compares with its target."""

    met: bool
    deviation: Decimal | None = Field(description="Signed share of the target; None for a zero target.")
    severe: bool = Field(description="Beyond the tolerated deviation (a zero target: any difference).")
    achievement: Decimal = Field(description="Share of the indicator's weight earned, 0 to 1.")


def _share(diff: Decimal, base: Decimal) -> Decimal | None:
    return None if base == 0 else (diff / abs(base)).quantize(FOUR, ROUND_HALF_UP)


def compare(indicator: IndicatorTarget, actual: Decimal | Grade, tolerance: Decimal) -> Outcome:
    """An actual value against its indicator's target; `tolerance` is the share beyond which it is severe."""
    if indicator.comparison is Comparison.QUALITATIVE:
        grade = Grade(actual)
        share = GRADE_SHARE[grade]
        return Outcome(met=grade is Grade.ACHIEVED, deviation=(share - ONE).quantize(FOUR),
                       severe=grade is Grade.NOT_ACHIEVED, achievement=share)
    if not isinstance(actual, Decimal):
        raise ValueError("a quantitative indicator needs a number")
    if indicator.comparison is Comparison.RANGE:
        low, high = indicator.target_low, indicator.target_high
        assert low is not None and high is not None
        if low <= actual <= high:
            return Outcome(met=True, deviation=ZERO.quantize(FOUR), severe=False, achievement=ONE)
        bound = low if actual < low else high
        return _off(actual - bound, bound, tolerance)
    target = indicator.target
    assert target is not None
    met = {Comparison.AT_LEAST: actual >= target, Comparison.AT_MOST: actual <= target,
           Comparison.EQUAL: actual == target}[indicator.comparison]
    if met:
        return Outcome(met=True, deviation=ZERO.quantize(FOUR), severe=False, achievement=ONE)
    return _off(actual - target, target, tolerance)


def _off(diff: Decimal, base: Decimal, tolerance: Decimal) -> Outcome:
    deviation = _share(diff, base)
    if deviation is None:
        return Outcome(met=False, deviation=None, severe=True, achievement=ZERO)
    achievement = max(ZERO, ONE - abs(deviation)).quantize(FOUR)
    return Outcome(met=False, deviation=deviation, severe=abs(deviation) > tolerance, achievement=achievement)


def check_weights(indicators: list[IndicatorTarget]) -> list[dict[str, Any]]:
    """Faults of a goal's indicators as a whole: weights add up to 100, names are unique."""
    faults = []
    total = sum((i.weight for i in indicators), ZERO)
    if total != 100:
        faults.append(fault("indicators", f"the weights add up to {total}, not 100"))
    names = [i.name for i in indicators]
    faults += [fault(f"indicators[{n}].name", "the same name twice")
               for n, name in enumerate(names) if name in names[:n]]
    if not any(i.level1 == "产出指标" for i in indicators):
        faults.append(fault("indicators", "at least one 产出指标 is required"))
    return faults


def score(indicators: list[IndicatorTarget], outcomes: list[Outcome]) -> tuple[Decimal, str]:
    """Self-evaluation (自评): the points earned out of 100 and the grade 优 (≥90), 良 (≥80), 中 (≥60), 差."""
    total = sum((i.weight * o.achievement for i, o in zip(indicators, outcomes, strict=True)), ZERO)
    total = total.quantize(Decimal("0.01"), ROUND_HALF_UP)
    grade = "优" if total >= 90 else "良" if total >= 80 else "中" if total >= 60 else "差"
    return total, grade


class FilingStatus(StrEnum):
    """Where a filing (goals, an execution report, a self-evaluation) stands with its reviewer."""

    NONE = "none"  # not filed yet
    FILED = "filed"  # 待审核
    ACCEPTED = "accepted"  # 审核通过: final
    RETURNED = "returned"  # 退回整改


class FilingStep(StrEnum):
    FILE = "file"
    ACCEPT = "accept"
    RETURN = "return"


# A filing may be filed again while it waits (the newer replaces it) and after a return (a resubmission).
FILING_TRANSITIONS: dict[tuple[FilingStatus, FilingStep], FilingStatus] = {
    (FilingStatus.NONE, FilingStep.FILE): FilingStatus.FILED,
    (FilingStatus.FILED, FilingStep.FILE): FilingStatus.FILED,
    (FilingStatus.RETURNED, FilingStep.FILE): FilingStatus.FILED,
    (FilingStatus.FILED, FilingStep.ACCEPT): FilingStatus.ACCEPTED,
    (FilingStatus.FILED, FilingStep.RETURN): FilingStatus.RETURNED,
}


def check_filing(status: str | None) -> bool:
    """Whether a filing may be filed now (an accepted one is final); True when it is a resubmission."""
    now = FilingStatus(status or FilingStatus.NONE)
    next_state(FILING_TRANSITIONS, now, FilingStep.FILE, what="the filing", where=now.value)
    return now is FilingStatus.RETURNED


def check_review(status: str | None, decision: str) -> FilingStatus:
    """Where a review's decision ("accepted" or "returned") takes the filing: only a filed one is reviewed,
    and a returned one must be resubmitted first."""
    now = FilingStatus(status or FilingStatus.NONE)
    step = FilingStep.ACCEPT if decision == "accepted" else FilingStep.RETURN
    return next_state(FILING_TRANSITIONS, now, step, what="the filing", where=now.value)


def parse_actual(indicator: IndicatorTarget, value: Any) -> Decimal | Grade:
    """An actual value as the indicator compares it: a grade for a qualitative one, else an exact number."""
    if indicator.comparison is Comparison.QUALITATIVE:
        return Grade(value)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("a number written as text, e.g. '120' or '0.95'")
    return Decimal(str(value))


def filing_id_of(goal_id: str, filing: str) -> str:
    """One name for a filing across its filings and reviews: `goals` and `evaluation` of the goal, or a report's id
    (which names its goal already)."""
    return filing if filing not in ("goals", "evaluation") else f"{goal_id}/{filing}"


def returns_of(history: list[tuple[str, dict[str, Any]]], filing: str) -> int:
    """How many times the filing (`goals`, `evaluation` or a report_id) was returned, from its goal's events."""
    return sum(1 for event_type, payload in history if event_type == "performance.FilingReviewed"
               and payload.get("filing") == filing and payload.get("decision") == "returned")


def return_id_of(goal_id: str, filing: str, n: int) -> str:
    """The n-th return of a filing: the name its 整改期限 clock (JX-004) and the answering filing share."""
    return f"{filing_id_of(goal_id, filing)}#{n}"


def goal_id_for(indicator_id: str) -> str:
    """One goal per indicator: setting goals again revises them."""
    return str(uuid5(NAMESPACE_URL, f"fundwatch:goal:{indicator_id}"))


@dataclass(frozen=True)
class Measured:
    """One reported actual against its indicator."""

    target: IndicatorTarget
    outcome: Outcome
    actual: str  # as reported, as text

    @property
    def points(self) -> Decimal:
        """The part of the indicator's weight it earned, to the hundredth of a point."""
        return (self.target.weight * self.outcome.achievement).quantize(Decimal("0.01"))


def measure(indicators: list[dict[str, Any]], actuals: list[tuple[str, str | int]]) -> list[Measured]:
    """Each (name, actual) against the goal's indicator of that name; every fault reported at once, by the
    actual's index."""
    targets = {i["name"]: IndicatorTarget(**i) for i in indicators}
    measured, faults, seen = [], [], set()
    for n, (name, actual) in enumerate(actuals):
        target = targets.get(name)
        if target is None:
            faults.append(fault(f"actuals[{n}].name", "not an indicator of this goal"))
            continue
        if name in seen:
            # Counted twice, an indicator would earn its weight twice in the self-evaluation.
            faults.append(fault(f"actuals[{n}].name", "the same indicator twice"))
            continue
        seen.add(name)
        try:
            measured.append(Measured(target, compare(target, parse_actual(target, actual), SEVERE_SHARE), str(actual)))
        except (ValueError, ArithmeticError, ValidationError) as exc:
            faults.append(fault(f"actuals[{n}].actual", str(exc).splitlines()[0]))
    if faults:
        raise InvalidInput("the actuals have faults", errors=faults)
    return measured


def unmeasured(indicators: list[dict[str, Any]], measured: list[Measured]) -> list[str]:
    """The names of the goal's indicators no actual was given for, sorted."""
    return sorted({i["name"] for i in indicators} - {m.target.name for m in measured})


def fiscal_period_end(period: str, fiscal_year: int) -> date:
    """The last day of a reporting period of the goal's fiscal year; ValueError naming the fault."""
    end = period_end(period)
    if end.year != fiscal_year:
        raise ValueError(f"the goal is for {fiscal_year}")
    return end


def money_progress(amount: Decimal | None, paid: Decimal, refunded: Decimal) -> Decimal | None:
    """支出进度: paid less refunded over the indicator's amount, to four places; None without an amount."""
    return ((paid - refunded) / amount).quantize(FOUR) if amount else None
