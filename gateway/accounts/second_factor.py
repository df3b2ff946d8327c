"""The second sign-in factor (双因素认证, 等级保护 2.0 三级): a time-based one-time code (TOTP, RFC 6238) from
an authenticator app, by `pyotp`. No I/O.

A code is valid in its 30-second step and the neighbouring ones (clocks drift), and only once: the step
of the last accepted code is kept, and a code of that step or an earlier one is refused.
"""

import time

import pyotp

ISSUER = "FundWatch 财政扶贫资金动态监控平台"
STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """What an authenticator app scans (as a QR code) or takes typed in."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step a code belongs to, if it is valid now and newer than the last one accepted; else None."""
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    at = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    step = int(at // STEP_SECONDS)
    for candidate in (step, step - 1, step + 1):
        if totp.verify(code, for_time=candidate * STEP_SECONDS) and (last_step is None or candidate > last_step):
            return candidate
    return None


def required(roles: list[str], required_roles: list[str]) -> bool:
    """Whether a person's roles oblige them to use a second factor."""
    return any(role in required_roles for role in roles)
