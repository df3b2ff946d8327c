"""Payments (资金支付) as the treasury reports them: validation, masking, duplicate detection, and a batch sorted
into what to record, repeats and malformed records, then into duplicates and conflicts. No I/O. A payment that
breaks a rule is still recorded; only malformed data is refused."""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator
from stdnum.cn import uscc

from backbone.clock import clock
from backbone.errors import DomainError, InvalidInput, fault, field_errors
from backbone.pii import PersonalData, check_id_number, keyed_digest, mask_id_number
from contracts.payments import PayeeRegistryFacts, PaymentRecorded, PaymentRefunded
from contracts.values import Money, OrgUnitCode, PayeeType, PaymentMethod, Registry, SettlementMethod


class PaymentIn(BaseModel):
    """One payment record of 第六条 as the treasury payment system sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    payment_id: str = Field(min_length=1, max_length=64, description="The treasury's own payment id.")
    indicator_id: str | None = Field(None, max_length=64, description="The indicator the payment draws on.")
    payer_name: str = Field(min_length=1, max_length=200, description="付款人名称")
    payer_account: str = Field(min_length=1, max_length=64, description="付款账户")
    amount: Money = Field(description="支付金额")
    paid_at: AwareDatetime = Field(description="支付时间, with its UTC offset (e.g. +08:00)")
    purpose: str = Field(min_length=1, max_length=500, description="用途")
    settlement_method: SettlementMethod = Field(description="结算方式")
    payment_method: PaymentMethod = Field(description="支付方式")
    payee_name: str = Field(min_length=1, max_length=200, description="收款人名称")
    payee_account: str = Field(min_length=1, max_length=64, description="收款人账户")
    payee_type: PayeeType
    payee_id_number: str | None = Field(None, description="身份证号 of a person payee (到人到户)")
    payee_credit_code: str | None = Field(None, description="统一社会信用代码 of an organisation payee")
    org_unit: OrgUnitCode | None = None

    @field_validator("amount")
    @classmethod
    def _positive(cls, v: Any) -> Any:
        if v <= 0:
            raise ValueError("amount must be greater than 0")
        return v


    @field_validator("payee_id_number")
    @classmethod
    def _resident_id(cls, v: str | None) -> str | None:
        if v is None:
            return v
        return check_id_number(v, clock().today())

    @field_validator("payee_credit_code")
    @classmethod
    def _credit_code(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            return uscc.validate(v)
        except Exception as exc:  # noqa: BLE001 - stdnum raises several ValidationError kinds
            raise ValueError("not a valid unified social credit code (GB 32100)") from exc

    @field_validator("payer_account", "payee_account")
    @classmethod
    def _account(cls, v: str) -> str:
        # Bank accounts are written with spaces or dashes; what counts are 6 to 32 digits.
        compact = _ACCOUNT_SEPARATORS.sub("", v)
        if not compact.isdigit() or not 6 <= len(compact) <= 32:
            raise ValueError("a bank account number has 6 to 32 digits")
        return compact

    @model_validator(mode="after")
    def _person_has_id(self) -> "PaymentIn":
        if self.payee_type is PayeeType.PERSON and not self.payee_id_number:
            raise ValueError("payee_id_number is required when payee_type is person")
        if self.payee_type is PayeeType.ORGANIZATION and self.payee_id_number:
            raise ValueError("an organisation payee has no payee_id_number (use payee_credit_code)")
        return self

    def content_hash(self, key: bytes) -> str:
        return keyed_digest(self, key)

    def to_event(self, key: bytes, personal: PersonalData,
                 registry: list[dict[str, Any]] | None = None) -> PaymentRecorded:
        """The event, with the payee's entries on the registries (as looked up by its blind index)."""
        return PaymentRecorded.model_validate(self.event_payload(key, personal, registry))

    def event_payload(self, key: bytes, personal: PersonalData,
                      registry: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """`to_event` in its stored JSON form, from one dump of this record and without validating again: the
        record was validated as it came in, and a batch of a thousand records would otherwise validate and
        serialise each of them twice more (the digest, the event). Its `content_hash` is `content_hash`."""
        data = self.model_dump(mode="json")
        digest = keyed_digest({k: v for k, v in data.items() if v is not None}, key)
        number = data.pop("payee_id_number")
        facts = registry_facts(self.payee_name, registry or []).model_dump(mode="json") if number else None
        return {**data, "payee_id_masked": mask_id_number(number) if number else None,
                "payee_id_index": personal.blind_index(number) if number else None, "payee_registry": facts,
                "content_hash": digest}


_RECORDS = TypeAdapter(list[PaymentIn])
_ACCOUNT_SEPARATORS = re.compile(r"[\s-]")


def registry_facts(payee_name: str, entries: list[dict[str, Any]]) -> PayeeRegistryFacts:
    """建档立卡 and 财政供养人员 facts about a payee from its registry entries (none: on no registry)."""
    by_registry = {e["registry"]: e for e in entries}
    poor = by_registry.get(Registry.POOR_POPULATION)
    employee = by_registry.get(Registry.PUBLIC_EMPLOYEES)
    names = {e["name"] for e in entries}
    matches = same_name(payee_name, names) if names else None
    return PayeeRegistryFacts(
        poor_status=poor["status"] if poor else None, poor_org_unit=poor["org_unit"] if poor else None,
        public_employee=employee is not None, employer=employee["employer"] if employee else None,
        name_matches=matches, registered_name=None if matches in (True, None) else sorted(names)[0])


def same_name(name: str, registered: set[str]) -> bool:
    """Names compare without spaces and width differences (张 三, 张三 and full-width letters are one)."""
    def plain(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())
    return plain(name) in {plain(n) for n in registered}


@dataclass(frozen=True)
class Rejected:
    """A record refused for malformed data, with each field at fault."""

    index: int
    payment_id: str | None
    errors: list[dict[str, Any]]


@dataclass(frozen=True)
class CheckedBatch:
    valid: list[tuple[int, PaymentIn]]
    rejected: list[Rejected]


def check_batch(records: list[Any]) -> CheckedBatch:
    """Validate each record on its own; one bad record never spoils the others.

    The batch is validated as one list (a call into pydantic per batch, not per record, a third of intake's
    time); when some records are bad, their errors are sorted out by index and the others validated again."""
    try:
        return CheckedBatch(list(enumerate(_RECORDS.validate_python(records))), [])
    except ValidationError as exc:
        faults: dict[int, list[dict[str, Any]]] = {}
        for err in exc.errors(include_input=False):
            faults.setdefault(err["loc"][0], []).append(err)
    rejected = []
    for index, errs in faults.items():
        errors = field_errors(errs, strip=1)
        for err in errors:
            err["field"] = f"payments[{index}].{err['field']}" if err["field"] else f"payments[{index}]"
        record = records[index]
        pid = record.get("payment_id") if isinstance(record, dict) else None
        rejected.append(Rejected(index, pid if isinstance(pid, str) else None, errors))
    good = [index for index in range(len(records)) if index not in faults]
    return CheckedBatch(list(zip(good, _RECORDS.validate_python([records[i] for i in good]), strict=True)), rejected)


def batch_records(body: Any, limit: int) -> list[Any]:
    """The records of a batch as sent: an object with a list `payments` of at most `limit` records."""
    records = body.get("payments") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise InvalidInput("the body must be an object with a list `payments`",
                           errors=[fault("payments", "a list of payment records is required")])
    if len(records) > limit:
        raise InvalidInput(f"at most {limit} payments per batch",
                           errors=[fault("payments", f"{len(records)} records, at most {limit}")])
    return records


@dataclass(frozen=True)
class Batch:
    """A batch sorted: the first valid record of each payment id (by id, with its index), later records of an id
    the batch had already, and the malformed records."""

    firsts: dict[str, tuple[int, PaymentIn]]
    repeats: list[tuple[int, PaymentIn]]
    rejected: list[Rejected]

    @property
    def to_record(self) -> list[PaymentIn]:
        """What the batch may record: the first record of each payment id, in the order sent."""
        return [payment for _, payment in self.firsts.values()]

    def duplicates_and_conflicts(self, recorded_before: list[str], stored_hashes: dict[str, str],
                                 key: bytes) -> tuple[int, list[Rejected]]:
        """What became of the records not recorded now: the firsts whose id was `recorded_before` (its stored
        content hash in `stored_hashes`) and the repeats. Each is a duplicate when its content is the content
        recorded under its id (stored before, else the batch's first), or else a conflict, which never
        overwrites; the conflicts in that order."""
        duplicates, conflicts = 0, []
        for index, payment in [self.firsts[payment_id] for payment_id in recorded_before] + self.repeats:
            earlier = stored_hashes.get(payment.payment_id)
            if earlier is None:
                # Digested only when asked for: a batch of new payments has no repeats to compare.
                earlier = self.firsts[payment.payment_id][1].content_hash(key)
            if earlier == payment.content_hash(key):
                duplicates += 1
            else:
                conflicts.append(Rejected(index, payment.payment_id, [
                    fault(f"payments[{index}].payment_id", "this payment id was already recorded with different content")]))
        return duplicates, conflicts


def sort_batch(records: list[Any]) -> Batch:
    """Each record checked on its own (`check_batch`), and of the valid ones with the same payment id the first
    kept to record and the others set aside as repeats."""
    checked = check_batch(records)
    firsts: dict[str, tuple[int, PaymentIn]] = {}
    repeats: list[tuple[int, PaymentIn]] = []
    for index, payment in checked.valid:
        if payment.payment_id in firsts:
            repeats.append((index, payment))
        else:
            firsts[payment.payment_id] = (index, payment)
    return Batch(firsts, repeats, checked.rejected)


class RefundExceedsPayment(DomainError):
    """A refund would return more than was paid."""

    status = 422
    type_name = "refund-exceeds-payment"
    title = "More than was paid"


class RefundIn(BaseModel):
    """A refund (退回) or reversal (冲正) of a recorded payment, as the treasury reports it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    refund_id: str = Field(min_length=1, max_length=64, description="The treasury's own id of the refund.")
    kind: Literal["refund", "reversal"] = Field("refund", description="refund 退回, reversal 冲正 (the whole rest)")
    amount: Money | None = Field(None, description="Required for a refund; a reversal returns all that is left.")
    refunded_at: AwareDatetime = Field(description="退回时间, with its UTC offset")
    reason: str = Field(min_length=1, max_length=500)

    def content_hash(self, key: bytes) -> str:
        return keyed_digest(self, key)


def refund(*, payment: PaymentRecorded, refunded_so_far: Decimal, request: RefundIn, key: bytes) -> PaymentRefunded:
    """RefundPayment → PaymentRefunded, never returning more than was paid."""
    left = payment.amount - refunded_so_far
    amount = left if request.kind == "reversal" else request.amount
    if amount is None or amount <= 0:
        raise InvalidInput("a refund needs a positive amount",
                           errors=[fault("amount", "greater than 0 is required for a refund")])
    if amount > left:
        raise RefundExceedsPayment(
            f"payment {payment.payment_id} has {left} left to return, {amount} was asked",
            payment_id=payment.payment_id, paid=format(payment.amount, "f"), left=format(left, "f"),
            errors=[fault("amount", f"at most {left}")])
    return PaymentRefunded(payment_id=payment.payment_id, refund_id=request.refund_id,
                           indicator_id=payment.indicator_id, kind=request.kind, amount=amount,
                           refunded_total=refunded_so_far + amount, refunded_at=request.refunded_at,
                           reason=request.reason, content_hash=request.content_hash(key))
