"""Alerts as XLSX with Chinese headers (预警信息), within the requester's scope; only as a co-signed export."""

from functools import partial
from typing import Annotated, Any

import xlsxwriter
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select

from backbone.identity import ExportingPrincipal
from backbone.paging import XLSX, beijing, export_rows, xlsx_export
from backbone.service import RuntimeDep
from contracts.values import DIVISIONS, ORG_UNITS
from services.alerting.api import AlertFilters
from services.alerting.domain import LEVEL_NAMES
from services.alerting.projections import alerts

router = APIRouter(prefix="/api/v1", tags=["alerting"])
HEADERS = ["预警编号", "规则编号", "规则名称", "规则分类", "预警级别", "状态", "预警说明", "规则依据", "对象类型", "对象编号",
           "指标编号", "期间", "区划", "主管处室", "发生次数", "预警时间", "最近变化时间"]
STATUS_NAMES = {"open": "待处理", "green": "绿灯", "cleared": "已解除"}
SUBJECT_NAMES = {"indicator": "预算指标", "payment": "资金支付", "payee": "收款人", "alert": "预警", "cycle": "年度规则申报",
                 "org_unit": "区划", "goal": "绩效目标"}


@router.get("/alerts/export", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "Alerts within the requester's scope."}})
async def export_alerts(
    principal: ExportingPrincipal,
    runtime: RuntimeDep,
    wanted: Annotated[AlertFilters, Depends()],
) -> Response:
    """Alerts, newest first, with the filters of GET /alerts."""
    where = wanted.conditions(principal)
    async with runtime.engine.connect() as conn:
        rows = await export_rows(conn, select(alerts).where(*where)
                                 .order_by(alerts.c.raised_at.desc(), alerts.c.alert_id.desc()), narrow="raised_from")
    return await xlsx_export(principal, partial(_write_alerts, rows=rows), "alerts", "预警信息", constant_memory=True)



def _write_alerts(book: xlsxwriter.Workbook, rows: list[Any]) -> None:
    sheet = book.add_worksheet("预警信息")
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, HEADERS, book.add_format({"bold": True}))
    for line, r in enumerate(rows, start=1):
        explanation = r.explanation or {}
        sheet.write_row(line, 0, [
            r.alert_id, r.rule_number, r.rule_name, explanation.get("category", ""), LEVEL_NAMES.get(r.level, r.level),
            STATUS_NAMES.get(r.status, r.status), explanation.get("summary", ""), explanation.get("basis", ""),
            SUBJECT_NAMES.get(r.subject_kind, r.subject_kind), r.subject_id, r.indicator_id or "", r.period,
            ORG_UNITS.get(r.org_unit or "", r.org_unit or ""),
            DIVISIONS.get(r.owner_division or "", r.owner_division or ""), r.occurrences, beijing(r.raised_at),
            beijing(r.updated_at)])
