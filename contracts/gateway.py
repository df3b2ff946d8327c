"""Events of the gateway context (people and machine accounts), topic `fundwatch.gateway.v1`."""

from datetime import datetime
from typing import ClassVar, Literal

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


class ExportRequested(DomainEvent):
    """Someone asked to export platform data, or to give it to an outsider (对外提供); the poverty office co-signs
    first (会签局脱贫办, 第二十七条)."""

    event_type: ClassVar[str] = "gateway.ExportRequested"
    context: ClassVar[str] = "gateway"

    export_id: str
    path: str = Field(description="The export route, under /api/v1, e.g. /ledger/export.")
    params: dict[str, str | int | bool] = Field(description="Its query parameters (filters).")
    purpose: str = Field(description="用途")
    recipient: str | None = Field(None, description="The outsider the data is given to, e.g. 省财政厅; null: "
                                                    "internal use.")
    requester: str
    requester_org_unit: str | None


class ExportCosigned(DomainEvent):
    """The poverty office co-signed (会签) an export request: approved, to be downloaded once until `download_until`,
    or refused."""

    event_type: ClassVar[str] = "gateway.ExportCosigned"
    context: ClassVar[str] = "gateway"

    export_id: str
    decision: Literal["approved", "refused"]
    opinion: str = Field(description="会签意见")
    cosigner: str
    download_until: datetime | None = Field(description="The end of the requester's one download; null if refused.")


class ExportDownloaded(DomainEvent):
    """The requester downloaded a co-signed export: the one time it can be."""

    event_type: ClassVar[str] = "gateway.ExportDownloaded"
    context: ClassVar[str] = "gateway"

    export_id: str
    downloaded_by: str
