"""The payments service (资金支付): wiring."""

from backbone.pii import PersonalData
from backbone.service import Runtime, ServiceSpec, create_service
from services.payments import api, projections


async def _check_personal_data_keys(runtime: Runtime) -> None:
    # A mistyped key must stop the service at start, not fail the first person payment.
    PersonalData.from_settings(runtime.settings)


spec = ServiceSpec(
    name="payments",
    title="FundWatch payments (资金支付)",
    metadata=projections.metadata,
    routers=[api.router],
    inline_projections=[projections.project_payments],
    on_startup=[_check_personal_data_keys],
)
app = create_service(spec)
