"""The web console in Chromium against the whole stack: each role's menu and scope, a red light arriving live on
an open dashboard, a division handling it through the 处理单 form to green, the print view, the ledger's as_of."""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e import db
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.people import PASSWORD
from tests.browser.conftest import person

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# A 开发区 the rest of the suite leaves alone, so its light is this module's to watch.
WATCHED = "220174"


def menu_of(page) -> list[str]:
    return [t.strip() for t in page.locator(".el-menu-item").all_inner_texts()]


def test_each_role_signs_in_and_sees_only_its_menu_and_scope(console, servers):
    district = person(servers.database_url, "南关区财政局-赵", ["district"], org_unit="220102")
    tab = console()
    page = tab.open("/")
    expect(page).to_have_url(f"{tab.base}/login?next=/")
    tab.screenshot("01-login")
    tab.sign_in(district)
    expect(page.locator("[data-testid=who]")).to_contain_text("南关区")
    assert menu_of(page) == ["首页", "待办", "预警", "总台账", "绩效", "日报", "权限申请", "导出"]
    cards = page.locator("[data-testid=lights] [data-org-unit]")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("南关区")
    expect(page.locator("[data-testid=live]")).to_be_visible()  # figures drawn, stream open
    tab.screenshot("02-dashboard-district")

    treasury = person(servers.database_url, "国库处-钱", ["treasury"])
    other = console()
    page = other.sign_in(treasury)
    assert menu_of(page) == ["首页", "待办", "预警", "总台账", "支付明细", "规则", "月报", "日报", "数据交换", "权限申请",
                             "导出", "管理"]
    expect(page.locator("[data-testid=lights] [data-org-unit]")).to_have_count(11)
    expect(page.get_by_text("长春汽车经济技术开发区")).to_be_visible()
    other.open("/payments")
    expect(page.locator("[data-testid=payments-table]")).to_be_visible()
    other.screenshot("03-payments")
    # A district has no payments screen: typed in, the page's data is refused, not shown.
    tab.open("/payments")
    expect(tab.page.get_by_text("您没有进行此项操作的权限")).to_be_visible()
    tab.errors.clear()  # the refused request is what this step is about


def test_a_payment_turns_a_light_red_live_and_a_division_handles_it_to_green(console, stack, servers):
    city = person(servers.database_url, "监督局-孙", ["supervision"])
    watcher = console()
    page = watcher.sign_in(city)
    light = page.locator(f"[data-testid=lights] [data-org-unit='{WATCHED}']")
    expect(light).to_be_visible()
    reds_before = int(light.locator(".red-text").inner_text())
    page.evaluate("window.__stillTheSamePage = true")

    # The treasury system pays 150.00 against an indicator of 100.00: ZC-001, a red light.
    admin = stack.admin_headers()
    indicator = httpx.post(f"{stack.gateway}/api/v1/indicators", headers=admin,
                           json=indicator_body("100.00", org_unit=WATCHED)).json()["id"]
    paid = httpx.post(f"{stack.gateway}/api/v1/payments/batch", headers=stack.treasury_headers(), json={"payments": [
        payment_body(f"{uuid4().hex[:8]}-over", indicator, "150.00", org_unit=WATCHED)]})
    assert paid.status_code in (200, 201, 207), paid.text
    expect(light).to_have_attribute("data-light", "red")
    expect(light.locator(".red-text")).to_have_text(str(reds_before + 1))
    assert page.evaluate("window.__stillTheSamePage") is True, "the light changed without a reload"
    watcher.screenshot("04-dashboard-red")

    alerts = httpx.get(f"{stack.gateway}/api/v1/alerts", headers=admin,
                       params={"org_unit": WATCHED, "rule": "spending.payment_exceeds_available", "limit": 1000})
    alert_id = next(a["id"] for a in alerts.json()["items"] if a["subject"]["id"] == indicator or
                    indicator in str(a["subject"]))

    owner = person(servers.database_url, "农业处-王科长", ["division"], division="agriculture")
    handler = console()
    page = handler.sign_in(owner)
    expect(page.locator("[data-testid=todo-badge]")).to_be_visible()
    handler.open("/todo")
    expect(page.locator("[data-testid=todo-table]")).to_contain_text("ZC-001 支付金额超过指标可用余额")
    handler.screenshot("05-todo")
    handler.open("/alerts")
    expect(page.locator("[data-testid=alerts-table]")).to_contain_text("支付金额超过指标可用余额")
    handler.screenshot("05-alerts-list")
    handler.open(f"/alerts/{alert_id}")
    form = page.locator("[data-testid=disposal-form]")
    expect(form).to_be_visible()
    form.get_by_text("登记纠正").click()
    form.get_by_role("button", name="提交处理单").click()
    expect(form.get_by_text("请填写基本情况描述")).to_be_visible()  # checked before anything is sent
    form.locator("textarea[name=findings]").fill("已追回超付资金50.00元，补足指标后重新支付")
    form.locator("input[name=returned_amount]").fill("50.00")
    handler.screenshot("06-disposal-form")
    form.get_by_role("button", name="提交处理单").click()
    expect(page.locator("[data-testid=alert-status]")).to_contain_text("已转绿灯")
    expect(page.get_by_text("在此环节停留 0 个工作日").first).to_be_visible()
    handler.screenshot("07-alert-detail", full_page=True)

    handler.open(f"/alerts/{alert_id}/print")
    sheet = page.locator("[data-testid=print-sheet]")
    expect(sheet).to_contain_text("财政扶贫资金动态监控预警处理单")
    for line in ("经办人：农业处-王科长", "负责人：", "日期：2026-11-", "¥50.00", "长春汽车经济技术开发区", "农业处"):
        expect(sheet).to_contain_text(line)
    handler.screenshot("08-print", full_page=True)


