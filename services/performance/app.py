"""The performance service (绩效): wiring."""

from backbone.service import ConsumerSpec, ServiceSpec, create_service
from contracts.catalog import topic_for
from services.performance import api, consumers, export, filings_api, projections, review_api

spec = ServiceSpec(
    name="performance",
    title="FundWatch performance (绩效)",
    metadata=projections.metadata,
    # The export first: GET /performance-goals/{goal_id} would take /performance-goals/export for a goal's id.
    routers=[export.router, filings_api.router, review_api.router, api.router],
    inline_projections=[projections.project_goals],
    consumers=[ConsumerSpec(name="performance", topics=(topic_for("ledger"), topic_for("payments")),
                            handlers=consumers.handlers)],
)
app = create_service(spec)
