"""Goals and execution reports as XLSX with Chinese headers (绩效目标与执行), within the caller's scope; only as a
co-signed export."""

from functools import partial
from typing import Any

import xlsxwriter
from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from backbone.identity import ExportingPrincipal
from backbone.workbooks import XLSX, xlsx_export
from backbone.service import RuntimeDep
from contracts.values import DIVISIONS, ORG_UNITS, FiscalYear
from services.performance.api import visible
from services.performance.projections import goals, reports

router = APIRouter(prefix="/api/v1", tags=["performance"])
COMPARISON_SIGNS = {"gte": "≥", "lte": "≤", "eq": "=", "range": "区间", "qualitative": "定性"}
STATUS_NAMES = {"filed": "待审核", "accepted": "审核通过", "returned": "退回整改"}
GOAL_HEADERS = ["预算指标编号", "区划", "主管处室", "绩效目标", "一级指标", "二级指标", "三级指标", "指标值", "计量单位", "权重",
                "审核状态"]
REPORT_HEADERS = ["预算指标编号", "区划", "主管处室", "报告期", "三级指标", "实际值", "是否达成", "偏差率", "严重偏离", "支出进度",
                  "序时进度", "偏差原因", "纠偏措施", "审核状态"]


def _target_text(i: dict[str, Any]) -> str:
    if i["comparison"] == "range":
        return f"{i['target_low']}–{i['target_high']}"
    if i["comparison"] == "qualitative":
        return i["target_text"]
    return f"{COMPARISON_SIGNS[i['comparison']]}{i['target']}"


@router.get("/performance-goals/export", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "Goals and execution within the caller's scope."}})
async def export(principal: ExportingPrincipal, runtime: RuntimeDep, fiscal_year: FiscalYear, org_unit: str | None = None,
                 owner_division: str | None = None) -> Response:
    """Goals and execution reports as XLSX with Chinese headers, per division or per district by filter; only as a
    co-signed export."""
    q = (select(goals).where(goals.c.fiscal_year == fiscal_year, *visible(principal))
         .order_by(goals.c.org_unit, goals.c.owner_division))
    if org_unit:
        q = q.where(goals.c.org_unit == org_unit)
    if owner_division:
        q = q.where(goals.c.owner_division == owner_division)
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
        filed = (await conn.execute(select(reports).where(reports.c.goal_id.in_([r.goal_id for r in rows]))
                                    .order_by(reports.c.period_end))).all() if rows else []
    return await xlsx_export(principal, partial(_write_goals, rows=rows, filed=filed), f"performance-{fiscal_year}",
                             f"绩效目标与执行-{fiscal_year}")


def _write_goals(book: xlsxwriter.Workbook, rows: list[Any], filed: list[Any]) -> None:
    by_goal = {r.goal_id: r for r in rows}
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("绩效目标")
    sheet.write_row(0, 0, GOAL_HEADERS, bold)
    line = 1
    for r in rows:
        for i in r.indicators:
            sheet.write_row(line, 0, [r.indicator_id, ORG_UNITS.get(r.org_unit, r.org_unit),
                                      DIVISIONS.get(r.owner_division, r.owner_division), r.goal, i["level1"],
                                      i["level2"], i["name"], _target_text(i), i.get("unit", ""), i["weight"],
                                      STATUS_NAMES.get(r.status, r.status)])
            line += 1
    sheet = book.add_worksheet("执行情况")
    sheet.write_row(0, 0, REPORT_HEADERS, bold)
    line = 1
    for report in filed:
        goal = by_goal[report.goal_id]
        for o in report.outcomes:
            sheet.write_row(line, 0, [
                goal.indicator_id, ORG_UNITS.get(goal.org_unit, goal.org_unit),
                DIVISIONS.get(goal.owner_division, goal.owner_division), report.period, o["name"], o["actual"],
                "是" if o["met"] else "否", o["deviation"] or "", "是" if o["severe"] else "否",
                format(report.money_progress, "f") if report.money_progress is not None else "",
                format(report.time_progress, "f"), report.explanation, report.measures,
                STATUS_NAMES.get(report.status, report.status)])
            line += 1
