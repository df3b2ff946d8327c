"""The sync service (省级平台数据交换): the daily rollup of each district, the monthly reports (月报), the exchange
with the provincial platform both ways, the reconciliation of issued indicators, the poverty office's standing
authorizations and the district statistics; wiring."""

from backbone.service import ConsumerSpec, ServiceSpec, create_service
from contracts.catalog import topic_for
from services.sync import api, consumers, projections, rollups
from services.sync.exchange import api as exchange_api
from services.sync.exchange import delivery, inbound
from services.sync.reports import api as reports_api
from services.sync.reports import projections as report_projections
from services.sync.reports import review_api as report_review_api
from services.sync.statistics import api as statistics_api

spec = ServiceSpec(
    name="sync",
    title="FundWatch sync (省级平台数据交换)",
    metadata=projections.metadata,
    routers=[api.router, exchange_api.router, inbound.router, reports_api.router, report_review_api.router,
             statistics_api.router],
    inline_projections=[projections.project_rollups, projections.project_authorizations, projections.project_issued,
                        report_projections.project_monthly_reports],
    consumers=[ConsumerSpec(name="sync", topics=tuple(topic_for(c) for c in ("ledger", "payments", "alerting",
                                                                              "performance", "gateway")),
                            handlers=consumers.handlers)],
    workers={"rollups": rollups.run, "exchange": delivery.run},
)
app = create_service(spec)
