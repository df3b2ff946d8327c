"""A person's entries on the registries, looked up by ID number: the caller needs the PII permission, and each
look-up is on record (PersonalDataRevealed)."""

from datetime import datetime
from uuid import uuid4

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from backbone.clock import clock
from backbone.errors import Forbidden, InvalidInput, fault
from backbone.eventstore import NewStream
from backbone.identity import CurrentPrincipal
from backbone.pii import PersonalData, check_id_number, mask_id_number
from backbone.service import RuntimeDep
from contracts.registry import PersonalDataRevealed, PersonRef
from contracts.values import Registry
from services.payments.registry.projections import registry_entries


router = APIRouter(prefix="/api/v1", tags=["registries"])

class RegistryEntryOut(BaseModel):
    registry: Registry
    name: str
    org_unit: str | None
    household: str | None = None
    town: str | None = None
    village: str | None = None
    status: str | None = None
    year: int | None = None
    employer: str | None = None
    updated_at: datetime


class PersonLookup(BaseModel):
    """The ID number travels in a body, never in a URL: URLs end up in the logs of proxies and browsers."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id_number: str = Field(min_length=1, max_length=40, description="The full ID number (GB 11643).")


class PersonOut(BaseModel):
    # The caller sent the number; the answer does not repeat it (answers may be kept, e.g. for Idempotency-Key).
    id_masked: str
    entries: list[RegistryEntryOut] = Field(description="The person on each registry, within the caller's scope.")


@router.post("/registry/persons/lookup", response_model=PersonOut)
async def look_up_person(body: PersonLookup, principal: CurrentPrincipal, runtime: RuntimeDep) -> PersonOut:
    """A person's registry entries by ID number, for callers with the PII permission; every such read is audited."""
    if not principal.pii:
        raise Forbidden("reading a person by ID number needs the PII permission")
    try:
        number = check_id_number(body.id_number, clock().today())
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=[fault("id_number", str(exc))]) from None
    personal = PersonalData.from_settings(runtime.settings)
    person = PersonRef(id_index=personal.blind_index(number), id_masked=mask_id_number(number))
    async with runtime.engine.begin() as conn:
        entries = [e for e in await registry_entries(conn, None, [person.id_index])
                   if principal.citywide or e["org_unit"] == principal.org_unit]
        # The read is recorded in the same transaction as it is answered: no unaudited read.
        await runtime.store.create_streams(conn, [NewStream(
            f"pii-read-{uuid4()}",
            "pii-read", [PersonalDataRevealed(person=person, what="registry_person", found=bool(entries))])],
            runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
    return PersonOut(id_masked=person.id_masked, entries=[RegistryEntryOut(**e) for e in entries])
