"""The liaison register's routes (第十八条) and the record of notifications delivered (第二十一条)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.clock import clock
from backbone.errors import Forbidden, NotFound
from backbone.identity import CurrentPrincipal
from backbone.pages import Page, PagingDep
from backbone.paging import newest_first
from backbone.service import RuntimeDep
from contracts.notifications import LiaisonsSet, Person, UnitKind
from services.alerting.notifications.domain import Channel, Kind, may_set, unit_kind, unit_name
from services.alerting.notifications.projections import deliveries, liaisons

router = APIRouter(prefix="/api/v1", tags=["notifications"])
Unit = Annotated[str, PathParam(max_length=40, description="A district's org unit code (220102) or a division code "
                                                           "(agriculture).")]


class LiaisonsIn(BaseModel):
    """A unit's responsible leader (责任领导) and contact person (具体联络人员)."""

    model_config = ConfigDict(extra="forbid")

    leader: Person
    contact: Person


class LiaisonOut(BaseModel):
    unit: str
    unit_name: str
    unit_kind: UnitKind
    leader: Person
    contact: Person
    set_by: str
    updated_at: datetime
    version: int


class DeliveryOut(BaseModel):
    """One notification: where it went, what about, and how its attempts went."""

    id: int
    channel: Channel
    recipient: str
    unit: str
    role: Literal["leader", "contact"]
    kind: Kind
    subject_key: str = Field(description="The alert's id, or the day of a digest.")
    title: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None


def _out(row: Any) -> LiaisonOut:
    m = row._mapping
    return LiaisonOut(**{k: m[k] for k in ("unit", "unit_kind", "leader", "contact", "set_by", "updated_at",
                                           "version")}, unit_name=unit_name(m["unit"]))


async def _row(conn: AsyncConnection, unit: str, *, lock: bool = False) -> Any:
    query = select(liaisons).where(liaisons.c.unit == unit)
    return (await conn.execute(query.with_for_update() if lock else query)).first()


@router.get("/liaisons", response_model=Page[LiaisonOut])
async def list_liaisons(runtime: RuntimeDep, asked: PagingDep,
                        kind: Annotated[UnitKind | None, Query(description="Districts or divisions only.")] = None,
                        ) -> Page[LiaisonOut]:
    """The liaison register: each unit's responsible leader and contact person, newest change first."""
    query = select(liaisons) if kind is None else select(liaisons).where(liaisons.c.unit_kind == kind)
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, query, liaisons.c.updated_at, liaisons.c.unit, asked.cursor,
                                               asked.limit)
    return Page[LiaisonOut](items=[_out(r) for r in rows], next_cursor=next_cursor)


@router.get("/liaisons/{unit}", response_model=LiaisonOut)
async def get_liaisons(unit: Unit, runtime: RuntimeDep) -> LiaisonOut:
    """One unit's row of the register; a unit that has named nobody yet is a 404."""
    async with runtime.engine.connect() as conn:
        row = await _row(conn, unit)
    if row is None:
        raise NotFound(f"{unit} has no liaisons in the register")
    return _out(row)


@router.put("/liaisons/{unit}", response_model=LiaisonOut)
async def put_liaisons(unit: Unit, body: LiaisonsIn, principal: CurrentPrincipal, runtime: RuntimeDep) -> LiaisonOut:
    """Name or change a unit's responsible leader and contact person (第十八条): the district or division itself,
    or the treasury. The same people again change nothing."""
    kind = unit_kind(unit)
    if kind is None:
        raise NotFound(f"{unit} is neither a district (开发区) nor a division of the bureau")
    if not may_set(principal, unit):
        raise Forbidden(f"only {unit_name(unit)} itself or the treasury names its liaisons")
    async with runtime.engine.begin() as conn:
        row = await _row(conn, unit, lock=True)
        if row is not None and Person(**row.leader) == body.leader and Person(**row.contact) == body.contact:
            return _out(row)
        event = LiaisonsSet(unit=unit, unit_kind=kind, leader=body.leader, contact=body.contact,
                            set_by=principal.subject, at=clock().now())
        await runtime.store.append(conn, stream_id=f"liaisons-{unit}", stream_type="liaisons",
                                   expected_version=row.version if row else 0, events=[event],
                                   meta=runtime.store.metadata(actor=principal.subject, org_unit=principal.org_unit))
        return _out(await _row(conn, unit))


@router.get("/notifications/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    runtime: RuntimeDep, asked: PagingDep,
    subject: Annotated[str | None, Query(max_length=200, description="An alert's id, or a digest's day.")] = None,
    kind: Kind | None = None,
    status: Literal["pending", "sent", "failed"] | None = None,
) -> Page[DeliveryOut]:
    """Notifications by e-mail and SMS, newest first: each delivery with its attempts and last error."""
    d = deliveries.c
    where = [c == v for c, v in ((d.subject_key, subject), (d.kind, kind), (d.status, status)) if v is not None]
    async with runtime.engine.connect() as conn:
        rows, next_cursor = await newest_first(conn, select(deliveries).where(*where), d.created_at, d.id,
                                               asked.cursor, asked.limit, integer_key=True)
    return Page[DeliveryOut](items=[DeliveryOut(**r._mapping) for r in rows], next_cursor=next_cursor)
