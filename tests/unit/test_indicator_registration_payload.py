"""An import stores each checked row's registration from one dump of the row (`registration_payload`), without
building and validating an `IndicatorRegistered` per row: the stored form must be exactly the validated event's."""

from datetime import date

import pytest

from services.ledger.domain import IndicatorIn, register_indicator, registration_payload

TODAY = date(2026, 3, 2)
ROW = {"doc_no": " 长财农指〔2026〕12号 ", "fund_name": "衔接推进乡村振兴补助资金", "fund_nature": "general_budget",
       "function_code": "2130505", "economic_code": "50901", "budget_project": "项目1", "amount": "1000.5",
       "fiscal_year": 2026, "level": "central", "owner_division": "agriculture", "org_unit": "220102"}


@pytest.mark.parametrize("overrides", [
    pytest.param({}, id="plain"),
    pytest.param({"issued_on": "2026-02-10", "received_on": "2026-02-12", "poverty_tag": False,
                  "parent_id": "p-1"}, id="dates-parent-and-tag"),
])
def test_the_stored_registration_is_the_validated_events_json(overrides):
    row = IndicatorIn.model_validate(ROW | overrides)
    event = register_indicator(indicator_id="i-1", fields=row.model_dump(), today=TODAY)
    assert registration_payload(indicator_id="i-1", row=row, today=TODAY) == event.model_dump(mode="json")
