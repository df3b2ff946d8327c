"""Deadline clocks against real PostgreSQL when events of two topics arrive out of order: work done before the
event that starts its clock was seen settles that clock, and no bell rings for it."""

from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from backbone.clock import clock
from backbone.eventstore import EventStore
from contracts.envelope import EventEnvelope, EventMetadata
from services.alerting import app as alerting_app
from services.alerting.projections import alerts, watches
from services.alerting.rules import starter_rules
from services.alerting.rules.book import RuleBook
from services.alerting.scheduler import on_event, scheduling, tick

pytestmark = pytest.mark.integration
GOALS_MISSING = starter_rules()["performance.goals_missing"]


def envelope(event_type: str, payload: dict) -> EventEnvelope:
    return EventEnvelope(event_id=uuid4(), stream_id=f"s-{uuid4()}", stream_type="x", version=1, event_type=event_type,
                         occurred_at=clock().now(), metadata=EventMetadata(actor="tester", source="test"),
                         payload=payload)


async def test_goals_set_before_the_registration_arrives_leave_no_clock_to_ring(engine):
    store = EventStore(alerting_app.spec.tables, source="alerting")
    indicator = str(uuid4())
    today = clock().today()
    registered = {"indicator_id": indicator, "doc_no": "吉财农指〔2026〕3号", "fund_name": "衔接资金",
                  "amount": "5000.00", "fiscal_year": today.year, "level": "central", "org_unit": "220102",
                  "owner_division": "agriculture", "issued_on": today.isoformat(), "received_on": today.isoformat(),
                  "registered_on": today.isoformat(), "parent_id": None, "poverty_tag": True}
    goals = {"goal_id": str(uuid4()), "indicator_id": indicator, "fiscal_year": today.year, "org_unit": "220102",
             "owner_division": "agriculture", "goal": "完成200户危房改造", "indicators": []}
    # Performance's topic was read first: the goals are set before alerting hears of the registration.
    async with engine.begin() as conn:
        await on_event(conn, store, [GOALS_MISSING], envelope("performance.GoalsSet", goals))
        await on_event(conn, store, [GOALS_MISSING], envelope("ledger.IndicatorRegistered", registered))
    async with engine.connect() as conn:
        states = (await conn.execute(select(watches.c.state).where(watches.c.subject_id == indicator))).scalars().all()
    assert states == ["met"], "the late registration starts no clock for work already done"
    # Long after the five working days, nothing rings for it.
    async with engine.begin() as conn:
        await tick(conn, store, RuleBook(), clock().now() + timedelta(days=30))
    async with engine.connect() as conn:
        raised = (await conn.execute(select(alerts.c.alert_id).where(alerts.c.subject_id == indicator))).all()
    assert raised == []


async def test_one_alerting_process_schedules_at_a_time(engine):
    # Two processes of alerting: while one's transaction rings bells, the other's finds the lock taken and waits
    # for its next round; once the first commits, the next one to ask schedules.
    async with engine.connect() as first, engine.connect() as second:
        async with first.begin():
            assert await scheduling(first)
            async with second.begin():
                assert not await scheduling(second)
        async with second.begin():
            assert await scheduling(second)
