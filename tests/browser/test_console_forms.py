"""The console's third part in Chromium against the whole stack: an indicator's flow drawn as a Sankey chart down to
the payees, a goal filed through the 绩效 form, a rule proposed through the 附件2 form, and a form walked by keyboard
alone at 1366×768."""

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import person
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.people import PASSWORD
from tests.e2e.test_performance import known
from tests.support.waiting import poll

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
# People and document numbers no other run of the suite's stack has used (accounts outlive a test).
RUN = uuid4().int


def waited(condition):
    """`poll` from another thread: Playwright's sync API keeps an event loop running in this one, where poll would
    hand back an awaitable instead of waiting."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(poll, condition).result()


def test_an_indicators_flow_is_drawn_as_a_sankey_chart_down_to_its_payees(console, stack, servers):
    budget = person(servers.database_url, f"预算处-郑-{RUN % 10_000}", ["budget"])
    admin = stack.admin_headers()
    indicator = httpx.post(f"{stack.gateway}/api/v1/indicators", headers=admin, json=indicator_body(
        "9000.00", org_unit="220100", doc_no=f"长财农指〔2026〕{RUN % 1000 + 1000}号")).json()["id"]
    httpx.post(f"{stack.gateway}/api/v1/indicators/{indicator}/allocations", headers=admin, json={"allocations": [
        {"org_unit": "220102", "owner_division": "agriculture", "amount": "4000.00"}]}).raise_for_status()
    payee = f"永兴村合作社{RUN % 10_000}"
    paid = httpx.post(f"{stack.gateway}/api/v1/payments/batch", headers=stack.treasury_headers(), json={"payments": [
        payment_body(f"{uuid4().hex[:8]}-flow", indicator, "1200.00", org_unit="220100", payee_name=payee)]})
    assert paid.status_code in (200, 201, 207), paid.text
    assert waited(lambda: httpx.get(f"{stack.gateway}/api/v1/indicators/{indicator}/flow",
                                    headers=admin).json()["payments"]), "the payment never reached the ledger"

    tab = console()
    page = tab.sign_in(budget)
    tab.open(f"/ledger/{indicator}")
    page.get_by_text("桑基图", exact=True).click()
    chart = page.locator("[data-testid=flow-sankey]")
    expect(chart.locator("canvas")).to_be_visible()
    # The chart's bands in words (its label): the allocation, the payee by name, the balance left.
    expect(chart).to_have_attribute("aria-label", (
        "资金流向：长春市本级 · 农业处 → 南关区 · 农业处 ¥4,000.00；南关区 · 农业处 → 可用余额 ¥4,000.00；"
        f"长春市本级 · 农业处 → {payee} ¥1,200.00；长春市本级 · 农业处 → 可用余额 ¥3,800.00"))
    tab.screenshot("24-indicator-sankey")


def test_a_division_sets_a_goal_through_the_form_and_sees_it_filed(console, stack, servers):
    owner = person(servers.database_url, f"农业处-钱-{RUN % 10_000}", ["division"], division="agriculture")
    doc_no = f"长财农指〔2026〕{RUN % 1000 + 2000}号"
    indicator = httpx.post(f"{stack.gateway}/api/v1/indicators", headers=stack.admin_headers(), json=indicator_body(
        "50000.00", org_unit="220100", doc_no=doc_no)).json()["id"]
    assert waited(lambda: known(stack, stack.admin_headers(), indicator)), "performance never learned the indicator"

    tab = console()
    page = tab.sign_in(owner)
    tab.open(f"/ledger/{indicator}")
    page.get_by_role("link", name="设定绩效目标").click()
    form = page.locator("[data-testid=goal-form]")
    expect(form.locator("[data-testid=goal-indicator]")).to_contain_text(doc_no)
    form.locator("textarea[name=goal]").fill("扶持产业项目带动脱贫户增收")
    form.locator("input[name=indicator_name_0]").fill("带动脱贫户数")
    form.locator("input[name=indicator_target_0]").fill("300")
    form.locator("input[name=indicator_unit_0]").fill("户")
    form.locator("input[name=indicator_weight_0]").fill("60")
    form.get_by_role("button", name="报送").click()
    expect(form).to_contain_text("权重合计应为100，现为60")
    form.locator("input[name=indicator_weight_0]").fill("100")
    tab.screenshot("25-goal-form")
    form.get_by_role("button", name="报送").click()
    expect(form).to_be_hidden()
    row = page.locator("[data-testid=goals-table] tbody tr", has_text="扶持产业项目带动脱贫户增收")
    expect(row).to_contain_text("已报送")
    row.locator(".el-table__expand-icon").click()
    expect(page.locator("[data-testid=goals-table]")).to_contain_text("带动脱贫户数")
    tab.screenshot("26-goal-filed")


def test_a_division_proposes_a_rule_through_the_form_of_annex_2(console, servers):
    proposer = person(servers.database_url, f"社会保障处-孔-{RUN % 10_000}", ["division"], division="social_security")
    number = f"ZC-{RUN % 900 + 100}"
    name = f"现金支付补助资金超过限额{RUN % 10_000}"
    tab = console()
    page = tab.sign_in(proposer)
    page.get_by_role("menuitem", name="规则").click()
    page.get_by_role("tab", name="规则建议（附件2）").click()
    page.get_by_role("button", name="提出规则申请（附件2）").click()
    form = page.locator("[data-testid=proposal-form]")
    form.locator(".el-select").first.click()  # 参照规则
    page.get_by_role("option", name="ZC-001 支付金额超过指标可用余额").click()
    form.get_by_text("修订该规则（否则参照新建）").click()  # a new rule drafted from ZC-001
    form.locator("input[name=rule_number]").fill(number)
    form.locator("input[name=rule_name]").fill(name)
    form.locator("[aria-label=适用年度] input, input[aria-label=适用年度]").first.fill("2020")
    form.get_by_role("button", name="提交申请").click()
    expect(form).to_contain_text("年及以后")
    form.locator("[aria-label=适用年度] input, input[aria-label=适用年度]").first.fill("2031")
    tab.screenshot("27-rule-proposal-form")
    form.get_by_role("button", name="提交申请").click()
    expect(form).to_be_hidden()
    row = page.locator("[data-testid=proposals-table] tbody tr", has_text=name)
    expect(row).to_contain_text("待审核")
    expect(row).to_contain_text(number)


def focus_to(page, selector: str, text: str = "", key: str = "Tab", limit: int = 80) -> None:
    """Press `key` until the focused element matches `selector` (and holds `text`), showing where it is."""
    for _ in range(limit):
        if page.evaluate("""([s, t]) => { const e = document.activeElement;
            return Boolean(e && e.matches(s) && (!t || e.textContent.includes(t))); }""", [selector, text]):
            assert page.evaluate("() => document.activeElement.matches(':focus-visible')"), f"{selector}: focus not shown"
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} {text} is not reachable with {key}")


def test_a_person_signs_in_finds_the_rules_and_files_a_requirement_by_keyboard_alone(console, servers):
    proposer = person(servers.database_url, f"教育处-鲁-{RUN % 10_000}", ["division"], division="education")
    tab = console()
    page = tab.open("/login")
    keys = page.keyboard
    focus_to(page, "input[name=username]")
    keys.type(proposer)
    focus_to(page, "input[name=password]")
    keys.type(PASSWORD)
    keys.press("Enter")
    page.locator("[data-testid=who]").wait_for()

    # The menu is one Tab stop; arrows move in it, Enter opens an entry.
    focus_to(page, "[role=menuitem]")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    focus_to(page, "[role=menuitem]", "规则", key="ArrowDown", limit=20)
    keys.press("Enter")
    expect(page.locator("[data-testid=rules-table]")).to_be_visible()
    focus_to(page, "[role=tab]")
    focus_to(page, "[role=tab]", "规则建议", key="ArrowRight", limit=4)
    expect(page.locator("[data-testid=proposals-table]")).to_be_visible()

    # A dialog closes with Esc; a form is filled with Tab and sent with Enter.
    focus_to(page, "button", "提出规则申请")
    keys.press("Enter")
    expect(page.locator("[data-testid=proposal-form]")).to_be_visible()
    keys.press("Escape")
    expect(page.locator("[data-testid=proposal-form]")).to_be_hidden()
    focus_to(page, "button", "提出业务需求")
    keys.press("Enter")
    form = page.locator("[data-testid=requirement-form]")
    expect(form).to_be_visible()
    focus_to(page, "textarea[name=requirement_description]")
    keys.type("现金支付到人到户补助资金时，按户累计超过限额提醒")
    focus_to(page, "textarea[name=requirement_basis]")
    keys.type("《长春市财政扶贫资金动态监控工作规程》第十五条")
    focus_to(page, "input[name=requirement_contact]")
    keys.type("0431-88776655")
    tab.screenshot("28-requirement-by-keyboard")
    keys.press("Enter")
    expect(form).to_be_hidden()
    expect(page.get_by_text("业务需求已提交，由国库处汇总报省财政厅")).to_be_visible()
