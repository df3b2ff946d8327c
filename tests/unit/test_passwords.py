"""The password policy and one-time passwords."""

import pytest

from gateway.accounts.passwords import one_time_password, policy_faults


@pytest.mark.parametrize("password,fault", [
    pytest.param("Ab1#xyz", "at least 8 characters", id="seven-characters"),
    pytest.param("abcdefgh1", "at least three kinds", id="two-kinds"),
    pytest.param("ABCDEFGH", "at least three kinds", id="one-kind"),
    pytest.param("Zhang.San2026", "must not contain the user name", id="contains-user-name"),
])
def test_weak_passwords_are_refused_with_the_reason(password, fault):
    assert any(fault in f for f in policy_faults(password, "zhang.san"))


@pytest.mark.parametrize("password", ["Fund#watch", "fundwatch#2026", "FUNDWATCH2026x", "长春Fund2026"])
def test_three_kinds_of_eight_characters_pass(password):
    assert policy_faults(password, "zhang.san") == []


def test_one_time_passwords_pass_the_policy_and_differ():
    passwords = {one_time_password() for _ in range(50)}
    assert len(passwords) == 50 and all(policy_faults(p, "someone") == [] for p in passwords)
    assert not set("".join(passwords)) & set("0O1lI"), "nothing to misread on paper"
