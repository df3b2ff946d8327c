"""Warning levels set from above (第二十条: 每项预警规则的具体预警级别由财政部确定): the province's message names a rule
by its number, the level and the fiscal year it holds from; each change is an event of the rule's level stream,
kept in `rule_levels`, laid over the rule book and shown with the rule and its history. A national rule's level
is the Ministry's alone: the province's word on one is logged and left."""

from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from sqlalchemy import Column, DateTime, Integer, Table, Text, insert, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.eventstore import EventStore
from contracts.alerting import RuleLevelChanged
from contracts.envelope import EventEnvelope
from contracts.sync import RuleLevelsReceived
from contracts.values import AlertLevel
from services.alerting.projections import metadata
from services.alerting.rules import Rule
from services.alerting.rules.book import RULEBOOK

log = structlog.get_logger(__name__)

rule_levels = Table(
    "rule_levels", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True), Column("rule_id", Text, nullable=False),
    Column("number", Text, nullable=False), Column("fiscal_year", Integer, nullable=False),
    Column("level_before", Text, nullable=False), Column("level", Text, nullable=False),
    Column("authority", Text, nullable=False), Column("document", Text), Column("message_id", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)


def level_in(changes: Iterable[Any], year: int) -> AlertLevel | None:
    """The level the changes of one rule (in the order made) set for a fiscal year: the last one made for that
    year or an earlier one."""
    found = None
    for change in sorted((c for c in changes if c.fiscal_year <= year), key=lambda c: (c.fiscal_year, c.changed_at)):
        found = AlertLevel(change.level)
    return found


async def apply(conn: AsyncConnection, store: EventStore, received: RuleLevelsReceived) -> None:
    """Each level that changes a rule, as an event of the rule's level stream."""
    for change in received.levels:
        rule = next((r for r in RULEBOOK.for_year(change.fiscal_year) if r.number == change.number), None)
        if rule is None:
            log.warning("rule_levels.unknown_rule", number=change.number, message_id=received.message_id)
            continue
        if rule.national and change.authority != "ministry":
            log.warning("rule_levels.national_rule", number=change.number, message_id=received.message_id)
            continue
        before = await current(conn, rule, change.fiscal_year)
        if before is change.level:
            continue
        stream = f"rule-level-{rule.id}"
        await store.append(conn, stream_id=stream, stream_type="rule-level",
                           expected_version=await store.version(conn, stream),
                           events=[RuleLevelChanged(rule_id=rule.id, number=rule.number, fiscal_year=change.fiscal_year,
                                                    level_before=before, level=change.level,
                                                    authority=change.authority, document=change.document,
                                                    message_id=received.message_id)],
                           meta=store.metadata(actor="province-platform"))


async def current(conn: AsyncConnection, rule: Rule, year: int) -> AlertLevel:
    """A rule's level for a fiscal year as the changes stored so far make it."""
    rows = (await conn.execute(select(rule_levels).where(rule_levels.c.rule_id == rule.id))).all()
    return level_in(rows, year) or rule.level


async def project_rule_levels(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: every level change, for the rule book and the rule's history."""
    for env in envelopes:
        if env.event_type != RuleLevelChanged.event_type:
            continue
        e = RuleLevelChanged.model_validate(env.payload)
        await conn.execute(insert(rule_levels).values(
            event_id=env.event_id, rule_id=e.rule_id, number=e.number, fiscal_year=e.fiscal_year,
            level_before=e.level_before, level=e.level, authority=e.authority, document=e.document,
            message_id=e.message_id, changed_at=env.occurred_at))
