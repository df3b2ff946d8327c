"""The ledger service (总台账): wiring."""

from backbone.service import ConsumerSpec, ServiceSpec, create_service
from contracts.catalog import topic_for
from services.ledger import api, bulk_api, consumers, documents_api, export, ledger_api, projections
from services.ledger.library import api as library_api, projections as library_projections

spec = ServiceSpec(
    name="ledger",
    title="FundWatch ledger (总台账)",
    metadata=projections.metadata,
    routers=[bulk_api.router, export.router, api.router, ledger_api.router, documents_api.router, library_api.router],
    inline_projections=[projections.project_indicators, projections.project_documents,
                        library_projections.project_library],
    # alerting: the recoveries (收回资金) a red light's measure orders.
    consumers=[ConsumerSpec(name="ledger", topics=(topic_for("payments"), topic_for("alerting")),
                            handlers=consumers.handlers)],
)
app = create_service(spec)
