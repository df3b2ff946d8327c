"""The registries' incremental updates, as the province sends them: people added, changed and taken off, each
record checked on its own so that one bad record spoils nothing else."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from backbone.clock import clock
from backbone.errors import ConcurrencyConflict, InvalidInput, fault
from backbone.eventstore import NewStream
from backbone.identity import CurrentPrincipal, Principal
from backbone.pii import PersonalData, mask_id_number
from backbone.service import Runtime, RuntimeDep
from contracts.envelope import DomainEvent
from contracts.registry import PART_SIZE, RECORDED, RegistryPersonsRemoved, RegistrySource, RemovedPerson
from contracts.values import Registry
from services.payments.domain import keyed_digest
from services.payments.projections import keep_personal_data
from services.payments.registry.domain import REQUIRED, RowChecker, check_update, entry_values
from services.payments.registry.api import ENTRY
from services.payments.registry.projections import registry_entries

router = APIRouter(prefix="/api/v1", tags=["registries"])

class UpdateResult(BaseModel):
    update_id: str
    duplicate: bool = Field(description="This update was recorded before with the same content: nothing new.")
    recorded: int = Field(description="People added or changed now.")
    removed: int = Field(description="People taken off the registry now.")
    rejected: list[dict[str, Any]] = Field(description="Records refused: list, index and the field of each fault.")


class UpdateIn(BaseModel):
    """For the schema only: records are checked one by one, so that one bad record spoils nothing else."""

    update_id: str = Field(min_length=1, max_length=64, description="The sender's own id of this batch.")
    persons: list[dict[str, Any]] = Field(default_factory=list, description=(
        "People added or changed: `id_number` and the fields that change (a new person needs all required ones)."))
    removals: list[dict[str, Any]] = Field(default_factory=list,
                                           description="`{id_number, reason}` of each person to take off.")


def _update_route(path: str, registry: Registry, summary: str) -> None:
    @router.post(path, response_model=UpdateResult, summary=summary,
                 name=f"update_{registry.value}",
                 openapi_extra={"requestBody": {"content": {"application/json": {
                     "schema": UpdateIn.model_json_schema(ref_template="#/components/schemas/{model}")}}}})
    async def post_update(principal: CurrentPrincipal, runtime: RuntimeDep,
                          body: Any = Body(..., include_in_schema=False)) -> UpdateResult:
        """Status changes, new people and removals, as events alerting learns from; the same update twice is one."""
        return await _update(registry, body, principal, runtime)


_update_route("/registry/poor-population/updates", Registry.POOR_POPULATION, "Update 建档立卡贫困人口")
_update_route("/registry/public-employees/updates", Registry.PUBLIC_EMPLOYEES, "Update 财政供养人员")


async def _update(registry: Registry, body: Any, principal: Principal, runtime: Runtime) -> UpdateResult:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be an object", errors=[fault("", "an object is required")])
    faults = [fault(name, "a list is required") for name in ("persons", "removals")
              if not isinstance(body.get(name, []), list)]
    update_id = body.get("update_id")
    if not isinstance(update_id, str) or not 0 < len(update_id.strip()) <= 64:
        faults.append(fault("update_id", "1 to 64 characters are required"))
    faults += [fault(name, "unknown field") for name in body
               if name not in ("update_id", "persons", "removals")]
    if faults:
        raise InvalidInput("the update is malformed", errors=faults)
    count = len(body.get("persons", [])) + len(body.get("removals", []))
    limit = runtime.settings.max_batch_records
    if count > limit:
        raise InvalidInput(f"at most {limit} records per update",
                           errors=[fault("persons", f"{count} records, at most {limit}")])
    update_id = update_id.strip()
    today = clock().today()
    checked = check_update(registry, body, today)
    personal = PersonalData.from_settings(runtime.settings)
    digest = keyed_digest(body, runtime.settings.record_digest_key.get_secret_value().encode())
    stream_id = f"registry-update-{registry.value}-{update_id}"
    meta = runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit)
    async with runtime.engine.begin() as conn:
        history = await runtime.store.read_stream(conn, stream_id)
        if history:
            if history[0].payload["source"].get("digest") != digest:
                raise ConcurrencyConflict(f"update {update_id} was recorded with different content",
                                          errors=[fault("update_id", "already used")])
            return UpdateResult(update_id=update_id, duplicate=True, recorded=0, removed=0, rejected=checked.rejected)
        indexes = {r.id_number: personal.blind_index(r.id_number) for r in checked.persons + checked.removals}
        existing = {e["id_index"]: e for e in await registry_entries(conn, registry, list(indexes.values()))}
        persons, removals, rejected, vault = _apply_update(registry, checked, indexes, existing, personal, today)
        events: list[DomainEvent] = [
            RECORDED[registry](source=RegistrySource(kind="update", id=update_id, part=n + 1, digest=digest),
                               persons=persons[i:i + PART_SIZE])
            for n, i in enumerate(range(0, len(persons), PART_SIZE))]
        events += [RegistryPersonsRemoved(
            registry=registry, persons=removals[i:i + PART_SIZE],
            source=RegistrySource(kind="update", id=update_id, part=len(events) + n + 1, digest=digest))
            for n, i in enumerate(range(0, len(removals), PART_SIZE))]
        if events:
            await keep_personal_data(conn, vault)
            await runtime.store.create_streams(conn, [NewStream(stream_id, "registry-update", events)], meta)
    return UpdateResult(update_id=update_id, duplicate=False, recorded=len(persons), removed=len(removals),
                        rejected=checked.rejected + rejected)


def _apply_update(registry: Registry, checked: Any, indexes: dict[str, str], existing: dict[str, dict[str, Any]],
                  personal: PersonalData, today: date) -> tuple[list[Any], list[Any], list[dict[str, Any]],
                                                                 list[tuple[str, str]]]:
    """Each record merged onto the person's current entry and checked whole; a person once per update."""
    checker = RowChecker(registry, personal, today)
    model = ENTRY[registry]
    persons, removals, rejected, vault = [], [], [], []
    first_place: dict[str, str] = {}
    for key, records in (("persons", checked.persons), ("removals", checked.removals)):
        for record in records:
            where = f"{key}[{record.index}]"
            index = indexes[record.id_number]
            if index in first_place:
                rejected.append({"index": record.index, "list": key, "errors": [
                    fault(f"{where}.id_number", f"the same person as {first_place[index]}")]})
                continue
            first_place[index] = where
            if key == "removals":
                if index not in existing:
                    rejected.append({"index": record.index, "list": key, "errors": [
                        fault(f"{where}.id_number", "this person is not on the registry")]})
                    continue
                removals.append(RemovedPerson(
                    id_index=index, id_masked=mask_id_number(record.id_number),
                    reason=record.values.get("reason") or None))
                continue
            current = entry_values(registry, existing[index]) if index in existing else {}
            entry, problems = checker.entry({**current, **record.values, "id_number": record.id_number},
                                            REQUIRED[registry])
            if problems:
                rejected.append({"index": record.index, "list": key, "errors": [
                    fault(f"{where}.{name}", message) for name, message in problems.items()]})
                continue
            persons.append(model(**entry))
            vault.append((index, personal.encrypt(record.id_number)))
    return persons, removals, rejected, vault
