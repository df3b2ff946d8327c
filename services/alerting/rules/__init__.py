"""Warning rules (预警规则) as data, in the shape of the rule application form (附件2)."""

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.values import AlertLevel, RuleCategory

STARTER_LIBRARY = Path(__file__).with_name("starter.json")


class Rule(BaseModel):
    """One row of 附件2: 规则名称, 规则分类, 预警级别, 规则描述, 规则依据, 适用范围, 预警处理人."""

    model_config = ConfigDict(frozen=True)

    id: str
    number: str
    name: str = Field(description="规则名称")
    category: RuleCategory = Field(description="规则分类")
    level: AlertLevel = Field(description="预警级别")
    kind: str = Field(description="event, window or deadline")
    description: str = Field(description="规则描述")
    basis: str = Field(description="规则依据")
    scope: list[str] = Field(description="适用范围: org units, * for all")
    handler: str = Field(description="预警处理人")
    national: bool = Field(False, description="Level fixed by the Ministry (第二十条).")
    parameters: dict[str, Any] = Field(default_factory=dict)

    def applies_to(self, org_unit: str | None) -> bool:
        return "*" in self.scope or org_unit in self.scope

    def decimal(self, name: str) -> Decimal:
        return Decimal(str(self.parameters[name]))


@cache
def starter_rules() -> dict[str, Rule]:
    """The rule library shipped with FundWatch, by rule id."""
    return {r["id"]: Rule(**r) for r in json.loads(STARTER_LIBRARY.read_text(encoding="utf-8"))}
