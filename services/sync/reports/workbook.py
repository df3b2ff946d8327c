"""The monthly report as a printable workbook (月报): what a finance office hands in — the title, 填报单位, 填报人,
日期, the sections of 第二十四条 and the signature lines."""

from decimal import Decimal

from fastapi import Response

from backbone.spreadsheets import Cell
from backbone.workbooks import beijing, money_cell, report_form, xlsx_download
from contracts.province import FundFigures
from contracts.values import DIVISIONS
from services.sync.reports.lifecycle import ReportKind
from services.sync.reports.records import ReportOut

FUND_HEADERS = ["区（开发区）", "资金名称", "收到", "分配下达", "支付", "退回", "可用余额", "支付进度", "序时进度"]
LEVELS = {"yellow_bell": "黄色警铃", "yellow": "黄灯", "red": "红灯"}


def title_of(report: ReportOut) -> str:
    year, month = report.month.split("-")
    whose = DIVISIONS.get(report.division, report.division) if report.kind is ReportKind.DIVISION else "长春市"
    return f"{whose}财政扶贫资金动态监控情况月报（{year}年{int(month)}月）"


def _share(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.2f}%"


def _fund(district: str, f: FundFigures, time_progress: Decimal) -> list[Cell]:
    return [district, f.fund_name, *(money_cell(v) for v in (f.received, f.allocated, f.paid, f.refunded,
                                                               f.available)),
            _share(f.payment_progress), _share(time_progress)]


def report_workbook(report: ReportOut) -> Response:
    """The report's workbook as a download."""
    fig = report.figures
    tp = fig.time_progress
    money_rows = [_fund(d.org_unit_name, f, tp) for d in fig.districts for f in [*d.funds, d.totals]]
    money_rows += [_fund("全部", f, tp) for f in [*fig.funds, fig.totals]]
    a = fig.alerts
    alerts = [[LEVELS[r.level], r.rule_number, r.count] for r in a.raised]
    alerts += [["已处理（绿灯）", "", a.handled_green], ["已处理（红灯）", "", a.handled_red]]
    alerts += [[f"未处理：{LEVELS[o.level]}", o.rule_number, f"{o.alert_id}（{o.working_days}个工作日）"]
               for o in a.still_open]
    d = fig.disposals
    disposals: list[list[Cell]] = [["确认违规", d.violations_confirmed], ["收回金额", money_cell(d.recovered)]]
    disposals += [[f"处理措施：{m.measure}", m.count] for m in d.measures]
    for m in fig.measures:
        disposals += [[f"{m.org_unit_name}：收回资金（{m.recoveries}笔）", money_cell(m.recovered)],
                      [f"{m.org_unit_name}：收回短缺", money_cell(m.short)],
                      [f"{m.org_unit_name}：暂缓拨付", m.suspensions], [f"{m.org_unit_name}：移交监督局", m.referrals],
                      [f"{m.org_unit_name}：通报", m.circulars]]
    p = fig.performance
    performance: list[list[Cell]] = [["设定绩效目标", p.goals_set], ["报送执行情况", p.reports_filed],
                                     ["严重偏离", p.severe_deviations]]
    suspicious = [[s.alert_id, s.rule_number, LEVELS[s.level], s.org_unit or "", s.result or "待核实", s.method or ""]
                  for s in fig.suspicious]
    sections = [("一、资金情况", FUND_HEADERS, money_rows),
                ("二、预警情况", ["预警", "规则", "数量"], alerts),
                ("三、处理结果", ["项目", "数量/金额"], disposals),
                ("四、绩效情况", ["项目", "数量"], performance)]
    if report.kind is ReportKind.CITY:
        sections.append(("五、主管处（室）月报", ["处室", "月报", "支付", "可用余额", "问题及建议", "缺报原因"],
                         [[part.division_name, part.report_id or "", money_cell(part.totals.paid) if part.totals else "",
                           money_cell(part.totals.available) if part.totals else "", part.analysis or "",
                           part.without_reason or ""] for part in report.divisions]))
        sections.append(("六、疑点信息核实处理情况", ["预警编号", "规则", "级别", "区", "认定结果", "核实方式"],
                         suspicious))
        sections.append(("监督局意见", [], [[report.supervision_opinion or ""]]))
    sections.append(("问题及建议", [], [[report.analysis or ""]]))
    stamp = [("填报单位", "长春市财政局" + DIVISIONS.get(report.division, report.division)),
             ("填报人", report.prepared_by), ("日期", beijing(report.updated_at)[:10]),
             ("编号", f"{report.report_id}（第{report.version}版" + (f"，更正{report.corrects}）" if report.corrects
                                                                     else "）")),
             ("统计截至", f"{beijing(fig.as_of)}（北京时间，不含）")]
    signatures = ["填报人（签字）：____________    日期：____________",
                  "处（室）负责人（签字）：____________    日期：____________"]
    if report.kind is ReportKind.CITY:
        signatures += ["监督局（签字）：____________    日期：____________",
                       "局脱贫办会签（签字）：____________    日期：____________"]
    content = report_form(title_of(report), stamp, sections, signatures)
    return xlsx_download(content, f"monthly-report-{report.report_id}", title_of(report))
