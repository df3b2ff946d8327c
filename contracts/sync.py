"""Events of the sync context (数据交换), topic `fundwatch.sync.v1`: the daily rollup of each district and the
poverty office's standing authorizations to send routine data to the province."""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import DomainEvent
from contracts.province import DistrictFigures, MessageKind


class RollupComputed(DomainEvent):
    """A district's daily rollup (日报, 第二十六条(二)) was computed: the first of its day, or a new version when
    a re-run found other numbers (a late correction)."""

    event_type: ClassVar[str] = "sync.RollupComputed"
    context: ClassVar[str] = "sync"

    rollup_date: date = Field(description="The day rolled up (Beijing).")
    org_unit: str
    version: int = Field(ge=1)
    figures: DistrictFigures
    reason: Literal["daily", "rerun"]
    computed_at: datetime
    message_id: str = Field(description="The message that carries this version to the province.")


class ExchangeAuthorized(DomainEvent):
    """The poverty office (局脱贫办) authorized a kind of routine data to go to the province (第二十七条)."""

    event_type: ClassVar[str] = "sync.ExchangeAuthorized"
    context: ClassVar[str] = "sync"

    authorization_id: str
    kind: MessageKind
    granted_by: str
    granted_at: datetime
    note: str | None = None


class ExchangeAuthorizationRevoked(DomainEvent):
    """A standing authorization was revoked: messages of its kind not yet sent wait again."""

    event_type: ClassVar[str] = "sync.ExchangeAuthorizationRevoked"
    context: ClassVar[str] = "sync"

    authorization_id: str
    kind: MessageKind
    revoked_by: str
    revoked_at: datetime
    reason: str
