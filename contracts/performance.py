"""Events of the performance context (绩效), topic `fundwatch.performance.v1`.

Each event names the budget indicator, its org unit and owner division, so that alerting can route
and judge without asking (JX rules: goals missing, severe deviation, report missing).
"""

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import DomainEvent


class GoalScope(BaseModel):
    """Where a goal belongs: the indicator it is set for, and who answers for it."""

    model_config = ConfigDict(frozen=True)

    goal_id: str
    indicator_id: str
    fiscal_year: int
    org_unit: str
    owner_division: str


class Filed(GoalScope):
    """What a filing carries besides its scope: the return it answers, if it is filed again after one."""

    answers_return: str | None = Field(None, description=(
        "The return this filing answers (the return_id of the FilingReviewed that returned it): what the return's "
        "整改期限 clock waits for (JX-004). None for a first filing, and in events stored before it was carried."))


class GoalsSet(DomainEvent, Filed):
    """Performance goals and indicators (绩效目标, 绩效指标) were set, or set again after a return."""

    event_type: ClassVar[str] = "performance.GoalsSet"
    context: ClassVar[str] = "performance"

    goal: str = Field(description="绩效目标 in words")
    indicators: list[dict[str, Any]] = Field(description="绩效指标: level1, level2, name, comparison, target, unit, weight")
    resubmission: bool = Field(False, description="Filed again after the budget division returned it.")


class IndicatorOutcome(BaseModel):
    name: str
    actual: str
    met: bool
    deviation: Decimal | None
    severe: bool


class ProgressReported(DomainEvent, Filed):
    """An execution report (执行情况) for a period, with the deviation of each indicator measured."""

    event_type: ClassVar[str] = "performance.ProgressReported"
    context: ClassVar[str] = "performance"

    report_id: str = Field(description="<goal>-<period>: one report per goal and period")
    period: str = Field(description="e.g. 2026-06, 2026-Q2, 2026-H1 (双监控)")
    period_end: date
    outcomes: list[IndicatorOutcome]
    severe_count: int
    explanation: str = Field(description="偏差原因")
    measures: str = Field(description="纠偏措施")
    time_progress: Decimal = Field(description="Share of the year gone by at the period's end.")
    money_progress: Decimal | None = Field(description="Paid less refunded over the indicator's amount, as known.")
    resubmission: bool = False


class FilingReviewed(DomainEvent, GoalScope):
    """The budget division (预算绩效管理办公室) accepted a filing or returned it with reasons (第十一条(五))."""

    event_type: ClassVar[str] = "performance.FilingReviewed"
    context: ClassVar[str] = "performance"

    filing: str = Field(description="goals, evaluation, or the report_id of an execution report")
    decision: Literal["accepted", "returned"]
    reasons: str
    rectify_by: date | None = Field(None, description="限期整改: the date a returned filing is due again.")
    return_id: str | None = Field(None, description=(
        "A return's own name, <filing>#<n> for the filing's n-th return (<filing>: <goal_id>/goals, "
        "<goal_id>/evaluation or a report_id); the filing that answers it names it. None for an acceptance."))


class IndicatorScore(IndicatorOutcome):
    weight: Decimal
    score: Decimal = Field(description="weight × achievement")


class SelfEvaluated(DomainEvent, Filed):
    """The year-end self-evaluation (绩效自评): a score per indicator, the total out of 100, grade and conclusion."""

    event_type: ClassVar[str] = "performance.SelfEvaluated"
    context: ClassVar[str] = "performance"

    scores: list[IndicatorScore]
    total: Decimal
    grade: Literal["优", "良", "中", "差"]
    conclusion: str
    resubmission: bool = False
