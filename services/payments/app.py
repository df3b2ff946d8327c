"""The payments service (资金支付): wiring."""

from backbone.service import ServiceSpec, create_service
from services.payments import api, projections

spec = ServiceSpec(
    name="payments",
    title="FundWatch payments (资金支付)",
    metadata=projections.metadata,
    routers=[api.router],
    inline_projections=[projections.project_payments],
)
app = create_service(spec)
