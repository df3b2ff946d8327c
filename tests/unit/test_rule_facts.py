"""A rule shows with its alert only the facts documented for it: never a payee's blind index or a record's
digest, never a parameter it does not have."""

import pytest
from pydantic import ValidationError

from services.alerting.rules import Rule, starter_rules


def draft(**changes) -> dict:
    rule = starter_rules()["spending.cash_above_limit"].model_dump(mode="json")
    return rule | changes


@pytest.mark.parametrize("path", ["payment.payee_id_index", "payment.content_hash", "payment.payee_registry",
                                  "payee.id_number", "params.not_a_parameter", "secrets", "indicator.registered"])
def test_a_draft_that_shows_an_undocumented_fact_is_refused_naming_it(path):
    with pytest.raises(ValidationError) as refused:
        Rule(**draft(values=["payment.amount", path]))
    [fault] = refused.value.errors()
    assert fault["loc"] == ("values",) and path in fault["msg"] and "values[1]" in fault["msg"]
    with pytest.raises(ValidationError) as refused:
        Rule(**draft(summary=f"现金支付 {{payment.amount}} 元，收款人 {{{path}}}"))
    assert refused.value.errors()[0]["loc"] == ("summary",)


def test_documented_facts_and_the_rules_own_parameters_are_shown():
    rule = Rule(**draft(values=["payment.amount", "payment.payee_id_masked", "payee.registered_name",
                                "indicator.available_before", "params.single_limit"],
                        summary="{payment.payee_name} 现金支付 {payment.amount} 元，超过 {params.single_limit} 元"))
    assert rule.values[-1] == "params.single_limit"
