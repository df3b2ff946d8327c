"""The performance service (绩效): wiring."""

from backbone.service import ConsumerSpec, ServiceSpec, create_service
from contracts.catalog import topic_for
from services.performance import api, consumers, projections

spec = ServiceSpec(
    name="performance",
    title="FundWatch performance (绩效)",
    metadata=projections.metadata,
    routers=[api.router],
    inline_projections=[projections.project_goals],
    consumers=[ConsumerSpec(name="performance", topics=(topic_for("ledger"), topic_for("payments")),
                            handlers=consumers.handlers)],
)
app = create_service(spec)
