"""Value types and codes shared by every context (DESIGN §5 "Field names and codes")."""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from annotated_types import Interval
from pydantic import AfterValidator, Field, PlainSerializer

# 财政年度: the platform's years (a query or body with another is refused before it reaches a query).
FiscalYear = Annotated[int, Interval(ge=2000, le=2100)]

YUAN = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000000")


def _exact_cents(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    # The range first: quantizing a number of more than 28 digits is itself an error (decimal.InvalidOperation).
    if abs(value) >= MAX_AMOUNT:
        raise ValueError(f"amount is out of range: less than {MAX_AMOUNT} 元 is required")
    if value != value.quantize(YUAN):
        raise ValueError("amount has more than 2 decimal places (元 to the fen)")
    return value.quantize(YUAN)


Money = Annotated[
    Decimal,
    AfterValidator(_exact_cents),
    PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json"),
    Field(
        description="Amount in 元 with exactly 2 decimal places; a decimal string in JSON.",
        examples=["1000.00"],
        json_schema_extra={"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$"},
    ),
]


def money(value: str | int | Decimal) -> Decimal:
    """An exact amount in 元."""
    return _exact_cents(Decimal(value))


class FundNature(StrEnum):
    """资金性质."""

    GENERAL_BUDGET = "general_budget"
    GOV_FUND = "gov_fund"
    STATE_CAPITAL = "state_capital"
    OTHER = "other"


class Level(StrEnum):
    """Level of origin of an indicator (中央 / 省 / 市 / 区)."""

    CENTRAL = "central"
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"


class SettlementMethod(StrEnum):
    """结算方式."""

    TRANSFER = "transfer"
    CASH = "cash"
    CHECK = "check"
    OFFICIAL_CARD = "official_card"
    OTHER = "other"


class PaymentMethod(StrEnum):
    """支付方式: 直接支付, 授权支付, 实拨."""

    DIRECT = "direct"
    AUTHORIZED = "authorized"
    ALLOCATED = "allocated"


class PayeeType(StrEnum):
    """Payee is a person (到人到户) or an organisation."""

    PERSON = "person"
    ORGANIZATION = "organization"


class Registry(StrEnum):
    """The registries of people (外部信息) payments are matched against."""

    POOR_POPULATION = "poor_population"  # 建档立卡贫困人口
    PUBLIC_EMPLOYEES = "public_employees"  # 财政供养人员


class PovertyStatus(StrEnum):
    """Status of a registered poor person (建档立卡)."""

    NOT_LIFTED = "not_lifted"  # 未脱贫
    LIFTED = "lifted"  # 已脱贫
    MONITORED = "monitored"  # 返贫监测 / 防止返贫监测对象


class AlertLevel(StrEnum):
    """The three warning levels of 第十九条."""

    YELLOW_BELL = "yellow_bell"
    YELLOW = "yellow"
    RED = "red"


class AlertStatus(StrEnum):
    """Where an alert stands: open, or closed green / cleared."""

    OPEN = "open"
    GREEN = "green"
    CLEARED = "cleared"


class AlertAction(StrEnum):
    """What moves an alert (one transition table, `services.alerting.lifecycle`)."""

    CLEAR = "clear"  # 自动消除: the expected work was done in time, or what a light missed came after all
    ESCALATE = "escalate"  # 黄色警铃到期转为黄灯或红灯
    VERIFY_NORMAL = "verify_normal"  # 黄灯核实为正常 → 绿灯
    CONFIRM_VIOLATION = "confirm_violation"  # 黄灯确认为违规 → 红灯
    RECORD_CORRECTION = "record_correction"  # 红灯已纠正 → 绿灯
    TAKE_MEASURE = "take_measure"  # 严重违规的处理措施 (红灯不变)
    REOPEN = "reopen"  # 监督局重新开启
    CONCUR = "concur"  # 监督局会同核实疑点 (第二十四条(三)): the bureau concurs with the division's verification


VIOLATION_TYPES: tuple[str, ...] = (
    "预算下达不及时", "滞留闲置", "挤占挪用", "扩大开支范围、提高开支标准", "划转至财政专户、单位或乡镇实有资金账户",
    "以拨代支、虚列支出", "虚报、冒领、套取", "违规发放工资、奖金、津补贴", "监控平台数据不完整、不真实", "其他",
)
VERIFICATION_METHODS: tuple[str, ...] = ("电话核实", "调阅材料", "实地核查", "系统比对", "其他")
MEASURES: tuple[str, ...] = ("收回资金", "暂缓拨付", "通报", "约谈", "移交监督局", "移交有关部门")
# What the supervision bureau decides on a case referred to it (移交).
REFERRAL_DECISIONS: tuple[str, ...] = ("立案查处", "责令整改", "移送纪检监察机关", "不予追究")


class RuleCategory(StrEnum):
    """规则分类 of the rule application form (附件2)."""

    INDICATOR = "指标管理"
    SPENDING = "支出管理"
    PERFORMANCE = "绩效管理"
    PER_PERSON = "到人到户"
    WORKFLOW = "工作流程"  # 附件2 lists its classes with 等: handling of alerts and the yearly cycle


ORG_UNITS: dict[str, str] = {
    "220100": "长春市本级",
    "220102": "南关区",
    "220103": "宽城区",
    "220104": "朝阳区",
    "220105": "二道区",
    "220106": "绿园区",
    "220112": "双阳区",
    "220113": "九台区",
    "220171": "长春经济技术开发区",
    "220172": "长春净月高新技术产业开发区",
    "220173": "长春高新技术产业开发区",
    "220174": "长春汽车经济技术开发区",
}

DIVISIONS: dict[str, str] = {
    "treasury": "国库处",
    "budget": "预算处",
    "agriculture": "农业处",
    "social_security": "社会保障处",
    "education": "教科文处",
    "economic": "经济建设处",
    "supervision": "监督局",
    "info_center": "信息中心",
    "poverty_office": "局脱贫办",
}

CITY_ORG_UNIT = "220100"


def _org_unit(code: str) -> str:
    if code not in ORG_UNITS:
        raise ValueError("unknown org unit")
    return code


def _division(code: str) -> str:
    if code not in DIVISIONS:
        raise ValueError("unknown division; one of " + ", ".join(DIVISIONS))
    return code


# Codes of the seeded reference data, checked where they come in.
OrgUnitCode = Annotated[str, AfterValidator(_org_unit)]
DivisionCode = Annotated[str, AfterValidator(_division)]
