"""The web console names what the platform names: its org units, divisions and the 处理单's national lists are the
contracts' own, and each screen of its menu is built on an endpoint of the access table."""

import re
from pathlib import Path

from backbone.access import ACCESS
from contracts.province import MessageKind
from contracts.values import DIVISIONS, MEASURES, ORG_UNITS, VERIFICATION_METHODS, VIOLATION_TYPES, PovertyStatus, Registry
from services.sync.exchange.lifecycle import MessageStatus
from services.sync.reports.lifecycle import ReportStatus, ReportStep

WEB = Path(__file__).resolve().parents[2] / "web" / "src" / "lib"


def table(source: str, name: str) -> dict[str, str]:
    body = re.search(rf"export const {name}: Record<string, string> = \{{(.*?)\n\}}", source, re.S)
    assert body, name
    return dict(re.findall(r"'?([\w]+)'?: '([^']*)'", body.group(1)))


def array(source: str, name: str) -> list[str]:
    body = re.search(rf"export const {name} = \[(.*?)\]", source, re.S)
    assert body, name
    return re.findall(r"'([^']*)'", body.group(1))


def test_the_consoles_names_are_the_contracts():
    names = (WEB / "names.ts").read_text()
    assert table(names, "ORG_UNITS") == ORG_UNITS
    assert table(names, "DIVISIONS") == DIVISIONS
    assert array(names, "VIOLATION_TYPES") == list(VIOLATION_TYPES)
    assert array(names, "MEASURES") == list(MEASURES)
    assert array(names, "METHODS") == list(VERIFICATION_METHODS)


def test_every_screen_of_the_menu_needs_an_endpoint_of_the_access_table():
    menu = (WEB / "menu.ts").read_text()
    needs = re.findall(r"needs: '([^']+)'", menu)
    also = [n for listed in re.findall(r"orNeeds: \[([^\]]*)\]", menu) for n in re.findall(r"'([^']+)'", listed)]
    assert needs and also and set(needs + also) <= ACCESS.keys()


def test_the_registries_reports_and_exchange_are_named_for_every_value_the_platform_gives():
    names = (WEB / "names.ts").read_text()
    assert table(names, "REGISTRIES").keys() == {r.value for r in Registry}
    assert table(names, "POVERTY_STATUSES").keys() == {s.value for s in PovertyStatus}
    reports = (WEB / "reports.ts").read_text()
    assert table(reports, "REPORT_STATUSES").keys() == {s.value for s in ReportStatus}
    # A report's history begins with its draft (a division's) or its consolidation (the city's).
    assert table(reports, "REPORT_STEPS").keys() == {s.value for s in ReportStep} | {"draft"}
    exchange = (WEB / "exchange.ts").read_text()
    assert table(exchange, "MESSAGE_KINDS").keys() == {k.value for k in MessageKind}
    assert table(exchange, "MESSAGE_STATUSES").keys() == {s.value for s in MessageStatus}
