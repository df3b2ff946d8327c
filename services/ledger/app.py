"""The ledger service (总台账): wiring."""

from backbone.service import ConsumerSpec, ServiceSpec, create_service
from contracts.catalog import topic_for
from services.ledger import api, consumers, projections

spec = ServiceSpec(
    name="ledger",
    title="FundWatch ledger (总台账)",
    metadata=projections.metadata,
    routers=[api.router],
    inline_projections=[projections.project_indicators],
    consumers=[ConsumerSpec(name="ledger", topics=(topic_for("payments"),), handlers=consumers.handlers)],
)
app = create_service(spec)
