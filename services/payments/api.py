"""Payment intake from the treasury payment system (国库集中支付系统) and payment queries."""

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from backbone.db import is_transient
from backbone.errors import ConcurrencyConflict, Forbidden, NotFound, fault
from backbone.eventstore import NewStream, PreparedEvent
from backbone.identity import CurrentPrincipal
from backbone.pii import PersonalData, mask_id_number
from backbone.pages import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from contracts.payments import PayeeRegistryFacts, PaymentRecorded, PaymentRefunded
from contracts.registry import PersonalDataRevealed, PersonRef
from contracts.values import Money, SettlementMethod
from services.payments.domain import PaymentIn, RefundIn, batch_records, refund, sort_batch
from services.payments.projections import content_hashes, keep_personal_data, payments, refunds
from services.payments.registry.projections import registry_entries

router = APIRouter(prefix="/api/v1", tags=["payments"])


class RejectedOut(BaseModel):
    index: int
    payment_id: str | None
    errors: list[dict[str, Any]]


class BatchResult(BaseModel):
    """What became of each record of a batch."""

    accepted: int = Field(description="Records recorded now.")
    duplicates: int = Field(description="Records already recorded with the same content.")
    conflicts: list[RejectedOut] = Field(description="Ids already recorded with different content; not overwritten.")
    rejected: list[RejectedOut] = Field(description="Malformed records, with index and field of each fault.")


class BatchIn(BaseModel):
    payments: list[PaymentIn]


@router.post("/payments/batch", response_model=BatchResult,
             openapi_extra={"requestBody": {"content": {"application/json": {
                 "schema": BatchIn.model_json_schema(ref_template="#/components/schemas/{model}")}}}})
async def post_payment_batch(runtime: RuntimeDep, principal: CurrentPrincipal,
                             body: Any = Body(..., include_in_schema=False)) -> BatchResult:
    """Record a batch of payments that have happened; valid records are kept even when others are not."""
    batch = sort_batch(batch_records(body, runtime.settings.max_batch_records))
    key = runtime.settings.record_digest_key.get_secret_value().encode()
    personal = PersonalData.from_settings(runtime.settings)
    payees = {p.payee_id_number: personal.blind_index(p.payee_id_number)
              for p in batch.to_record if p.payee_id_number}
    vault = [(index, personal.encrypt(number)) for number, index in payees.items()]
    meta = runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit)
    # Two batches sharing ids in different orders can deadlock; the loser simply runs again.
    async for attempt in AsyncRetrying(retry=retry_if_exception(is_transient), stop=stop_after_attempt(3),
                                       wait=wait_random_exponential(multiplier=0.05, max=1), reraise=True):
        with attempt:
            async with runtime.engine.begin() as conn:
                entries: dict[str, list[dict[str, Any]]] = {}
                for entry in await registry_entries(conn, None, list(payees.values())):
                    entries.setdefault(entry["id_index"], []).append(entry)
                # Payments drawing on one indicator are consumed in the order the treasury sent them.
                streams = [NewStream(f"payment-{p.payment_id}", "payment", [PreparedEvent(
                    PaymentRecorded.event_type, PaymentRecorded.schema_version, p.event_payload(
                        key, personal, entries.get(payees[p.payee_id_number], []) if p.payee_id_number else None))],
                    partition_key=f"indicator-{p.indicator_id}" if p.indicator_id else None)
                    for p in batch.to_record]
                await keep_personal_data(conn, vault)
                stored, existing = await runtime.store.create_streams(conn, streams, meta)
                recorded_before = [s.removeprefix("payment-") for s in existing]
                stored_hashes = await content_hashes(conn, recorded_before) if recorded_before else {}
    duplicates, conflicts = batch.duplicates_and_conflicts(recorded_before, stored_hashes, key)
    return BatchResult(
        accepted=len(stored), duplicates=duplicates,
        conflicts=[RejectedOut(index=c.index, payment_id=c.payment_id, errors=c.errors) for c in conflicts],
        rejected=[RejectedOut(index=r.index, payment_id=r.payment_id, errors=r.errors) for r in batch.rejected],
    )


class RefundOut(BaseModel):
    refund_id: str
    payment_id: str
    kind: str
    amount: Money
    refunded_total: Money
    payment_amount: Money


@router.post("/payments/{payment_id}/refunds", status_code=201, response_model=RefundOut,
             responses={200: {"model": RefundOut, "description": "This refund was recorded already: nothing new."}})
async def post_refund(payment_id: str, body: RefundIn, response: Response, runtime: RuntimeDep,
                      principal: CurrentPrincipal) -> RefundOut:
    """Record a refund (退回) or reversal (冲正) of a payment; never more than was paid, each refund id once."""
    key = runtime.settings.record_digest_key.get_secret_value().encode()
    async with runtime.engine.begin() as conn:
        history = await runtime.store.read_stream(conn, f"payment-{payment_id}")
        if not history:
            raise NotFound(f"payment {payment_id} is not recorded")
        payment = PaymentRecorded.model_validate(history[0].payload)
        earlier = [PaymentRefunded.model_validate(e.payload) for e in history[1:]
                   if e.event_type == PaymentRefunded.event_type]
        same = next((r for r in earlier if r.refund_id == body.refund_id), None)
        elsewhere = await conn.scalar(select(refunds.c.payment_id).where(refunds.c.refund_id == body.refund_id,
                                                                         refunds.c.payment_id != payment_id))
        if elsewhere is not None:
            raise ConcurrencyConflict(f"refund {body.refund_id} belongs to payment {elsewhere}",
                                      errors=[fault("refund_id", "already used for another payment")])
        if same is not None:
            if same.content_hash != body.content_hash(key):
                raise ConcurrencyConflict(f"refund {body.refund_id} was recorded with different content",
                                          errors=[fault("refund_id", "already used")])
            response.status_code = 200
            return RefundOut(refund_id=same.refund_id, payment_id=payment_id, kind=same.kind, amount=same.amount,
                             refunded_total=same.refunded_total, payment_amount=payment.amount)
        event = refund(payment=payment, refunded_so_far=sum((r.amount for r in earlier), Decimal("0.00")),
                       request=body, key=key)
        await runtime.store.append(
            conn, stream_id=f"payment-{payment_id}", stream_type="payment", expected_version=len(history),
            events=[event], meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit),
            # Refunds travel with their payment, keyed by its indicator.
            partition_key=history[0].partition_key)
    return RefundOut(refund_id=event.refund_id, payment_id=payment_id, kind=event.kind, amount=event.amount,
                     refunded_total=event.refunded_total, payment_amount=payment.amount)


