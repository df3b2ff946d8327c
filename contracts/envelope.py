"""The one event envelope every context writes and every consumer reads."""

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class DomainEvent(BaseModel):
    """Base of every event payload: immutable, named in the past tense."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    context: ClassVar[str]


class EventMetadata(BaseModel):
    """Who caused an event, from where, and which request and trace it belongs to."""

    model_config = ConfigDict(frozen=True)

    actor: str = Field(description="User name or machine account that caused the event.")
    org_unit: str | None = Field(None, description="Org unit of the actor.")
    source: str = Field(description="Service that appended the event.")
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = Field(None, description="W3C trace context of the causing request.")


class EventEnvelope(BaseModel):
    """A stored event: identity, position in its stream, metadata and payload."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    stream_id: str
    stream_type: str
    version: int = Field(ge=1, description="Position of the event within its stream, from 1.")
    event_type: str
    schema_version: int = 1
    occurred_at: datetime
    metadata: EventMetadata
    payload: dict[str, Any]
    position: int | None = Field(None, description="Global position in the writer's store.")
    partition_key: str | None = Field(
        None, description="Kafka key when it is not the stream id: events that must be consumed in one "
        "order share it (a payment is keyed by its indicator).")

    @property
    def ordering_key(self) -> str:
        return self.partition_key or self.stream_id
