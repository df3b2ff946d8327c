"""Events of the gateway context (people and machine accounts), topic `fundwatch.gateway.v1`."""

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from contracts.envelope import DomainEvent


class UserRegistered(DomainEvent):
    """A person was given an account on the platform (第二十五条). Credentials never travel."""

    event_type: ClassVar[str] = "gateway.UserRegistered"
    context: ClassVar[str] = "gateway"

    username: str
    display_name: str
    org_unit: str
    division: str | None = Field(None, description="主管处室 of a division user.")
    roles: list[str]
    pii: bool = Field(False, description="May see unmasked ID numbers.")


class ApiKeyIssued(DomainEvent):
    """A machine (the treasury system, the provincial platform) was given an API key. The key itself never travels."""

    event_type: ClassVar[str] = "gateway.ApiKeyIssued"
    context: ClassVar[str] = "gateway"

    key_id: str = Field(description="Public handle of the key: the start of its digest.")
    subject: str
    roles: list[str]
    org_unit: str | None
    expires_at: datetime | None
    rate_limit: str | None = Field(None, description="Its own rate limit, e.g. 20000/minute.")


class ApiKeyRevoked(DomainEvent):
    """An API key stopped working."""

    event_type: ClassVar[str] = "gateway.ApiKeyRevoked"
    context: ClassVar[str] = "gateway"

    key_id: str
    reason: str


class PasswordChanged(DomainEvent):
    """A person's password changed: by the person, or reset by an administrator (then it is a one-time
    password to be changed at the next sign-in). Every open session of the person ended with it."""

    event_type: ClassVar[str] = "gateway.PasswordChanged"
    context: ClassVar[str] = "gateway"

    username: str
    reset: bool = Field(description="Set by an administrator, to be changed at the next sign-in.")


class AccountLocked(DomainEvent):
    """Too many wrong passwords in a row: the account refuses sign-in until `until`."""

    event_type: ClassVar[str] = "gateway.AccountLocked"
    context: ClassVar[str] = "gateway"

    username: str
    failures: int
    until: datetime


class ApiKeyRotated(DomainEvent):
    """A machine's key was replaced: the old one keeps working until `old_expires_at`, so that both are valid
    while the machine switches over."""

    event_type: ClassVar[str] = "gateway.ApiKeyRotated"
    context: ClassVar[str] = "gateway"

    key_id: str
    new_key_id: str
    old_expires_at: datetime
