"""The alerting service (预警): wiring."""

from backbone.service import ConsumerSpec, ServiceSpec, create_service
from contracts.catalog import topic_for
from services.alerting import api, consumers, dispositions_api, projections, scheduler

spec = ServiceSpec(
    name="alerting",
    title="FundWatch alerting (预警)",
    metadata=projections.metadata,
    routers=[api.router, dispositions_api.router],
    inline_projections=[projections.project_alerts],
    consumers=[ConsumerSpec(name="alerting", topics=(topic_for("ledger"), topic_for("payments")),
                            handlers=consumers.handlers)],
    workers={"deadlines": scheduler.run},
)
app = create_service(spec)
