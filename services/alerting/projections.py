"""Alerting's read models: balances learned from events, observed payments, and alerts."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Integer, MetaData, Numeric, Table, Text,
                        UniqueConstraint, func, select, text, update)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.identity import Principal
from backbone.workdays import SHANGHAI
from contracts.alerting import (AlertBreachRepeated, AlertRaised, AlertTransitioned,
                               FundsSuspended, RequirementCommented, RequirementProposed, RuleApproved,
                               RuleProposalReviewed, RuleProposed, SuspensionLiftDecided, SuspensionLiftRequested)
from contracts.envelope import EventEnvelope
from contracts.values import AlertStatus
from services.alerting.rules import WindowSpec
from services.alerting.rules.engine import IndicatorBalance

metadata = MetaData(schema="alerting")

balances = Table(
    "indicator_balances", metadata,
    Column("indicator_id", Text, primary_key=True), Column("amount", Numeric(18, 2)),
    Column("allocated", Numeric(18, 2)), Column("paid", Numeric(18, 2)), Column("refunded", Numeric(18, 2)),
    Column("fiscal_year", Integer), Column("org_unit", Text), Column("owner_division", Text),
    Column("parent_id", Text), Column("registered", JSONB), Column("suspended", Boolean),
)

observed_payments = Table(
    "observed_payments", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=True), Column("payment_id", Text, unique=True),
    Column("indicator_id", Text), Column("amount", Numeric(18, 2)), Column("paid_at", DateTime(timezone=True)),
    Column("org_unit", Text), Column("evaluated", Boolean), Column("event_id", UUID(as_uuid=True)),
    Column("traceparent", Text), Column("payload", JSONB), Column("payee_key", Text),
    Column("settlement_method", Text), Column("purpose", Text), Column("payee_type", Text),
)

alerts = Table(
    "alerts", metadata,
    Column("alert_id", Text, primary_key=True), Column("rule_id", Text), Column("rule_number", Text),
    Column("rule_name", Text), Column("level", Text), Column("status", Text), Column("subject_kind", Text),
    Column("subject_id", Text), Column("indicator_id", Text), Column("period", Text), Column("org_unit", Text),
    Column("owner_division", Text), Column("explanation", JSONB), Column("raised_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)), Column("version", Integer),
    Column("step_since", DateTime(timezone=True)), Column("occurrences", Integer), Column("escalate_to", Text),
    UniqueConstraint("rule_id", "subject_kind", "subject_id", "period"),
)

dispositions = Table(
    "dispositions", metadata,
    Column("number", Text, primary_key=True), Column("alert_id", Text), Column("action", Text),
    Column("from_level", Text), Column("to_level", Text), Column("to_status", Text), Column("sheet", JSONB),
    Column("handled_at", DateTime(timezone=True)), Column("org_unit", Text), Column("owner_division", Text),
    Column("rule_number", Text),
)

watches = Table(
    "watches", metadata,
    Column("watch_id", Text, primary_key=True), Column("rule_id", Text), Column("subject_id", Text),
    Column("state", Text), Column("counts_from", Date), Column("bell_at", DateTime(timezone=True)),
    Column("due_at", DateTime(timezone=True)), Column("period", Text), Column("org_unit", Text),
    Column("owner_division", Text), Column("facts", JSONB), Column("alert_id", Text),
    Column("started_at", DateTime(timezone=True)), Column("settled_at", DateTime(timezone=True)),
)

rule_proposals = Table(
    "rule_proposals", metadata,
    Column("proposal_id", Text, primary_key=True), Column("fiscal_year", Integer), Column("rule_id", Text),
    Column("number", Text), Column("name", Text), Column("status", Text), Column("definition", JSONB),
    Column("proposed_by", Text), Column("proposer_division", Text), Column("contact", Text),
    Column("proposed_at", DateTime(timezone=True)), Column("reviewed_by", Text), Column("review_reason", Text),
    Column("decided_at", DateTime(timezone=True)),
)

requirements = Table(
    "requirements", metadata,
    Column("requirement_id", Text, primary_key=True), Column("fiscal_year", Integer), Column("kind", Text),
    Column("description", Text), Column("basis", Text), Column("scope", ARRAY(Text)), Column("proposed_by", Text),
    Column("proposer_division", Text), Column("contact", Text), Column("proposed_at", DateTime(timezone=True)),
    Column("proposer_org_unit", Text), Column("to_division", Text),
)

# Districts' comments on the divisions' requirements (第十五条).
requirement_comments = Table(
    "requirement_comments", metadata,
    Column("comment_id", Text, primary_key=True), Column("requirement_id", Text), Column("fiscal_year", Integer),
    Column("org_unit", Text), Column("to_division", Text), Column("text", Text), Column("commented_by", Text),
    Column("commented_at", DateTime(timezone=True)),
)

sheet_counters = Table(
    "sheet_counters", metadata, Column("year", Integer, primary_key=True), Column("last", Integer),
)

# 暂缓拨付: an indicator's suspension where it stands (its events: stream suspension-<indicator_id>).
suspensions = Table(
    "suspensions", metadata,
    Column("indicator_id", Text, primary_key=True), Column("state", Text), Column("alert_id", Text),
    Column("sheet_number", Text), Column("org_unit", Text), Column("owner_division", Text),
    Column("suspended_by", Text), Column("suspended_at", DateTime(timezone=True)), Column("lift_reason", Text),
    Column("lift_requested_by", Text), Column("decided_by", Text), Column("decided_at", DateTime(timezone=True)),
    Column("version", Integer),
)

_INSERT_ALERT = alerts.insert()


async def project_alerts(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection of alert events into the alerts table."""
    raised: list[dict[str, Any]] = []
    for env in envelopes:
        if env.event_type != AlertRaised.event_type and raised:
            # New alerts in one multi-row statement, before any later step on them.
            await conn.execute(_INSERT_ALERT, raised)
            raised = []
        if env.event_type == AlertRaised.event_type:
            e = AlertRaised.model_validate(env.payload)
            raised.append(dict(
                alert_id=e.alert_id, rule_id=e.rule_id, rule_number=e.rule_number, rule_name=e.rule_name,
                level=e.level.value, status=AlertStatus.OPEN.value, subject_kind=e.subject.kind, subject_id=e.subject.id,
                indicator_id=e.subject.indicator_id, period=e.period, org_unit=e.org_unit,
                owner_division=e.owner_division, explanation=e.explanation, raised_at=e.raised_at,
                updated_at=env.occurred_at, version=env.version, step_since=env.occurred_at, occurrences=1,
                escalate_to=e.escalate_to.value if e.escalate_to else None,
            ))
        elif env.event_type == AlertTransitioned.event_type:
            t = AlertTransitioned.model_validate(env.payload)
            row = (await conn.execute(update(alerts).where(alerts.c.alert_id == t.alert_id).values(
                level=t.to_level.value, status=t.to_status.value, updated_at=env.occurred_at, version=env.version,
                step_since=env.occurred_at).returning(alerts.c.rule_number))).one()
            if t.sheet is not None:
                await conn.execute(dispositions.insert().values(
                    number=t.sheet.number, alert_id=t.alert_id, action=t.action.value, from_level=t.from_level.value,
                    to_level=t.to_level.value, to_status=t.to_status.value, sheet=t.sheet.model_dump(mode="json"),
                    handled_at=env.occurred_at, org_unit=t.org_unit, owner_division=t.owner_division,
                    rule_number=row.rule_number))
        elif env.event_type == AlertBreachRepeated.event_type:
            r = AlertBreachRepeated.model_validate(env.payload)
            await conn.execute(update(alerts).where(alerts.c.alert_id == r.alert_id).values(
                explanation=r.explanation, updated_at=env.occurred_at, version=env.version,
                occurrences=alerts.c.occurrences + 1))
    if raised:
        await conn.execute(_INSERT_ALERT, raised)


