"""The treasury's circular on the platform's use as a printable workbook (通报)."""

from fastapi import Response

from backbone.workbooks import report_form, xlsx_download
from gateway.usage.domain import Circular, unit_name

HEADERS = ["单位", "用户数", "使用人数", "登录次数", "办理业务", "超时未处理"]


def circular_workbook(c: Circular) -> Response:
    """The circular of a month as a download."""
    rows = [[unit_name(r), r.people, r.active_people, r.sign_ins, r.actions, r.overdue_items] for r in c.rows]
    sections = [("一、总体情况", [], [[c.summary]]),
                ("二、各单位使用情况", HEADERS, rows),
                ("三、本月无人使用的单位", [], [[name] for name in c.not_used] or [["无"]]),
                ("四、有超时未处理事项的单位", [], [[name] for name in c.with_overdue] or [["无"]])]
    stamp = [("发文单位", "长春市财政局国库处"), ("主送", "、".join(c.recipients)), ("统计月份", c.month),
             ("依据", "《长春市财政扶贫资金动态监控工作规程》第十条（四）")]
    content = report_form(c.title, stamp, sections, ["国库处（盖章）    日期：____________"])
    return xlsx_download(content, f"usage-circular-{c.month}", c.title)
