"""The alerting service (预警): wiring."""

from backbone.service import ConsumerSpec, Runtime, ServiceSpec, create_service
from contracts.catalog import topic_for
from services.alerting import (api, backtest, consumers, dispositions_api, export, measures_api,
                               measures_projections, projections,
                               proposals_api, requirements_api, rule_levels, rules_api, scheduler, suspensions_api)
from services.alerting.notifications import api as notifications_api
from services.alerting.notifications import consumers as notifications_consumers
from services.alerting.notifications import projections as notifications_projections
from services.alerting.notifications import sending
from services.alerting.rules.book import RULEBOOK


async def _load_rules(runtime: Runtime) -> None:
    await RULEBOOK.refresh(runtime.engine)


clocks = scheduler.AlertClocks()


spec = ServiceSpec(
    name="alerting",
    title="FundWatch alerting (预警)",
    metadata=projections.metadata,
    # The export first: GET /alerts/{alert_id} would take /alerts/export for an alert's id.
    routers=[export.router, api.router, dispositions_api.router, measures_api.router, suspensions_api.router,
             rules_api.router, proposals_api.router, requirements_api.router, backtest.router, notifications_api.router],
    inline_projections=[projections.project_alerts, measures_projections.project_measures, projections.project_suspensions,
                        projections.project_rules, rule_levels.project_rule_levels, clocks.project,
                        notifications_projections.project_liaisons],
    on_startup=[_load_rules, clocks.attach],
    # sync: the monthly reports' steps meet their deadline clocks (LC-005, LC-006), issued indicators their
    # reconciliation (ZB-005, ZB-006), the province's rule levels (第二十条).
    consumers=[ConsumerSpec(name="alerting", topics=tuple(topic_for(c) for c in ("ledger", "payments", "performance",
                                                                                    "sync")),
                            handlers=consumers.handlers),
               # 第二十一条: alerting's own events, read back to notify the people the register names.
               ConsumerSpec(name="alerting-notifications", topics=(topic_for("alerting"),),
                            handlers=notifications_consumers.handlers)],
    workers={"deadlines": scheduler.run, "notifications": sending.run},
)
app = create_service(spec)
