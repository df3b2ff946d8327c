"""Events of the gateway context (people and machine accounts), topic `fundwatch.gateway.v1`."""

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