async def project_suspensions(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection of suspensions (暂缓拨付), and the mark on the indicator that later payments are judged by."""
    for env in envelopes:
        p, t = env.payload, suspensions.c
        if env.event_type == FundsSuspended.event_type:
            row = dict(state="suspended", alert_id=p["alert_id"], sheet_number=p["sheet_number"],
                       org_unit=p["org_unit"], owner_division=p["owner_division"], suspended_by=p["suspended_by"],
                       suspended_at=env.occurred_at, lift_reason=None, lift_requested_by=None, decided_by=None,
                       decided_at=None, version=env.version)
            await conn.execute(pg_insert(suspensions).values(indicator_id=p["indicator_id"], **row)
                               .on_conflict_do_update(index_elements=[t.indicator_id], set_=row))
            await _mark_suspended(conn, p["indicator_id"], True)
        elif env.event_type == SuspensionLiftRequested.event_type:
            await conn.execute(update(suspensions).where(t.indicator_id == p["indicator_id"]).values(
                state="lift_requested", lift_reason=p["reason"], lift_requested_by=p["requested_by"],
                version=env.version))
        elif env.event_type == SuspensionLiftDecided.event_type:
            await conn.execute(update(suspensions).where(t.indicator_id == p["indicator_id"]).values(
                state="lifted" if p["consent"] else "suspended", decided_by=p["decided_by"],
                decided_at=env.occurred_at, version=env.version))
            if p["consent"]:
                await _mark_suspended(conn, p["indicator_id"], False)


async def _mark_suspended(conn: AsyncConnection, indicator_id: str, suspended: bool) -> None:
    await conn.execute(update(balances).where(balances.c.indicator_id == indicator_id).values(suspended=suspended))


def scope_filter(principal: Principal) -> list[Any]:
    """WHERE clauses that keep a caller to the alerts of its org unit or division."""
    return principal.where_visible(alerts.c.org_unit, alerts.c.owner_division)


async def mark_evaluated(conn: AsyncConnection, payment_ids: Sequence[str]) -> None:
    await conn.execute(update(observed_payments).where(observed_payments.c.payment_id.in_(list(payment_ids)))
                       .values(evaluated=True))


async def pending_payments(conn: AsyncConnection, indicator_id: str) -> list[Any]:
    """Payments seen before their indicator was known, in arrival order."""
    return list((await conn.execute(
        select(observed_payments).where(observed_payments.c.indicator_id == indicator_id,
                                        observed_payments.c.evaluated.is_(False))
        .order_by(observed_payments.c.seq))).all())


async def any_pending(conn: AsyncConnection, indicator_ids: list[str]) -> bool:
    """Whether a payment seen before its indicator was known waits for any of these."""
    return await conn.scalar(text("""
        SELECT EXISTS (SELECT FROM alerting.observed_payments
                       WHERE indicator_id = ANY(CAST(:ids AS text[])) AND NOT evaluated)"""), {"ids": indicator_ids})


async def latest_judged_payment(conn: AsyncConnection, indicator_id: str) -> Any:
    """The most recent payment on an indicator that has been judged, or None."""
    return (await conn.execute(
        select(observed_payments).where(observed_payments.c.indicator_id == indicator_id,
                                        observed_payments.c.evaluated.is_(True))
        .order_by(observed_payments.c.seq.desc()).limit(1))).first()


def window_bounds(spec: WindowSpec, params: dict[str, Any], payment: dict[str, Any]
                  ) -> tuple[datetime, datetime, str | None]:
    """Where a payment's window starts and ends, and the `period` it names (the Beijing month, or none for the
    days around the payment)."""
    paid_at = payment["paid_at"].astimezone(SHANGHAI)
    if spec.period == "month":
        start = paid_at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return start, (start + timedelta(days=32)).replace(day=1), f"{start:%Y-%m}"
    days = timedelta(days=int(params[spec.days_parameter or "days"]))
    return paid_at - days, paid_at + days, None


def window_key(spec: WindowSpec, payment: dict[str, Any]) -> Any:
    """What a window groups a payment's neighbours by: its payee, or its indicator."""
    if spec.group_by == "payee":
        return payment.get("payee_id_index") or payment["payee_account"]
    return payment.get("indicator_id")


