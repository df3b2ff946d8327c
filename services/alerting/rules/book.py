"""The rules in force per fiscal year: the starter library, with the rules approved locally for that
year laid over it (same id: replaced; new id: added), at the levels set from above (第二十条). Approved rules
take effect from their year."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from backbone.clock import clock
from services.alerting.rules import Rule, starter_rules


@dataclass(frozen=True)
class YearRules:
    """A year's rules, and what every event asks of them, worked out once per refresh."""

    rules: list[Rule]
    by_id: dict[str, Rule]
    deadline: list[Rule]
    clocked: frozenset[str] = field(default_factory=frozenset)  # event types that start or meet a clock

    @classmethod
    def of(cls, rules: list[Rule]) -> "YearRules":
        deadline = [r for r in rules if r.deadline]
        return cls(rules, {r.id: r for r in rules}, deadline, frozenset(
            t for r in deadline for t in (*r.deadline.start_on, *r.deadline.expect_on)))  # type: ignore[union-attr]


class RuleBook:
    def __init__(self) -> None:
        self._approved: dict[int, dict[str, Rule]] = {}
        self._levels: dict[str, list[Any]] = {}  # rule id → the level changes set from above
        # Asked for on every event: built once per year until the next refresh.
        self._years: dict[int, YearRules] = {}

    def year(self, year: int | None = None) -> YearRules:
        year = year or clock().today().year
        found = self._years.get(year)
        if found is None:
            rules = starter_rules() | self._approved.get(year, {})
            found = self._years[year] = YearRules.of([self._leveled(rule, year) for rule in rules.values()])
        return found

    def _leveled(self, rule: Rule, year: int) -> Rule:
        """The rule at the level the Ministry or the province set for the year (第二十条), if they set one."""
        from services.alerting.rule_levels import level_in

        level = level_in(self._levels.get(rule.id, []), year)
        return rule if level is None or level is rule.level else rule.model_copy(update={"level": level})

    def for_year(self, year: int | None = None) -> list[Rule]:
        return self.year(year).rules

    def by_id(self, year: int | None = None) -> dict[str, Rule]:
        return self.year(year).by_id

    async def refresh(self, engine: AsyncEngine) -> None:
        """Reload the approved rules (after an approval here, and now and then for other replicas)."""
        from services.alerting.projections import rule_proposals
        from services.alerting.rule_levels import rule_levels

        async with engine.connect() as conn:
            rows = (await conn.execute(select(rule_proposals.c.fiscal_year, rule_proposals.c.definition)
                                       .where(rule_proposals.c.status == "approved")
                                       .order_by(rule_proposals.c.decided_at))).all()
            levels: dict[str, list[Any]] = {}
            for change in (await conn.execute(select(rule_levels))).all():
                levels.setdefault(change.rule_id, []).append(change)
        self._levels = levels
        approved: dict[int, dict[str, Rule]] = {}
        for year, definition in rows:
            rule = Rule(**definition)
            approved.setdefault(year, {})[rule.id] = rule
        self._approved = approved
        self._years = {}


RULEBOOK = RuleBook()


def rules_in_force(year: int | None = None) -> list[Rule]:
    """The rules that judge what belongs to a fiscal year (this year when not given)."""
    return RULEBOOK.for_year(year)
