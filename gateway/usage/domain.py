"""The platform's use (第十条(四)) as arithmetic: per org unit and division, the people with an account, those
who used it, their sign-ins and their writes, from the audit trail; the items overdue there; and the treasury's
monthly circular (通报) made of it. Pure: no I/O, no clock."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts.values import DIVISIONS, ORG_UNITS

# A sign-in with a token, and the web console's (a session cookie instead).
SIGN_IN_ACTIONS = frozenset({"auth.login", "POST /api/v1/auth/session"})
WRITE_METHODS = ("POST ", "PUT ", "PATCH ", "DELETE ")
# Keeping one's own account (signing out, a password, a second factor) is no work on the platform.
OWN_ACCOUNT = "/api/v1/auth/"
RECIPIENTS = ["局脱贫办", "有关处（室）", "各区（开发区）财政局"]

Unit = tuple[str, str | None]  # (org unit, division)


@dataclass(frozen=True)
class Person:
    """Someone with an account during the month."""

    username: str
    org_unit: str
    division: str | None


@dataclass(frozen=True)
class Entries:
    """How many entries of the audit trail a person has under one action and outcome in the month."""

    actor: str
    action: str
    outcome: str
    count: int

    @property
    def succeeded(self) -> bool:
        return self.outcome.isdigit() and int(self.outcome) < 400

    @property
    def sign_in(self) -> bool:
        return self.action == "auth.login" or (self.action in SIGN_IN_ACTIONS and self.succeeded)

    @property
    def write(self) -> bool:
        """A piece of work done on the platform: a write that succeeded, other than keeping one's own account."""
        return (self.action.startswith(WRITE_METHODS) and OWN_ACCOUNT not in self.action and self.succeeded
                and self.action not in SIGN_IN_ACTIONS)


@dataclass(frozen=True)
class UsageRow:
    """One org unit and division's month on the platform."""

    org_unit: str
    org_unit_name: str
    division: str | None
    division_name: str | None
    people: int
    active_people: int
    sign_ins: int
    actions: int
    overdue_items: int


@dataclass(frozen=True)
class Overdue:
    """Steps left overdue, by district and by city division (the district statistics')."""

    by_org_unit: Mapping[str, int]
    by_division: Mapping[str, int]

    def of(self, unit: Unit) -> int:
        org_unit, division = unit
        if org_unit in self.by_org_unit:
            return self.by_org_unit[org_unit]
        return self.by_division.get(division or "", 0)


def usage_rows(people: Iterable[Person], entries: Iterable[Entries], overdue: Overdue) -> list[UsageRow]:
    """A row per org unit and division that has people, in code order."""
    unit_of: dict[str, Unit] = {p.username: (p.org_unit, p.division) for p in people}
    units: dict[Unit, list[str]] = {}
    for username, unit in unit_of.items():
        units.setdefault(unit, []).append(username)
    sign_ins: dict[str, int] = {}
    actions: dict[str, int] = {}
    for e in entries:
        if e.actor in unit_of:
            if e.sign_in:
                sign_ins[e.actor] = sign_ins.get(e.actor, 0) + e.count
            elif e.write:
                actions[e.actor] = actions.get(e.actor, 0) + e.count
    rows = []
    for unit in sorted(units, key=lambda u: (u[0], u[1] or "")):
        names = units[unit]
        org_unit, division = unit
        rows.append(UsageRow(
            org_unit=org_unit, org_unit_name=ORG_UNITS.get(org_unit, org_unit), division=division,
            division_name=DIVISIONS.get(division, division) if division else None, people=len(names),
            active_people=sum(1 for n in names if sign_ins.get(n) or actions.get(n)),
            sign_ins=sum(sign_ins.get(n, 0) for n in names), actions=sum(actions.get(n, 0) for n in names),
            overdue_items=overdue.of(unit)))
    return rows


def unit_name(row: UsageRow) -> str:
    return f"{row.org_unit_name}{row.division_name or ''}"


@dataclass(frozen=True)
class Circular:
    """国库处's monthly circular on the platform's use (第十条(四)): to the poverty office and the divisions."""

    month: str
    title: str
    recipients: list[str]
    summary: str
    not_used: list[str]
    with_overdue: list[str]
    rows: list[UsageRow]


def circular(month: str, rows: list[UsageRow]) -> Circular:
    """The circular of a month: the totals in a sentence, who did not use the platform, who left items overdue."""
    year, number = month.split("-")
    not_used = [unit_name(r) for r in rows if r.active_people == 0]
    with_overdue = [f"{unit_name(r)}（{r.overdue_items}项）" for r in rows if r.overdue_items]
    summary = (f"{year}年{int(number)}月，{len(rows)}个单位{sum(r.people for r in rows)}名用户中有"
               f"{sum(r.active_people for r in rows)}名使用监控平台，登录{sum(r.sign_ins for r in rows)}次，"
               f"办理业务{sum(r.actions for r in rows)}项；{len(not_used)}个单位本月无人使用；"
               f"{len(with_overdue)}个单位有超时未处理事项{sum(r.overdue_items for r in rows)}项。")
    return Circular(month=month, title=f"关于{year}年{int(number)}月财政扶贫资金动态监控平台使用情况的通报",
                    recipients=RECIPIENTS, summary=summary, not_used=not_used, with_overdue=with_overdue, rows=rows)
