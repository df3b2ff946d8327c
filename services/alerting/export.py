"""Alerting's exports, each as XLSX with Chinese headers and only as a co-signed export: the alerts (预警信息) and
the disposal sheets (处理单) within the requester's scope, and the yearly forms reported to the province, the rule
application form (附件2) and the business requirement form (附件1)."""

from functools import partial
from typing import Annotated, Any

import xlsxwriter
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import AwareDatetime
from sqlalchemy import select

from backbone.identity import ExportingPrincipal
from backbone.workbooks import XLSX, beijing, export_rows, xlsx_export
from backbone.service import RuntimeDep
from backbone.workbooks import write_seed_form
from contracts.values import DIVISIONS, ORG_UNITS, FiscalYear
from services.alerting.api import AlertFilters
from services.alerting.dispositions_api import DispositionRow, visible_sheets
from services.alerting.domain import LEVEL_NAMES
from services.alerting.projections import alerts, dispositions, requirements, rule_proposals

# No tags of its own: each route keeps the tag of the part of the API it exports (alerting, or rules).
router = APIRouter(prefix="/api/v1")
HEADERS = ["预警编号", "规则编号", "规则名称", "规则分类", "预警级别", "状态", "预警说明", "规则依据", "对象类型", "对象编号",
           "指标编号", "期间", "区划", "主管处室", "发生次数", "预警时间", "最近变化时间"]
STATUS_NAMES = {"open": "待处理", "green": "绿灯", "cleared": "已解除"}
SUBJECT_NAMES = {"indicator": "预算指标", "payment": "资金支付", "payee": "收款人", "alert": "预警", "cycle": "年度规则申报",
                 "org_unit": "区划", "goal": "绩效目标"}


@router.get("/alerts/export", response_class=Response, tags=["alerting"],
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


ACTION_NAMES = {"verify_normal": "核实为正常", "confirm_violation": "确认为违规", "record_correction": "已纠正",
                "take_measure": "采取处理措施", "reopen": "重新开启", "concur": "监督局会同核实"}
SHEET_HEADERS = ["处理单编号", "预警编号", "规则编号", "处理环节", "原预警级别", "处理后级别", "处理后状态", "认定结果", "违规类型",
                 "核实方式", "基本情况描述", "整改要求", "退回金额", "调账金额", "其他金额", "处理措施", "附件", "处理人", "处理人单位",
                 "处理人处室", "处理时间", "区划", "主管处室"]


@router.get("/dispositions/export", response_class=Response, tags=["alerting"],
            responses={200: {"content": {XLSX: {}}, "description": "处理单 within the caller's scope."}})
async def export_dispositions(principal: ExportingPrincipal, runtime: RuntimeDep,
                              handled_from: AwareDatetime | None = None, handled_to: AwareDatetime | None = None) -> Response:
    """The disposal sheets as XLSX with the national fields as Chinese headers; only as a co-signed export."""
    async with runtime.engine.connect() as conn:
        rows = [DispositionRow(**r._mapping) for r in await export_rows(
            conn, visible_sheets(principal, None, handled_from, handled_to).order_by(dispositions.c.handled_at.desc(),
                                                                                   dispositions.c.number.desc()),
            narrow="handled_from")]
    return await xlsx_export(principal, partial(_write_sheets, rows=rows), "dispositions", "处理单")


def _write_sheets(book: xlsxwriter.Workbook, rows: list[DispositionRow]) -> None:
    sheet = book.add_worksheet("处理单")
    sheet.write_row(0, 0, SHEET_HEADERS, book.add_format({"bold": True}))
    for i, r in enumerate(rows, start=1):
        s = r.sheet
        sheet.write_row(i, 0, [
            r.number, r.alert_id, r.rule_number or "", ACTION_NAMES.get(r.action, r.action),
            LEVEL_NAMES.get(r.from_level, r.from_level), LEVEL_NAMES.get(r.to_level, r.to_level),
            {"open": "处理中", "green": "绿灯"}.get(r.to_status, r.to_status), s.get("result") or "",
            s.get("violation_type") or "", s.get("method") or "", s["findings"], s.get("rectification") or "",
            s.get("returned_amount") or "", s.get("adjusted_amount") or "", s.get("other_amount") or "",
            "、".join(s.get("measures") or []), "、".join(s.get("attachments") or []), s["handler"],
            s.get("handler_org_unit") or "", s.get("handler_division") or "",
            beijing(r.handled_at), r.org_unit or "", r.owner_division or ""])


# The levels as the seed's forms name them (附件2 says 黄灯预警, 红灯预警; the platform's people say 黄灯, 红灯).
FORM_LEVEL_NAMES = {"yellow_bell": "黄色警铃", "yellow": "黄灯预警", "red": "红灯预警"}
RULE_FORM_HEADERS = ["序号", "规则名称", "规则分类", "预警级别", "规则描述", "规则依据", "适用范围", "预警处理人"]
REQUIREMENT_FORM_HEADERS = ["序号", "业务需求类型", "业务需求描述", "依据", "适用范围"]


def _scope(scope: list[str]) -> str:
    return "全市" if "*" in scope else "、".join(ORG_UNITS.get(u, u) for u in scope)


@router.get("/rule-proposals/export", response_class=Response, tags=["rules"],
            responses={200: {"content": {XLSX: {}}, "description": "附件2 with the proposals of a year."}})
async def export_rule_form(runtime: RuntimeDep, principal: ExportingPrincipal, fiscal_year: FiscalYear) -> Response:
    """财政扶贫资金动态监控平台预警规则申请表 (附件2): the year's proposals not turned down; only as a co-signed export
    (it is reported to the province)."""
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(select(rule_proposals.c.definition).where(
            rule_proposals.c.fiscal_year == fiscal_year, rule_proposals.c.status != "rejected")
            .order_by(rule_proposals.c.proposed_at))).scalars().all()
    table = [[i, d["name"], d["category"], FORM_LEVEL_NAMES[d["level"]], d["description"], d["basis"],
              _scope(d["scope"]), d["handler"]] for i, d in enumerate(rows, start=1)]
    form = partial(write_seed_form, title="财政扶贫资金动态监控平台预警规则申请表", headers=RULE_FORM_HEADERS, rows=table, notes=[
        "注：1. 规则分类包括：指标管理、支出管理、绩效管理、到人到户等。", "2. 预警级别包括：黄色警铃、黄灯预警、红灯预警。"])
    return await xlsx_export(principal, form, f"rule-form-{fiscal_year}", f"预警规则申请表-{fiscal_year}")


@router.get("/requirements/export", response_class=Response, tags=["rules"],
            responses={200: {"content": {XLSX: {}}, "description": "附件1 with the requirements of a year."}})
async def export_requirement_form(runtime: RuntimeDep, principal: ExportingPrincipal, fiscal_year: FiscalYear) -> Response:
    """财政扶贫资金动态监控平台业务需求申请表 (附件1); only as a co-signed export (it is reported to the province)."""
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(select(requirements).where(requirements.c.fiscal_year == fiscal_year)
                                   .order_by(requirements.c.proposed_at))).all()
    table = [[i, r.kind, r.description, r.basis, _scope(list(r.scope))] for i, r in enumerate(rows, start=1)]
    form = partial(write_seed_form, title="财政扶贫资金动态监控平台业务需求申请表", headers=REQUIREMENT_FORM_HEADERS,
                   rows=table, notes=["注：业务需求类型包括预算分配下达、资金支付、绩效管理等。"])
    return await xlsx_export(principal, form, f"requirement-form-{fiscal_year}", f"业务需求申请表-{fiscal_year}")
