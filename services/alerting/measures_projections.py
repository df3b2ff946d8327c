"""Read models of the measures that open a record (第二十二条(三)): the supervision bureau's inbox of referred cases
(移交) with the outcome it records, circulars (通报), and recoveries (收回资金) with the ledger's answer."""

from collections.abc import Sequence

from sqlalchemy import Column, DateTime, Integer, Numeric, Table, Text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.alerting import AlertCirculated, AlertReferred, FundsRecoveryOrdered, ReferralConcluded
from contracts.envelope import EventEnvelope
from contracts.ledger import FundsRecovered
from services.alerting.projections import metadata

# 移交: the supervision bureau's inbox of cases (第二十二条(三)), one per alert, numbered per year, with the outcome
# the bureau records.
referrals = Table(
    "referrals", metadata,
    Column("number", Text, primary_key=True), Column("alert_id", Text, unique=True), Column("rule_id", Text),
    Column("rule_number", Text), Column("org_unit", Text), Column("owner_division", Text),
    Column("sheet_number", Text), Column("findings", Text), Column("referred_by", Text),
    Column("referred_by_division", Text), Column("referred_at", DateTime(timezone=True)),
    Column("decision", Text), Column("outcome_findings", Text), Column("concluded_by", Text),
    Column("concluded_at", DateTime(timezone=True)),
)

# 通报: circulars against a district or a division, one per alert, numbered per year.
circulars = Table(
    "circulars", metadata,
    Column("number", Text, primary_key=True), Column("alert_id", Text, unique=True), Column("rule_id", Text),
    Column("rule_number", Text), Column("against", Text), Column("org_unit", Text), Column("owner_division", Text),
    Column("sheet_number", Text), Column("findings", Text), Column("circulated_by", Text),
    Column("circulated_at", DateTime(timezone=True)),
)

# 收回资金: an alert's recovery, what it asks back and what the ledger withdrew, over its orders and answers.
recoveries = Table(
    "recoveries", metadata,
    Column("alert_id", Text, primary_key=True), Column("indicator_id", Text), Column("rule_number", Text),
    Column("org_unit", Text), Column("owner_division", Text), Column("ordered", Numeric(18, 2)),
    Column("withdrawn", Numeric(18, 2)), Column("orders", Integer), Column("answers", Integer),
    Column("sheet_number", Text), Column("ordered_by", Text), Column("ordered_at", DateTime(timezone=True)),
    Column("answered_at", DateTime(timezone=True)),
)

# The last number given per (kind, year): YJ referrals, TB circulars.
measure_counters = Table(
    "measure_counters", metadata, Column("kind", Text, primary_key=True), Column("year", Integer, primary_key=True),
    Column("last", Integer),
)


async def project_measures(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection of the measures that open a record: referrals (移交) into the supervision bureau's inbox
    and their outcome, circulars (通报), recoveries ordered (收回资金)."""
    for env in envelopes:
        if env.event_type == AlertReferred.event_type:
            r = AlertReferred.model_validate(env.payload)
            await conn.execute(referrals.insert().values(
                number=r.number, alert_id=r.alert_id, rule_id=r.rule_id, rule_number=r.rule_number,
                org_unit=r.org_unit, owner_division=r.owner_division, sheet_number=r.sheet_number,
                findings=r.findings, referred_by=r.referred_by, referred_by_division=r.referred_by_division,
                referred_at=r.at))
        elif env.event_type == ReferralConcluded.event_type:
            o = ReferralConcluded.model_validate(env.payload)
            await conn.execute(update(referrals).where(referrals.c.number == o.number).values(
                decision=o.decision, outcome_findings=o.findings, concluded_by=o.concluded_by, concluded_at=o.at))
        elif env.event_type == AlertCirculated.event_type:
            c = AlertCirculated.model_validate(env.payload)
            await conn.execute(circulars.insert().values(
                number=c.number, alert_id=c.alert_id, rule_id=c.rule_id, rule_number=c.rule_number, against=c.against,
                org_unit=c.org_unit, owner_division=c.owner_division, sheet_number=c.sheet_number,
                findings=c.findings, circulated_by=c.circulated_by, circulated_at=c.at))
        elif env.event_type == FundsRecoveryOrdered.event_type:
            await _ordered(conn, FundsRecoveryOrdered.model_validate(env.payload))


async def _ordered(conn: AsyncConnection, o: FundsRecoveryOrdered) -> None:
    t = recoveries.c
    later = dict(sheet_number=o.sheet_number, ordered_by=o.ordered_by, ordered_at=o.at)
    await conn.execute(pg_insert(recoveries).values(
        alert_id=o.alert_id, indicator_id=o.indicator_id, rule_number=o.rule_number, org_unit=o.org_unit,
        owner_division=o.owner_division, ordered=o.amount, withdrawn=0, orders=1, answers=0, **later)
        .on_conflict_do_update(index_elements=[t.alert_id],
                               set_=dict(ordered=t.ordered if o.rest else t.ordered + o.amount,
                                         orders=t.orders + 1, **later)))


async def answer_recovery(conn: AsyncConnection, envelope: EventEnvelope) -> None:
    """The ledger's answer to a recovery: what it withdrew (and so what is short) counts on the alert's recovery."""
    answer = FundsRecovered.model_validate(envelope.payload)
    t = recoveries.c
    await conn.execute(update(recoveries).where(t.alert_id == answer.alert_id).values(
        withdrawn=t.withdrawn + answer.withdrawn, answers=t.answers + 1, answered_at=answer.at))
