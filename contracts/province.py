"""The exchange with the provincial platform (省级平台数据交换, 第十四条(一)): what each message carries, the envelope
it travels in, its signature and the province's receipt (回执). The JSON Schemas in `contracts/exchange/` are
generated from these models (`python -m contracts.generate`); the province validates against them.

A message is signed with Ed25519 over its canonical JSON (UTF-8, keys sorted, no spaces) without the signature
itself, under a key the province knows by its `key_id`. Amounts travel as decimal strings, never as numbers, so
that every party reads and signs the same text."""

import base64
import json
from functools import cache
from pathlib import Path
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidSignature
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from contracts.gateway import PermissionForm
from contracts.keys import signing_key, verifying_key
from contracts.values import AlertLevel, AlertStatus, Money

Share = Annotated[
    Decimal,
    PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json"),
    Field(description="A share as a decimal string with 4 places (0.2500 is a quarter).", examples=["0.2500"],
          json_schema_extra={"type": "string", "pattern": r"^-?\d+\.\d{4}$"}),
]


class MessageKind(StrEnum):
    """What a message exchanged with the province is: out to it, or in from it (INBOUND)."""

    DAILY_ROLLUP = "daily_rollup"  # 日报: 第二十六条(二)
    MONTHLY_REPORT = "monthly_report"  # 月报: 第二十四条(二), co-signed by the poverty office (第二十七条)
    PERMISSION_APPLICATION = "permission_application"  # 附件3 forwarded by the treasury: 第二十五条(二)
    RULE_SUBMISSION = "rule_submission"  # 附件1 and 附件2 of a fiscal year: 第十六条
    INDICATORS_ISSUED = "indicators_issued"  # 指标下达 by the central and provincial governments
    RECEIPT = "receipt"  # 回执 or 退回 of an earlier message of the city
    PERMISSION_ANSWER = "permission_answer"  # 反馈 on a forwarded 附件3: 第二十五条(二)
    RULE_LEVELS = "rule_levels"  # 预警级别 set by the Ministry and the province: 第二十条


INBOUND = frozenset({MessageKind.INDICATORS_ISSUED, MessageKind.RECEIPT, MessageKind.PERMISSION_ANSWER,
                     MessageKind.RULE_LEVELS})


class FundFigures(BaseModel):
    """One fund of a district on one day, as of the day's end: its money from the year's start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fund_name: str = Field(description="资金名称")
    received: Money = Field(description="Indicators received by the district (下达到本区的指标), adjustments included.")
    allocated: Money = Field(description="Passed on to other org units (分配下达).")
    paid: Money = Field(description="支付金额")
    refunded: Money = Field(description="退回金额")
    available: Money = Field(description="received − allocated − paid + refunded (可用余额)")
    payment_progress: Share | None = Field(description="(paid − refunded) / received (支付进度); null when nothing "
                                                       "was received.")


class AlertCount(BaseModel):
    """How many of the district's alerts stood at a level and status at the day's end (预警)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: AlertLevel
    status: AlertStatus
    count: int = Field(ge=1)


class FilingCount(BaseModel):
    """How many performance filings (绩效) of the district stood at a status at the day's end."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filing: str = Field(description="goals (绩效目标), report (执行情况) or evaluation (绩效自评)")
    status: str = Field(description="filed, accepted or returned")
    count: int = Field(ge=1)


class DistrictFigures(BaseModel):
    """A district's day (日报): each fund, the totals, its alerts and its performance filings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org_unit: str
    org_unit_name: str
    fiscal_year: int
    funds: list[FundFigures] = Field(description="By fund name.")
    totals: FundFigures = Field(description="Every fund together (fund_name 合计).")
    alerts: list[AlertCount]
    filings: list[FilingCount]


class DailyRollup(BaseModel):
    """The payload of a `daily_rollup` message: one district's day, in its version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    city: str = Field(description="The sending city's org unit code.")
    rollup_date: date
    version: int = Field(ge=1, description="A later version corrects an earlier one of the same day and district.")
    computed_at: datetime
    figures: DistrictFigures


class DistrictMonth(BaseModel):
    """A district's money in a monthly report: each fund and the totals, as of the month's end."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org_unit: str
    org_unit_name: str
    funds: list[FundFigures] = Field(description="By fund name.")
    totals: FundFigures


class RaisedCount(BaseModel):
    """How many alerts of a rule were raised at a level during the month (预警)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: AlertLevel
    rule_number: str
    count: int = Field(ge=1)


class OpenAlert(BaseModel):
    """An alert still open at the month's end, and for how many working days it has been."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_id: str
    level: AlertLevel
    rule_number: str
    org_unit: str | None
    working_days: int = Field(ge=0, description="Working days (Beijing) from its raising to the month's end.")


