"""The district statistics as a printable workbook: one row per district with the figures of the JSON answer."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from fastapi import Response

from backbone.spreadsheets import Cell
from backbone.workbooks import beijing, money_cell, report_form, xlsx_download

if TYPE_CHECKING:
    from services.sync.statistics.api import DistrictStatisticsOut, StatisticsOut

LEVELS = {"yellow_bell": "黄色警铃", "yellow": "黄灯", "red": "红灯"}
STATUSES = {"open": "未处理", "green": "绿灯", "cleared": "已消除"}
HEADERS = ["区（开发区）", "收到指标", "分配下达", "下达比例", "下达笔数", "平均工作日", "最长工作日", "支付",
           "支付进度", "序时进度", "绩效按时", "绩效逾期", "本月预警", "超时环节", "通报", "约谈"]


def _share(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.2f}%"


def _days(value: Decimal | int | None) -> Cell:
    return "" if value is None else float(value)


def _row(d: DistrictStatisticsOut) -> list[Cell]:
    a, p = d.allocation, d.payment
    return [d.org_unit_name, money_cell(a.received), money_cell(a.allocated), _share(a.allocated_share),
            a.allocations, _days(a.average_working_days), _days(a.max_working_days), money_cell(p.paid - p.refunded),
            _share(p.payment_progress) + ("（落后）" if p.behind else ""), _share(p.time_progress),
            d.filings.on_time, d.filings.late, d.alerts_raised, d.overdue_steps, d.circulars, d.talks]


def statistics_workbook(stats: StatisticsOut) -> Response:
    """The statistics of a month as a download."""
    year, month = stats.month.split("-")
    title = f"区（开发区）财政扶贫资金动态监控情况统计（{year}年{int(month)}月）"
    alerts = [[d.org_unit_name, LEVELS[t.level], STATUSES[t.status], t.count] for d in stats.districts
              for t in d.alerts]
    steps = [[d.org_unit_name, LEVELS[s.level], s.waits, _days(s.average_working_days), _days(s.max_working_days),
              s.overdue] for d in stats.districts for s in d.step_times if s.waits]
    divisions = [[v.division_name, v.open_alerts, v.overdue_steps] for v in stats.divisions]
    sections = [("一、分区情况", HEADERS, [_row(d) for d in stats.districts]),
                ("二、预警状态", ["区（开发区）", "级别", "状态", "数量"], alerts),
                ("三、各环节处理时间", ["区（开发区）", "环节", "次数", "平均工作日", "最长工作日", "超时"], steps)]
    if divisions:
        sections.append(("四、主管处（室）本级预警", ["处室", "未处理", "超时环节"], divisions))
    stamp = [("统计月份", stats.month), ("统计截至", f"{beijing(stats.as_of)}（北京时间，不含）"),
             ("序时进度", _share(stats.time_progress))]
    content = report_form(title, stamp, sections, ["制表人：____________    日期：____________"])
    return xlsx_download(content, f"district-statistics-{stats.month}", title)