class PaymentOut(BaseModel):
    payment_id: str
    indicator_id: str | None
    payer_name: str
    payer_account: str
    amount: Money
    paid_at: datetime
    purpose: str
    settlement_method: str
    payment_method: str
    payee_name: str
    payee_account: str
    payee_type: str
    payee_id_masked: str | None
    payee_id_index: str | None
    payee_credit_code: str | None
    payee_registry: PayeeRegistryFacts | None = None
    org_unit: str | None
    recorded_at: datetime
    recorded_by: str
    refunded: Money


@dataclass
class PaymentFilters:
    """The query filters of GET /payments and of its export."""

    indicator_id: str | None = None
    payee: str | None = Query(None, description="Payee name, exact.")
    paid_from: AwareDatetime | None = Query(None, description="Paid at or after this instant.")
    paid_to: AwareDatetime | None = Query(None, description="Paid before this instant.")
    amount_min: Money | None = Query(None, description="At least this amount (元, to the fen).")
    amount_max: Money | None = Query(None, description="At most this amount (元, to the fen).")
    settlement_method: SettlementMethod | None = None

    def conditions(self) -> list[Any]:
        return filters(**asdict(self))


@router.get("/payments", response_model=Page[PaymentOut])
async def list_payments(runtime: RuntimeDep, wanted: Annotated[PaymentFilters, Depends()],
                        asked: PagingDep) -> Page[PaymentOut]:
    """Recorded payments, newest first by (paid_at, payment_id), stable as payments arrive (to find a payee by ID
    number, POST /payments/search)."""
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, select(payments).where(*wanted.conditions()),
                                               payments.c.paid_at, payments.c.payment_id, asked.cursor, asked.limit)
    return Page[PaymentOut](items=[PaymentOut(**r._mapping) for r in rows], next_cursor=next_cursor)


def filters(*, indicator_id: str | None = None, payee: str | None = None, paid_from: datetime | None = None,
            paid_to: datetime | None = None, amount_min: Decimal | None = None, amount_max: Decimal | None = None,
            settlement_method: SettlementMethod | None = None, payee_id_index: str | None = None) -> list[Any]:
    """WHERE clauses of the payment filters (the list, the search and the export share them)."""
    c = payments.c
    wanted = [(indicator_id, lambda v: c.indicator_id == v), (payee, lambda v: c.payee_name == v),
              (paid_from, lambda v: c.paid_at >= v), (paid_to, lambda v: c.paid_at < v),
              (amount_min, lambda v: c.amount >= v), (amount_max, lambda v: c.amount <= v),
              (settlement_method, lambda v: c.settlement_method == v),
              (payee_id_index, lambda v: c.payee_id_index == v)]
    return [condition(value) for value, condition in wanted if value is not None]


class PaymentSearch(BaseModel):
    """Filters that may carry personal data travel in a body, never in a URL (URLs end up in logs)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    payee_id_number: str = Field(min_length=15, max_length=18, description="Full ID number of the payee.")
    paid_from: AwareDatetime | None = None
    paid_to: AwareDatetime | None = None
    # The paging of every list (backbone/pages.py), in the body like the rest of the search.
    cursor: str | None = Field(None, max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.post("/payments/search", response_model=Page[PaymentOut])
async def search_payments(body: PaymentSearch, principal: CurrentPrincipal, runtime: RuntimeDep) -> Page[PaymentOut]:
    """Payments to a person, found through the blind index of the ID number (shown masked): only with the PII
    permission, and every search is recorded for the audit trail in the transaction of its answer."""
    if not principal.pii:
        raise Forbidden("searching payments by ID number needs the PII permission")
    person = PersonRef(id_index=PersonalData.from_settings(runtime.settings).blind_index(body.payee_id_number),
                       id_masked=mask_id_number(body.payee_id_number))
    conditions = filters(payee_id_index=person.id_index, paid_from=body.paid_from, paid_to=body.paid_to)
    async with runtime.engine.begin() as conn:
        rows, next_cursor = await newest_first(conn, select(payments).where(*conditions), payments.c.paid_at,
                                               payments.c.payment_id, body.cursor, body.limit)
        await runtime.store.create_streams(conn, [NewStream(f"pii-read-{uuid4()}", "pii-read", [PersonalDataRevealed(
            person=person, what="payments_by_payee", found=bool(rows))])],
            runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return Page[PaymentOut](items=[PaymentOut(**r._mapping) for r in rows], next_cursor=next_cursor)