def _group_column(spec: WindowSpec) -> Column[Any]:
    return observed_payments.c.payee_key if spec.group_by == "payee" else observed_payments.c.indicator_id


async def window_facts(conn: AsyncConnection, spec: WindowSpec, params: dict[str, Any],
                       payment: dict[str, Any], seq: int) -> dict[str, Any]:
    """The payments a window rule looks at beside this one (of the kind `in_window` admits): `count` of the
    others, `total` with this one, and the `period` they fall in (the Beijing month, or the days around it).

    Only payments observed before this one (`seq`) count: of a pair, the one observed second breaks the rule,
    whatever order they were paid or judged in (a payment may wait for its indicator)."""
    c = observed_payments.c
    start, end, period = window_bounds(spec, params, payment)
    where = [_group_column(spec) == window_key(spec, payment), c.paid_at >= start, c.paid_at < end, c.seq < seq]
    where += [getattr(c, name) == value for name, value in spec.where.items()]
    where += [getattr(c, name) == payment[name] for name in spec.same]
    count, total = (await conn.execute(select(func.count(), func.coalesce(func.sum(c.amount), 0)).where(*where))).one()
    return {"count": count, "total": total + payment["amount"], "period": period}


async def windows_of_run(conn: AsyncConnection, spec: WindowSpec, params: dict[str, Any],
                         judged: Sequence[tuple[dict[str, Any], int]]) -> list[dict[str, Any]]:
    """`window_facts` for each (payment, seq) of a run in one statement: each payment counts the payments
    observed before it, those of the run before it included, exactly as when judged one by one. A payment
    without a key (or a `same` field) to group by is asked alone, where `== None` means IS NULL."""
    c = observed_payments.c
    found: list[dict[str, Any] | None] = [None] * len(judged)
    rows: list[tuple[int, int, Any, datetime, datetime, list[Any]]] = []
    for i, (payment, seq) in enumerate(judged):
        key, same = window_key(spec, payment), [_text(payment[name]) for name in spec.same]
        if key is None or any(v is None for v in same):
            found[i] = await window_facts(conn, spec, params, payment, seq)
            continue
        start, end, _ = window_bounds(spec, params, payment)
        rows.append((i, seq, key, start, end, same))
    if rows:
        group, table = _group_column(spec).name, f"{metadata.schema}.{observed_payments.name}"
        on = [f"o.{group} = v.key", "o.paid_at >= v.start_at", "o.paid_at < v.end_at", "o.seq < v.seq"]
        binds: dict[str, Any] = {"i": [r[0] for r in rows], "seq": [r[1] for r in rows], "key": [r[2] for r in rows],
                                 "start_at": [r[3] for r in rows], "end_at": [r[4] for r in rows]}
        arrays = ["CAST(:i AS int[])", "CAST(:seq AS bigint[])", "CAST(:key AS text[])",
                  "CAST(:start_at AS timestamptz[])", "CAST(:end_at AS timestamptz[])"]
        names = ["i", "seq", "key", "start_at", "end_at"]
        for n, (name, value) in enumerate(spec.where.items()):
            on.append(f"o.{getattr(c, name).name} = :where_{n}")
            binds[f"where_{n}"] = value
        for n, name in enumerate(spec.same):
            on.append(f"o.{getattr(c, name).name} = v.same_{n}")
            binds[f"same_{n}"] = [r[5][n] for r in rows]
            arrays.append(f"CAST(:same_{n} AS text[])")
            names.append(f"same_{n}")
        statement = text(f"SELECT v.i, count(o.seq), coalesce(sum(o.amount), 0) FROM unnest({', '.join(arrays)}) "
                         f"AS v({', '.join(names)}) LEFT JOIN {table} o ON {' AND '.join(on)} GROUP BY v.i")
        for i, count, total in (await conn.execute(statement, binds)).all():
            payment = judged[i][0]
            found[i] = {"count": count, "total": total + payment["amount"],
                        "period": window_bounds(spec, params, payment)[2]}
    return found  # type: ignore[return-value]  # every payment was answered, alone or in the run


