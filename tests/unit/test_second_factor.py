"""The second sign-in factor: TOTP codes valid in their step and its neighbours, and each only once."""

import pyotp

from gateway.accounts.second_factor import STEP_SECONDS, accepted_step, new_secret, provisioning_uri, required

NOW = 1_790_000_000.0


def test_a_code_is_accepted_in_its_step_and_the_neighbouring_ones_and_only_once():
    secret = new_secret()
    totp = pyotp.TOTP(secret)
    code = totp.at(NOW)
    step = accepted_step(secret, code, None, now=NOW)
    assert step == int(NOW // STEP_SECONDS)
    assert accepted_step(secret, code, None, now=NOW + STEP_SECONDS) == step, "a clock half a minute off"
    assert accepted_step(secret, code, None, now=NOW + 3 * STEP_SECONDS) is None, "too old"
    assert accepted_step(secret, code, step, now=NOW) is None, "a code works once"
    assert accepted_step(secret, totp.at(NOW + STEP_SECONDS), step, now=NOW + STEP_SECONDS) == step + 1


def test_anything_but_six_digits_is_no_code():
    secret = new_secret()
    for code in ("", "12345", "1234567", "12345a", "１２３４５６"):
        assert accepted_step(secret, code, None, now=NOW) is None


def test_the_app_is_told_issuer_and_account_and_admins_must_use_it():
    secret = new_secret()
    uri = provisioning_uri(secret, "admin")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "issuer=FundWatch" in uri
    assert required(["admin"], ["admin"]) and not required(["district"], ["admin"])