class AlertSummary(BaseModel):
    """The month's alerts: raised by level and rule, handled (green / red), still open."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    raised: list[RaisedCount]
    handled_green: int = Field(ge=0, description="Closed green during the month (核实正常, 已纠正).")
    handled_red: int = Field(ge=0, description="Confirmed violations (确认违规 → 红灯) during the month.")
    still_open: list[OpenAlert]


class MeasureCount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    measure: str = Field(description="处理措施")
    count: int = Field(ge=1)


class DisposalSummary(BaseModel):
    """The month's disposal outcomes (处理结果)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    violations_confirmed: int = Field(ge=0)
    recovered: Money = Field(description="退回金额 of the month's disposal sheets (收回资金).")
    measures: list[MeasureCount]


class DistrictMeasures(BaseModel):
    """The measures taken in the month on one district's alerts (第二十二条(三)), or the city's own (220100)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org_unit: str
    org_unit_name: str
    recoveries: int = Field(ge=0, description="收回资金: the ledger's withdrawals answering the measure.")
    recovered: Money = Field(description="Withdrawn by the ledger (收回).")
    short: Money = Field(description="Ordered back but not withdrawn: less was available than ordered.")
    suspensions: int = Field(ge=0, description="暂缓拨付: indicators suspended.")
    referrals: int = Field(ge=0, description="移交监督局: cases referred to the supervision bureau.")
    circulars: int = Field(ge=0, description="通报")


class PerformanceSummary(BaseModel):
    """The month's performance filings (绩效)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    goals_set: int = Field(ge=0, description="绩效目标 filed during the month.")
    reports_filed: int = Field(ge=0, description="执行情况 reports filed during the month.")
    severe_deviations: int = Field(ge=0, description="Indicators those reports measured as severely off (严重偏离).")


class SuspiciousItem(BaseModel):
    """A suspicious item (疑点, 第二十四条(三)): an alert of the month past the bell, and how it was verified."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_id: str
    rule_number: str
    level: AlertLevel
    status: AlertStatus
    org_unit: str | None
    owner_division: str | None
    result: str | None = Field(description="认定结果 (正常 / 违规); null while not verified.")
    method: str | None = Field(description="核实方式")


class MonthFigures(BaseModel):
    """What a monthly report (月报, 第二十四条) computes, as of the month's last instant (Beijing)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: datetime
    time_progress: Share = Field(description="序时进度 at the month's end: payment progress is read against it.")
    districts: list[DistrictMonth] = Field(description="By org unit code.")
    funds: list[FundFigures] = Field(description="Each fund over every district, by fund name.")
    totals: FundFigures
    alerts: AlertSummary
    disposals: DisposalSummary
    performance: PerformanceSummary
    suspicious: list[SuspiciousItem]
    measures: list[DistrictMeasures] = Field(default_factory=list, description=(
        "The measures taken in the month (收回 with the amounts, 暂缓拨付, 移交, 通报), by district."))


class DivisionPart(BaseModel):
    """A division's report as the city report consolidates it (第二十四条(一)), or why it goes without it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    division: str
    division_name: str
    report_id: str | None = Field(description="null when the treasury recorded why it goes without it.")
    version: int | None
    totals: FundFigures | None
    analysis: str | None = Field(description="The division's 问题及建议.")
    without_reason: str | None = Field(description="Why the city report goes without this division's report.")


class MonthlyReport(BaseModel):
    """The payload of a `monthly_report` message: the city's month (月报, 第二十四条(二)), co-signed by the poverty
    office (第二十七条); a later version corrects an earlier one of the same month."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    city: str = Field(description="The sending city's org unit code.")
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])
    version: int = Field(ge=1)
    corrects: str | None = Field(description="The report id of the version this one corrects.")
    report_id: str
    figures: MonthFigures
    divisions: list[DivisionPart]
    analysis: str | None = Field(description="问题及建议")
    supervision_opinion: str | None = Field(description="The supervision bureau's sign-off of the suspicious items "
                                                        "(监督局, 第二十四条(三)).")
    cosigner: str
    cosigned_at: datetime
    cosignature_opinion: str | None


class PermissionApplication(BaseModel):
    """The payload of a `permission_application` message: an application (附件3) the treasury accepted and reports
    to the province. The ID number travels masked, as every event carries it: the province checks the person on
    the signed paper form, and the full number never leaves the gateway."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    city: str
    application_id: str = Field(description="The province answers by it (permission_answer).")
    kind: Literal["grant", "change", "revoke"] = Field(description="开通, 变更 or 撤销.")
    form: PermissionForm
    forwarded_at: datetime


class RuleSubmission(BaseModel):
    """The payload of a `rule_submission` message: the city's business requirements (附件1) and rules (附件2) of
    a fiscal year as the treasury consolidated them (第十六条)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    city: str
    fiscal_year: int
    rules: list[dict[str, Any]] = Field(description="Each rule as data (the fields of GET /rules).")
    requirements: list[dict[str, Any]] = Field(description="Each requirement: kind, description, basis, scope.")
    submitted_at: datetime


class IssuedIndicator(BaseModel):
    """One indicator the central or provincial government issued to the city (指标下达)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    doc_no: str = Field(min_length=1, max_length=100, description="文件号")
    fund_name: str = Field(min_length=1, max_length=200, description="资金名称")
    amount: Money
    issued_on: date = Field(description="文件印发日期: the 5 working days of 第二十六条(一) count from it.")
    level: Literal["central", "province"]
    fiscal_year: int = Field(ge=2000, le=2100)


class IndicatorsIssued(BaseModel):
    """The payload of an `indicators_issued` message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    indicators: list[IssuedIndicator] = Field(min_length=1, max_length=500)


