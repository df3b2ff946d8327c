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


class ApiKeyRevoked(DomainEvent):
    """An API key stopped working."""

    event_type: ClassVar[str] = "gateway.ApiKeyRevoked"
    context: ClassVar[str] = "gateway"

    key_id: str
    reason: str
