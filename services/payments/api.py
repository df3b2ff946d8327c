"""Payment intake from the treasury payment system (国库集中支付系统) and payment queries."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from backbone.errors import InvalidInput
from backbone.eventstore import NewStream
from backbone.identity import CurrentPrincipal, require_roles
from backbone.service import RuntimeDep
from contracts.values import Money
from services.payments.domain import PaymentIn, check_batch
from services.payments.projections import content_hashes, payments

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
             dependencies=[Depends(require_roles("treasury_system", "admin"))],
             openapi_extra={"requestBody": {"content": {"application/json": {
                 "schema": BatchIn.model_json_schema(ref_template="#/components/schemas/{model}")}}}})
async def post_payment_batch(runtime: RuntimeDep, principal: CurrentPrincipal,
                             body: Any = Body(..., include_in_schema=False)) -> BatchResult:
    """Record a batch of payments that have happened; valid records are kept even when others are not."""
    records = body.get("payments") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise InvalidInput("the body must be an object with a list `payments`",
                           errors=[{"field": "payments", "message": "a list of payment records is required"}])
    limit = runtime.settings.max_batch_records
    if len(records) > limit:
        raise InvalidInput(f"at most {limit} payments per batch",
                           errors=[{"field": "payments", "message": f"{len(records)} records, at most {limit}"}])
    checked = check_batch(records)
    firsts: dict[str, tuple[int, PaymentIn]] = {}
    repeats: list[tuple[int, PaymentIn]] = []
    for index, payment in checked.valid:
        (repeats.append((index, payment)) if payment.payment_id in firsts else firsts.setdefault(payment.payment_id, (index, payment)))
    key = runtime.settings.record_digest_key.get_secret_value().encode()
    # Payments drawing on one indicator are consumed in the order they were recorded. Sorted by
    # stream id, so that concurrent batches sharing ids lock them in the same order (no deadlock).
    streams = sorted((NewStream(f"payment-{p.payment_id}", "payment", [p.to_event(key)],
                                partition_key=f"indicator-{p.indicator_id}" if p.indicator_id else None)
                      for _, p in firsts.values()), key=lambda s: s.stream_id)
    async with runtime.engine.begin() as conn:
        stored, existing = await runtime.store.create_streams(
            conn, streams, runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        stored_hashes = await content_hashes(conn, [s.removeprefix("payment-") for s in existing]) if existing else {}
    duplicates, conflicts = 0, []
    seen = {p.payment_id: p.content_hash(key) for _, p in firsts.values()}
    for index, payment in [firsts[s.removeprefix("payment-")] for s in existing] + repeats:
        earlier = stored_hashes.get(payment.payment_id, seen[payment.payment_id])
        if earlier == payment.content_hash(key):
            duplicates += 1
        else:
            conflicts.append(RejectedOut(index=index, payment_id=payment.payment_id, errors=[
                {"field": f"payments[{index}].payment_id",
                 "message": "this payment id was already recorded with different content"}]))
    return BatchResult(
        accepted=len(stored), duplicates=duplicates, conflicts=conflicts,
        rejected=[RejectedOut(index=r.index, payment_id=r.payment_id, errors=r.errors) for r in checked.rejected],
    )


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
    org_unit: str | None
    recorded_at: datetime
    recorded_by: str


@router.get("/payments", response_model=list[PaymentOut],
            dependencies=[Depends(require_roles("admin", "treasury", "budget", "supervision", "poverty_office",
                                                "info_center", "treasury_system"))])
async def list_payments(
    runtime: RuntimeDep,
    indicator_id: str | None = None,
    payee: str | None = Query(None, description="Payee name, exact."),
    paid_from: datetime | None = None,
    paid_to: datetime | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[PaymentOut]:
    """Recorded payments, newest first."""
    q = select(payments).order_by(payments.c.paid_at.desc()).limit(limit)
    if indicator_id:
        q = q.where(payments.c.indicator_id == indicator_id)
    if payee:
        q = q.where(payments.c.payee_name == payee)
    if paid_from:
        q = q.where(payments.c.paid_at >= paid_from)
    if paid_to:
        q = q.where(payments.c.paid_at < paid_to)
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    return [PaymentOut(**r._mapping) for r in rows]
