"""Events of the registries (外部信息: 建档立卡, 财政供养人员), topic `fundwatch.registry.v1`.

Registries hold millions of people, so their events carry them in parts of up to
`PART_SIZE` entries. No event carries an ID number: only its keyed blind index, which other
services match against a payment's `payee_id_index`, and the masked form for people to read.
"""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import DomainEvent
from contracts.values import PovertyStatus, Registry

PART_SIZE = 1000


class PersonRef(BaseModel):
    """A person as events may name one: blind index and masked ID number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id_index: str = Field(description="Keyed blind index of the ID number (matches payee_id_index).")
    id_masked: str = Field(description="220102********1234")


class PoorPerson(PersonRef):
    """One registered poor person (建档立卡贫困人口)."""

    name: str = Field(description="姓名")
    household: str | None = Field(None, description="户编号")
    org_unit: str = Field(description="区划: the district code")
    town: str | None = Field(None, description="乡镇")
    village: str | None = Field(None, description="行政村")
    status: PovertyStatus = Field(description="未脱贫 / 已脱贫 / 返贫监测")
    year: int = Field(description="识别或最近一次更新的年度")


class PublicEmployee(PersonRef):
    """One person paid from the budget (财政供养人员)."""

    name: str = Field(description="姓名")
    employer: str = Field(description="工作单位")
    org_unit: str | None = Field(None, description="区划 of the employer, when known")


class RemovedPerson(PersonRef):
    reason: str | None = Field(None, description="e.g. 自然减员, 清退")


class RegistrySource(BaseModel):
    """Where entries came from: an imported file or an update batch, and which part of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["import", "update"]
    id: str = Field(description="The import's id (from the file's digest) or the sender's update id.")
    part: int = Field(ge=1, description="Part number within the source, from 1.")
    digest: str | None = Field(None, description="Keyed digest of an update as sent, to tell a re-send from "
                                                 "a conflicting re-use of its id.")


class PoorPopulationRecorded(DomainEvent):
    """建档立卡 people added or changed (a new status, household or address): the entries as they now are."""

    event_type: ClassVar[str] = "registry.PoorPopulationRecorded"
    context: ClassVar[str] = "registry"

    source: RegistrySource
    persons: list[PoorPerson] = Field(max_length=PART_SIZE)


class PublicEmployeesRecorded(DomainEvent):
    """财政供养人员 added or changed: the entries as they now are."""

    event_type: ClassVar[str] = "registry.PublicEmployeesRecorded"
    context: ClassVar[str] = "registry"

    source: RegistrySource
    persons: list[PublicEmployee] = Field(max_length=PART_SIZE)


RECORDED: dict[Registry, type[PoorPopulationRecorded] | type[PublicEmployeesRecorded]] = {
    Registry.POOR_POPULATION: PoorPopulationRecorded, Registry.PUBLIC_EMPLOYEES: PublicEmployeesRecorded}


class RegistryPersonsRemoved(DomainEvent):
    """People taken off a registry (no longer registered poor, no longer paid from the budget)."""

    event_type: ClassVar[str] = "registry.RegistryPersonsRemoved"
    context: ClassVar[str] = "registry"

    registry: Registry
    source: RegistrySource
    persons: list[RemovedPerson] = Field(max_length=PART_SIZE)


# An event carries a sample of an import's faults; a file of wrong rows must not make it too large to publish.
FAULTS_IN_EVENT = 100


class RegistryImportCompleted(DomainEvent):
    """A registry file was read to its end: what it held and the fault of each refused row."""

    event_type: ClassVar[str] = "registry.RegistryImportCompleted"
    context: ClassVar[str] = "registry"

    registry: Registry
    import_id: str
    filename: str
    rows: int = Field(description="Data rows in the file.")
    accepted: int
    rejected: int
    errors: list[dict[str, str | int | None]] = Field(
        description="row, column and message of the first faults (no personal data), at most "
                    f"{FAULTS_IN_EVENT}; all of them (up to 100,000) at GET /registry/imports/{{id}}/faults.")
    started_at: datetime


class PersonalDataRevealed(DomainEvent):
    """Someone holding the PII permission read a full ID number (for the audit trail, 第二十八条)."""

    event_type: ClassVar[str] = "registry.PersonalDataRevealed"
    context: ClassVar[str] = "registry"

    person: PersonRef
    what: str = Field(description="What was read, e.g. registry_person.")
    found: bool = Field(description="Whether the number was on any registry.")
