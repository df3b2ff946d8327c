"""What the exchange reacts to in the other contexts: registrations under an issued document are reconciled with
it, and the treasury's acts go to the province as messages — a forwarded permission application (附件3,
第二十五条(二)) and the year's consolidated requirements and rules (附件1/附件2, 第十六条)."""

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.consumer import Handler
from backbone.service import Runtime
from contracts.alerting import RuleProposalsSubmitted
from contracts.envelope import EventEnvelope
from contracts.gateway import PermissionApplicationForwarded
from contracts.ledger import IndicatorAdjusted, IndicatorCorrected, IndicatorRegistered
from contracts.province import MessageKind, PermissionApplication, RuleSubmission
from contracts.values import CITY_ORG_UNIT
from services.sync.exchange.outbound import enqueue
from services.sync.exchange.reconciliation import reconcile
from services.sync.projections import indicators

ACTOR = "system:sync"


def handlers(runtime: Runtime) -> Mapping[str, Handler]:
    store, settings = runtime.store, runtime.settings

    async def on_changed(conn: AsyncConnection, env: EventEnvelope) -> None:
        """What the ledger registered under a document number, matched with what the province issued: at its
        registration, after 调增 / 调减, and after a corrected document number (the row is sync's read model, kept
        by the rollup's handler of the same event, which runs first)."""
        row = (await conn.execute(select(indicators.c.doc_no, indicators.c.parent_id).where(
            indicators.c.indicator_id == env.payload["indicator_id"]))).first()
        if row is not None and row.parent_id is None:
            await reconcile(conn, store, row.doc_no, ACTOR)

    async def on_forwarded(conn: AsyncConnection, env: EventEnvelope) -> None:
        e = PermissionApplicationForwarded.model_validate(env.payload)
        payload = PermissionApplication(city=CITY_ORG_UNIT, application_id=e.application_id, kind=e.kind,
                                        form=e.form, forwarded_at=env.occurred_at)
        await enqueue(conn, MessageKind.PERMISSION_APPLICATION, e.application_id, payload, settings, clock().now())

    async def on_rules_submitted(conn: AsyncConnection, env: EventEnvelope) -> None:
        e = RuleProposalsSubmitted.model_validate(env.payload)
        payload = RuleSubmission(city=CITY_ORG_UNIT, fiscal_year=e.fiscal_year, rules=e.rules,
                                 requirements=e.requirements, submitted_at=env.occurred_at)
        # Each submission of a year is its own message: the treasury may report the year again.
        await enqueue(conn, MessageKind.RULE_SUBMISSION, f"{e.fiscal_year}/{env.event_id}", payload, settings,
                      clock().now())

    return {IndicatorRegistered.event_type: on_changed, IndicatorAdjusted.event_type: on_changed,
            IndicatorCorrected.event_type: on_changed,
            PermissionApplicationForwarded.event_type: on_forwarded,
            RuleProposalsSubmitted.event_type: on_rules_submitted}
