"""Payments as XLSX with Chinese headers (资金支付明细), within the requester's scope; only as a co-signed export."""

from functools import partial
from typing import Annotated, Any
from uuid import uuid4

import xlsxwriter
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select

from backbone.errors import Forbidden
from backbone.eventstore import NewStream
from backbone.identity import ExportingPrincipal, Principal
from backbone.workbooks import XLSX, beijing, export_rows, money_cell, xlsx_export
from backbone.pii import PersonalData
from backbone.service import RuntimeDep
from contracts.registry import PersonalDataRevealed, PersonRef
from contracts.values import ORG_UNITS
from services.payments.api import PaymentFilters
from services.payments.projections import payments, personal_data

router = APIRouter(prefix="/api/v1", tags=["payments"])
HEADERS = ["支付编号", "指标编号", "付款人名称", "付款账户", "支付金额", "支付时间", "用途", "结算方式", "支付方式", "收款人名称",
           "收款人账户", "收款人类型", "收款人身份证号", "统一社会信用代码", "区划", "已退回金额", "登记时间"]
SETTLEMENT_NAMES = {"transfer": "转账", "cash": "现金", "check": "支票", "official_card": "公务卡", "other": "其他"}
PAYMENT_METHOD_NAMES = {"direct": "直接支付", "authorized": "授权支付", "allocated": "实拨"}
PAYEE_TYPE_NAMES = {"person": "个人", "organization": "单位"}


def scope_conditions(principal: Principal) -> list[Any]:
    """The payments a requester may export: all for the city-wide roles, its own org unit's for a district."""
    if principal.citywide:
        return []
    if "district" in principal.roles and principal.org_unit:
        return [payments.c.org_unit == principal.org_unit]
    # A payment records its org unit but not the division owning the fund: a division's payments are in the ledger
    # export (paid and refunded per indicator).
    raise Forbidden("payments can be exported by the city-wide roles and by a district for its own org unit")


@router.get("/payments/export", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "Payments within the requester's scope."}})
async def export_payments(
    principal: ExportingPrincipal,
    runtime: RuntimeDep,
    wanted: Annotated[PaymentFilters, Depends()],
) -> Response:
    """Payments, newest first, with the filters of GET /payments; ID numbers masked unless the requester holds the
    PII permission (each person then revealed is an audit event)."""
    where = scope_conditions(principal) + wanted.conditions()
    q = (select(payments, personal_data.c.cipher).outerjoin(personal_data,
                                                             personal_data.c.blind_index == payments.c.payee_id_index)
         .where(*where).order_by(payments.c.paid_at.desc(), payments.c.payment_id.desc()))
    async with runtime.engine.begin() as conn:
        rows = [dict(r._mapping) for r in await export_rows(conn, q, narrow="paid_from")]
        if principal.pii:
            await _record_reveals(conn, runtime, principal, rows)
    personal = PersonalData.from_settings(runtime.settings) if principal.pii else None
    return await xlsx_export(principal, partial(_write_payments, rows=rows, personal=personal), "payments",
                             "资金支付明细", constant_memory=True)


async def _record_reveals(conn: Any, runtime: Any, principal: Principal, rows: list[dict[str, Any]]) -> None:
    """Each person whose full ID number the file will show, recorded in the transaction that reads them (no
    unaudited read); the numbers are decrypted where the workbook is written, off the event loop."""
    people = {r["payee_id_index"]: PersonRef(id_index=r["payee_id_index"], id_masked=r["payee_id_masked"])
              for r in rows if r["cipher"]}
    await runtime.store.create_streams(conn, [
        NewStream(f"pii-read-{uuid4()}", "pii-read", [PersonalDataRevealed(person=p, what="payments_export",
                                                                           found=True)])
        for p in people.values()], runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))



def _write_payments(book: xlsxwriter.Workbook, rows: list[dict[str, Any]], personal: PersonalData | None) -> None:
    """The payments sheet; with `personal` (a requester holding the PII permission) the full ID numbers."""
    sheet = book.add_worksheet("资金支付明细")
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, HEADERS, book.add_format({"bold": True}))
    money = book.add_format({"num_format": "#,##0.00"})
    for line, r in enumerate(rows, start=1):
        sheet.write_row(line, 0, [
            r["payment_id"], r["indicator_id"] or "", r["payer_name"], r["payer_account"]])
        sheet.write(line, 4, money_cell(r["amount"]), money)
        sheet.write_row(line, 5, [
            beijing(r["paid_at"]), r["purpose"], SETTLEMENT_NAMES.get(r["settlement_method"], r["settlement_method"]),
            PAYMENT_METHOD_NAMES.get(r["payment_method"], r["payment_method"]), r["payee_name"], r["payee_account"],
            PAYEE_TYPE_NAMES.get(r["payee_type"], r["payee_type"]),
            personal.decrypt(r["cipher"]) if personal and r["cipher"] else r["payee_id_masked"] or "",
            r["payee_credit_code"] or "", ORG_UNITS.get(r["org_unit"] or "", r["org_unit"] or "")])
        sheet.write(line, 15, money_cell(r["refunded"]), money)
        sheet.write(line, 16, beijing(r["recorded_at"]))