class ReceiptNotice(BaseModel):
    """The payload of a `receipt` message: the province's later word on a message of the city (回执 / 退回)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    message_id: str = Field(min_length=1, max_length=64, description="The city's message it answers.")
    status: Literal["accepted", "returned"]
    reason: str | None = Field(None, max_length=2000, description="Why it was returned.")


class PermissionAnswer(BaseModel):
    """The payload of a `permission_answer` message: the province's answer (反馈) to a forwarded application."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    application_id: str = Field(min_length=1, max_length=64)
    decision: Literal["approved", "rejected"]
    remarks: str | None = Field(None, max_length=2000)


class RuleLevel(BaseModel):
    """A rule's warning level as the Ministry or the province sets it (第二十条)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str = Field(min_length=1, max_length=20, description="The rule's number, e.g. ZB-001.")
    level: AlertLevel
    fiscal_year: int = Field(ge=2000, le=2100, description="The fiscal year from which the level holds.")
    authority: Literal["ministry", "province"] = Field(description="财政部 or 省财政厅.")
    document: str | None = Field(None, max_length=200, description="The document that sets it.")


class RuleLevels(BaseModel):
    """The payload of a `rule_levels` message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    levels: list[RuleLevel] = Field(min_length=1, max_length=200)


PAYLOADS: dict[MessageKind, type[BaseModel]] = {
    MessageKind.DAILY_ROLLUP: DailyRollup, MessageKind.MONTHLY_REPORT: MonthlyReport,
    MessageKind.PERMISSION_APPLICATION: PermissionApplication,
    MessageKind.RULE_SUBMISSION: RuleSubmission, MessageKind.INDICATORS_ISSUED: IndicatorsIssued,
    MessageKind.RECEIPT: ReceiptNotice, MessageKind.PERMISSION_ANSWER: PermissionAnswer,
    MessageKind.RULE_LEVELS: RuleLevels,
}


class ExchangeMessage(BaseModel):
    """What travels between the city and the province: the payload, what it is, and the sender's signature."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str = Field(description="Unique per message; the province keeps one of each however often sent.")
    kind: MessageKind
    schema_version: int = Field(ge=1, description="Version of the payload's schema (contracts/exchange).")
    key_id: str = Field(description="The name of the key that signed.")
    payload: dict[str, Any]
    signature: str = Field(description="Ed25519 over the canonical JSON of the other fields, base64.")


class Receipt(BaseModel):
    """The answer to a message (回执), the province's or the city's: accepted, or returned (退回) with its reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    status: str = Field(description="accepted or returned")
    receipt_id: str
    received_at: datetime
    reason: str | None = None


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes that are signed: UTF-8 JSON, keys sorted, no spaces."""
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signed_part(message: dict[str, Any]) -> bytes:
    """The canonical bytes of a message without its signature."""
    return canonical({k: v for k, v in message.items() if k != "signature"})


def sign(message: dict[str, Any], private_key: str) -> str:
    """The signature of a message (without one) under a base64 Ed25519 private key."""
    return base64.b64encode(signing_key(private_key).sign(signed_part(message))).decode()


def verify(message: dict[str, Any], public_key: str) -> bool:
    """Whether the message's signature is the holder's of `public_key` over what it says."""
    try:
        verifying_key(public_key).verify(base64.b64decode(message.get("signature", ""), validate=True), signed_part(message))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def exchange_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema of the envelope, the receipt and each kind's payload, as they go on the wire."""
    out = {"message.json": ExchangeMessage.model_json_schema(mode="serialization"),
           "receipt.json": Receipt.model_json_schema(mode="serialization")}
    for kind, model in PAYLOADS.items():
        version = model.model_fields["schema_version"].default
        schema = model.model_json_schema(mode="serialization")
        schema["x-kind"], schema["x-schema-version"] = kind.value, version
        out[f"{kind.value}.v{version}.json"] = schema
    return out


SCHEMAS = Path(__file__).with_name("exchange")


@cache
def _validator(name: str) -> Draft202012Validator | None:
    path = SCHEMAS / name
    if not path.exists():
        return None
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


def schema_faults(message: Any) -> list[tuple[str, str]]:
    """Where a message breaks the checked-in JSON Schemas (the envelope, then its kind's payload): each fault's
    field path (payload.indicators.0.amount) and words; none when it keeps them."""
    envelope = _validator("message.json")
    assert envelope is not None
    faults = [(".".join(map(str, e.absolute_path)) or "body", e.message) for e in envelope.iter_errors(message)]
    if faults:
        return faults[:20]
    payload = _validator(f"{message['kind']}.v{message['schema_version']}.json")
    if payload is None:
        return [("schema_version", f"no schema {message['kind']} v{message['schema_version']}")]
    return [(".".join(["payload", *map(str, e.absolute_path)]), e.message)
            for e in payload.iter_errors(message["payload"])][:20]
