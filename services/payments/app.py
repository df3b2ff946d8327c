"""The payments service (资金支付, and the registries 建档立卡 / 财政供养人员): wiring."""

from backbone.pii import PersonalData
from backbone.service import Runtime, ServiceSpec, create_service
from services.payments import api, export, projections
from services.payments.registry import api as registry_api, persons_api, projections as registry_projections
from services.payments.registry import updates_api


async def _check_personal_data_keys(runtime: Runtime) -> None:
    # A mistyped key must stop the service at start, not fail the first person payment.
    PersonalData.from_settings(runtime.settings)


spec = ServiceSpec(
    name="payments",
    title="FundWatch payments (资金支付) and registries (建档立卡, 财政供养人员)",
    metadata=projections.metadata,
    routers=[api.router, export.router, registry_api.router, updates_api.router, persons_api.router],
    inline_projections=[projections.project_payments, registry_projections.project_registries],
    on_startup=[_check_personal_data_keys],
)
app = create_service(spec)