def _text(value: Any) -> str | None:
    return value.value if isinstance(value, Enum) else value


async def project_rules(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection of rule proposals (附件2) and business requirements (附件1)."""
    for env in envelopes:
        p = env.payload
        if env.event_type == RuleProposed.event_type:
            d = p["definition"]
            await conn.execute(rule_proposals.insert().values(
                proposal_id=p["proposal_id"], fiscal_year=p["fiscal_year"], rule_id=d["id"], number=d["number"],
                name=d["name"], status="proposed", definition=d, proposed_by=env.metadata.actor,
                proposer_division=p["proposer_division"], contact=p.get("contact"), proposed_at=env.occurred_at))
        elif env.event_type == RuleProposalReviewed.event_type:
            await conn.execute(update(rule_proposals).where(rule_proposals.c.proposal_id == p["proposal_id"]).values(
                status=p["decision"], reviewed_by=env.metadata.actor, review_reason=p["reason"],
                decided_at=env.occurred_at))
        elif env.event_type == RuleApproved.event_type:
            await conn.execute(update(rule_proposals).where(rule_proposals.c.proposal_id == p["proposal_id"]).values(
                status="approved", decided_at=env.occurred_at))
        elif env.event_type == RequirementProposed.event_type:
            await conn.execute(requirements.insert().values(
                requirement_id=p["requirement_id"], fiscal_year=p["fiscal_year"], kind=p["kind"],
                description=p["description"], basis=p["basis"], scope=p["scope"], proposed_by=env.metadata.actor,
                proposer_division=p["proposer_division"], contact=p.get("contact"), proposed_at=env.occurred_at,
                proposer_org_unit=p.get("proposer_org_unit"), to_division=p.get("to_division")))
        elif env.event_type == RequirementCommented.event_type:
            await conn.execute(requirement_comments.insert().values(
                comment_id=p["comment_id"], requirement_id=p["requirement_id"], fiscal_year=p["fiscal_year"],
                org_unit=p["org_unit"], to_division=p["to_division"], text=p["text"],
                commented_by=env.metadata.actor, commented_at=env.occurred_at))


def balance_of(row: Any, paid_before: Decimal) -> IndicatorBalance:
    """An indicator's balance row as the rules read it, just before a payment that found `paid_before` paid."""
    return IndicatorBalance(indicator_id=row.indicator_id, amount=row.amount, allocated=row.allocated,
                            paid_before=paid_before, refunded=row.refunded, fiscal_year=row.fiscal_year,
                            org_unit=row.org_unit, owner_division=row.owner_division, suspended=bool(row.suspended))
