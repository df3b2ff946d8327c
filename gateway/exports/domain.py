"""An export request's lifecycle, pure: requested → approved or refused by the poverty office; an approved one is
downloaded by its requester once, within the time limit after the co-signature."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from backbone.access import POVERTY_OFFICE, admitted
from backbone.errors import Forbidden, Gone, InvalidInput, fault
from backbone.identity import API_PREFIX, ExportGrant, Principal
from backbone.lifecycle import next_state
from backbone.workdays import SHANGHAI
from contracts.gateway import ExportCosigned
from contracts.values import AlertLevel, FiscalYear, SettlementMethod

COSIGNER_ROLE = POVERTY_OFFICE  # 局脱贫办


@dataclass(frozen=True)
class ExportRoute:
    """An export route of a service and the query parameters it reads."""

    params: frozenset[str]
    required: frozenset[str] = frozenset()


# Every route that lets data leave the platform as a file, under /api/v1.
EXPORT_ROUTES: dict[str, ExportRoute] = {
    "/ledger/export": ExportRoute(frozenset({"fiscal_year", "org_unit", "owner_division"})),
    "/payments/export": ExportRoute(frozenset({"indicator_id", "payee", "paid_from", "paid_to", "amount_min",
                                               "amount_max", "settlement_method"})),
    "/alerts/export": ExportRoute(frozenset({"level", "status", "rule", "org_unit", "owner_division", "raised_from",
                                             "raised_to"})),
    "/performance-goals/export": ExportRoute(frozenset({"fiscal_year", "org_unit", "owner_division"}),
                                             frozenset({"fiscal_year"})),
    "/dispositions/export": ExportRoute(frozenset({"handled_from", "handled_to"})),
    "/rule-proposals/export": ExportRoute(frozenset({"fiscal_year"}), frozenset({"fiscal_year"})),
    "/requirements/export": ExportRoute(frozenset({"fiscal_year"}), frozenset({"fiscal_year"})),
}


# The type of each export parameter, as the services read it: a request is checked when it is made, not when
# the co-signed file is built (tests/unit/test_exports.py holds it to the services' OpenAPI documents).
PARAM_TYPES: dict[str, TypeAdapter[Any]] = {
    **{name: TypeAdapter(str) for name in ("org_unit", "owner_division", "indicator_id", "payee", "status", "rule")},
    **{name: TypeAdapter(AwareDatetime) for name in ("paid_from", "paid_to", "raised_from", "raised_to",
                                                     "handled_from", "handled_to")},
    **{name: TypeAdapter(Decimal) for name in ("amount_min", "amount_max")},
    "fiscal_year": TypeAdapter(FiscalYear),
    "settlement_method": TypeAdapter(SettlementMethod),
    "level": TypeAdapter(AlertLevel),
}


def _type_faults(params: dict[str, Any]) -> list[dict[str, str]]:
    faults = []
    for name, value in sorted(params.items()):
        adapter = PARAM_TYPES.get(name)
        if adapter is None:
            continue
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            faults.append(fault(f"params.{name}", exc.errors()[0]["msg"]))
    return faults


class ExportStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    DOWNLOADED = "downloaded"
    EXPIRED = "expired"


class ExportStep(StrEnum):
    APPROVE = "approve"  # 会签同意
    REFUSE = "refuse"  # 会签不同意
    DOWNLOAD = "download"


TRANSITIONS: dict[tuple[ExportStatus, ExportStep], ExportStatus] = {
    (ExportStatus.REQUESTED, ExportStep.APPROVE): ExportStatus.APPROVED,
    (ExportStatus.REQUESTED, ExportStep.REFUSE): ExportStatus.REFUSED,
    (ExportStatus.APPROVED, ExportStep.DOWNLOAD): ExportStatus.DOWNLOADED,
}
# The co-signature the request already has, sent again (a retry): no new step, and no error.
REPEATED = {(ExportStatus.APPROVED, ExportStep.APPROVE), (ExportStatus.DOWNLOADED, ExportStep.APPROVE),
            (ExportStatus.REFUSED, ExportStep.REFUSE)}


def export_path(path: str) -> str | None:
    """The export route a path is (under /api/v1, with or without the prefix and slashes); None if it is none."""
    normal = "/" + "/".join(part for part in path.split("/") if part)
    normal = normal.removeprefix(API_PREFIX) or "/"
    return normal if normal in EXPORT_ROUTES else None


def refuse_direct_export(path: str) -> None:
    """Data leaves only through a co-signed export: a direct call of an export route is refused at the edge."""
    route = export_path(path)
    if route is not None:
        raise Forbidden(f"exports need the poverty office's co-signature (第二十七条): POST /api/v1/exports with "
                        f"{{\"path\": \"{route}\", \"params\": …, \"purpose\": …}}, then, once it is co-signed, "
                        "GET /api/v1/exports/{id}/file")


def check_request(*, requester: Principal, path: str, params: dict[str, Any]) -> str:
    """The export route asked for, if a person asks for it with parameters that route reads."""
    route = export_path(path)
    if route is None:
        raise InvalidInput(f"{path!r} is no export route", errors=[
            fault("path", f"one of: {', '.join(EXPORT_ROUTES)}")])
    # Nobody asks for what the access table would refuse them at download time.
    admitted(requester, "GET", f"/api/v1{route}")
    spec = EXPORT_ROUTES[route]
    errors = [fault(f"params.{name}", f"{route} has no parameter {name!r}")
              for name in sorted(set(params) - spec.params)]
    errors += [fault(f"params.{name}", f"{route} needs it")
               for name in sorted(spec.required - set(params))]
    errors += _type_faults({k: v for k, v in params.items() if k in spec.params})
    if errors:
        raise InvalidInput(f"the parameters do not fit {route}", errors=errors)
    return route


@dataclass(frozen=True)
class ExportRequest:
    """An export request where it stands (the read model's row)."""

    export_id: str
    path: str
    params: dict[str, Any]
    purpose: str
    recipient: str | None
    requester: str
    requester_org_unit: str | None
    requested_at: datetime
    status: ExportStatus
    cosigner: str | None = None
    opinion: str | None = None
    cosigned_at: datetime | None = None
    download_until: datetime | None = None
    downloaded_at: datetime | None = None
    download_claimed_at: datetime | None = None  # a download under way since then

    def status_at(self, now: datetime) -> ExportStatus:
        """The status as the requester meets it: an approved export not taken in time has expired."""
        if self.status == ExportStatus.APPROVED and self.download_until is not None and now >= self.download_until:
            return ExportStatus.EXPIRED
        return self.status


def check_cosigner(by: Principal) -> None:
    """Only the poverty office co-signs exports."""
    if not by.has_any(COSIGNER_ROLE):
        raise Forbidden("exports are co-signed by the poverty office (局脱贫办)")


def cosign(request: ExportRequest, *, by: Principal, decision: Literal["approved", "refused"], opinion: str,
           now: datetime, download_hours: int) -> ExportCosigned | None:
    """The poverty office's decision on a request (never the requester's own); the same decision again is no new
    step (None)."""
    check_cosigner(by)
    if by.subject == request.requester:
        raise Forbidden("nobody co-signs their own export request")
    step = ExportStep.APPROVE if decision == "approved" else ExportStep.REFUSE
    if (request.status, step) in REPEATED:
        return None
    next_state(TRANSITIONS, request.status, step, what=f"export {request.export_id}", where=request.status.value)
    until = now + timedelta(hours=download_hours) if decision == "approved" else None
    return ExportCosigned(export_id=request.export_id, decision=decision, opinion=opinion, cosigner=by.subject,
                          download_until=until)


def check_download(request: ExportRequest, *, by: Principal, now: datetime) -> ExportGrant:
    """The grant the requester downloads with: only the requester, only once, only in time, only if approved."""
    if by.subject != request.requester:
        raise Forbidden("only the requester downloads a co-signed export")
    status = request.status_at(now)
    match status:
        case ExportStatus.REFUSED:
            raise Forbidden(f"the poverty office refused export {request.export_id}: {request.opinion}")
        case ExportStatus.DOWNLOADED:
            raise Gone(f"export {request.export_id} was downloaded already; request it again")
        case ExportStatus.EXPIRED:
            raise Gone(f"export {request.export_id} could be downloaded until "
                       f"{request.download_until.astimezone(SHANGHAI):%Y-%m-%d %H:%M}; request it again")
    # Awaiting the poverty office's co-signature: not yet.
    next_state(TRANSITIONS, status, ExportStep.DOWNLOAD, what=f"export {request.export_id}", where=status.value)
    return ExportGrant(export_id=request.export_id, path=request.path, requester=request.requester,
                       cosigner=request.cosigner, cosigned_at=request.cosigned_at, purpose=request.purpose,
                       recipient=request.recipient)