def test_the_ledgers_as_of_date_changes_the_figures(console, stack, servers):
    budget = person(servers.database_url, "预算处-周", ["budget"])
    httpx.post(f"{stack.gateway}/api/v1/indicators", headers=stack.admin_headers(),
               json=indicator_body("1234567.00", org_unit="220103")).raise_for_status()
    tab = console()
    page = tab.sign_in(budget)
    tab.open("/ledger")
    totals = page.locator("[data-testid=ledger-totals]")
    expect(page.locator("[data-testid=ledger-table]")).to_contain_text("¥1,234,567.00")
    today = totals.inner_text()
    tab.screenshot("09-ledger")
    # The suite lives on 2026-11-10: the day before, none of its indicators were registered.
    date = page.get_by_placeholder("截至日期（默认今日）")
    date.fill("2026-11-09")
    date.press("Enter")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("[data-testid=as-of-shown]")).to_have_text("截至 2026-11-09 日终（北京时间）的台账")
    expect(totals).not_to_have_text(today)
    expect(page.locator("[data-testid=ledger-table]")).not_to_contain_text("¥1,234,567.00")
    tab.screenshot("10-ledger-as-of")


def test_an_idle_session_sends_the_page_back_to_sign_in_with_the_reason(console, servers):
    name = person(servers.database_url, "二道区财政局-吴", ["district"], org_unit="220105")
    tab = console()
    page = tab.sign_in(name)
    expect(page.locator("[data-testid=live]")).to_be_visible()
    # The person walks away: the session's last use is put two hours back (the idle limit is 30 minutes).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, db.execute(servers.database_url, "UPDATE gateway.sessions SET last_seen_at = "
                                            "now() - interval '2 hours' WHERE username = $1", name)).result()

    # Nobody touches the page: the stream's next keep-alive finds the session over, the page asks who is signed in,
    # and is told why it is not.
    expect(page).to_have_url(re.compile(r"/login\?"), timeout=60_000)
    expect(page.get_by_text("长时间未操作，登录已失效，请重新登录")).to_be_visible()
    tab.screenshot("11-idle-sign-in")
    # What Chromium logged of the refused stream and look-up is this test's subject, not a fault of the page.
    assert all("/api/v1/" in e for e in tab.errors), tab.errors
    tab.errors.clear()


def test_a_one_time_password_is_changed_first_then_the_person_signs_in_with_the_new_one(console, servers):
    name = person(servers.database_url, "绿园区财政局-郑", ["district"], org_unit="220106", must_change=True)
    tab = console()
    page = tab.open("/login")
    page.locator("input[name=username]").fill(name)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{tab.base}/password")
    expect(page.get_by_text("您正在使用一次性密码，请先设置新密码。")).to_be_visible()
    page.locator("input[name=current_password]").fill(PASSWORD)
    page.locator("input[name=new_password]").fill("short")
    page.get_by_role("button", name="确定").click()
    expect(page.get_by_text("新密码不符合密码规则")).to_be_visible()
    tab.screenshot("12-password-change")
    tab.errors.clear()  # the refused change (422) is logged by Chromium as a failed request
    page.locator("input[name=new_password]").fill("Lvyuan#2026new")
    page.get_by_role("button", name="确定").click()
    expect(page.get_by_text("密码已修改，请使用新密码重新登录")).to_be_visible()
    tab.sign_in(name, "Lvyuan#2026new")
    expect(page.locator("[data-testid=lights] [data-org-unit]")).to_have_count(1)
