"""Co-signed exports (第二十七条): who may request, co-sign and download, once and in time; the grant a service
checks; the stamp every exported workbook carries."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from backbone.errors import Forbidden, Gone, InvalidInput
from backbone.lifecycle import StepOutOfTurn
from backbone.identity import (ExportGrant, Principal, audience_of, check_export_grant, issue_internal_token,
                               read_internal_token)
from contracts.keys import new_keypair
from backbone.workbooks import STAMP_SHEET, stamped_xlsx
from gateway.exports.domain import (EXPORT_ROUTES, ExportRequest, ExportStatus, check_download,
                                    check_request, cosign, refuse_direct_export)

NOW = datetime(2026, 5, 11, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
DISTRICT = Principal(subject="南关区财政局-赵", roles=["district"], org_unit="220102")
POVERTY_OFFICE = Principal(subject="脱贫办-李", roles=["poverty_office"], org_unit="220100")
GRANT = ExportGrant(export_id="e-1", path="/payments/export", requester=DISTRICT.subject, cosigner="脱贫办-李",
                    cosigned_at=NOW, purpose="核对到人到户资金", recipient="省财政厅")
OPENAPI = Path(__file__).resolve().parents[2] / "contracts" / "openapi"


def requested(requester: Principal = DISTRICT) -> ExportRequest:
    return ExportRequest(export_id="e-1", path="/payments/export", params={}, purpose="核对到人到户资金",
                         recipient=None, requester=requester.subject, requester_org_unit=requester.org_unit,
                         requested_at=NOW - timedelta(hours=1), status=ExportStatus.REQUESTED)


def approved(hours: int = 24) -> ExportRequest:
    event = cosign(requested(), by=POVERTY_OFFICE, decision="approved", opinion="同意", now=NOW, download_hours=hours)
    return ExportRequest(**{**vars(requested()), "status": ExportStatus.APPROVED, "cosigner": event.cosigner,
                            "opinion": event.opinion, "cosigned_at": NOW, "download_until": event.download_until})


# The grant a service asks for.

@pytest.mark.parametrize("principal,path,allowed", [
    pytest.param(DISTRICT, "/payments/export", False, id="no-grant"),
    pytest.param(DISTRICT.model_copy(update={"export": GRANT}), "/payments/export", True, id="its-grant"),
    pytest.param(DISTRICT.model_copy(update={"export": GRANT}), "/ledger/export", False, id="grant-for-another-route"),
    pytest.param(POVERTY_OFFICE.model_copy(update={"export": GRANT}), "/payments/export", False,
                 id="grant-of-another-person"),
])
def test_a_service_runs_an_export_route_only_with_a_grant_for_it(principal, path, allowed):
    if allowed:
        assert check_export_grant(principal, path) == GRANT
    else:
        with pytest.raises(Forbidden):
            check_export_grant(principal, path)


def test_the_grant_travels_in_the_forwarded_identity():
    carrying = DISTRICT.model_copy(update={"export": GRANT})
    private, public = new_keypair()
    ledger = audience_of("ledger")
    assert read_internal_token(issue_internal_token(carrying, private, ledger), public, ledger) == carrying
    assert read_internal_token(issue_internal_token(DISTRICT, private, ledger), public, ledger).export is None


# Requesting.

@pytest.mark.parametrize("path,params,field", [
    pytest.param("/ledger", {}, "path", id="not-an-export"),
    pytest.param("/ledger/export", {"limit": 10}, "params.limit", id="unknown-parameter"),
    pytest.param("/performance-goals/export", {}, "params.fiscal_year", id="missing-parameter"),
])
def test_a_request_names_an_export_route_and_its_parameters(path, params, field):
    with pytest.raises(InvalidInput) as caught:
        check_request(requester=DISTRICT, path=path, params=params)
    assert [e["field"] for e in caught.value.extra["errors"]] == [field]


def test_a_route_is_recognised_however_it_is_spelled_and_machines_request_nothing():
    assert check_request(requester=DISTRICT, path="api/v1/ledger//export/", params={"fiscal_year": 2026}) == \
        "/ledger/export"
    with pytest.raises(Forbidden):
        check_request(requester=Principal(subject="treasury-system", roles=["treasury_system"]),
                      path="/ledger/export", params={})


def test_nobody_requests_an_export_the_access_table_would_refuse_them_at_download():
    division = Principal(subject="农业处-王", roles=["division"], division="agriculture")
    with pytest.raises(Forbidden, match="is for"):
        check_request(requester=division, path="/payments/export", params={})
    assert check_request(requester=division, path="/ledger/export", params={}) == "/ledger/export"


@pytest.mark.parametrize("path", ["ledger/export", "ledger/export/", "payments//export", "requirements/export"])
def test_the_gateway_refuses_a_direct_export(path):
    with pytest.raises(Forbidden, match="POST /api/v1/exports"):
        refuse_direct_export(path)


def test_the_gateway_lets_other_paths_through():
    refuse_direct_export("ledger")
    refuse_direct_export("payments/batch")


def test_the_routes_and_their_parameters_are_the_services_own():
    for path, route in EXPORT_ROUTES.items():
        # The services' own documents, not the merged public one.
        found = [doc["paths"][f"/api/v1{path}"]["get"] for doc in
                 (json.loads(f.read_text()) for f in OPENAPI.glob("*.json") if f.name != "public.json")
                 if f"/api/v1{path}" in doc["paths"]]
        assert len(found) == 1, path
        parameters = found[0].get("parameters", [])
        assert {p["name"] for p in parameters} == route.params, path
        assert {p["name"] for p in parameters if p.get("required")} == route.required, path


# Co-signing (会签).

def test_only_the_poverty_office_co_signs_and_never_its_own_request():
    with pytest.raises(Forbidden):
        cosign(requested(), by=DISTRICT, decision="approved", opinion="同意", now=NOW, download_hours=24)
    with pytest.raises(Forbidden):
        cosign(requested(POVERTY_OFFICE), by=POVERTY_OFFICE, decision="approved", opinion="同意", now=NOW,
               download_hours=24)


def test_an_approval_opens_the_download_for_the_configured_hours_and_a_refusal_opens_nothing():
    assert approved(hours=24).download_until == NOW + timedelta(hours=24)
    refusal = cosign(requested(), by=POVERTY_OFFICE, decision="refused", opinion="范围过大", now=NOW,
                     download_hours=24)
    assert refusal.decision == "refused" and refusal.download_until is None


def test_the_same_decision_twice_is_one_step_and_a_change_of_mind_is_refused():
    assert cosign(approved(), by=POVERTY_OFFICE, decision="approved", opinion="同意", now=NOW,
                  download_hours=24) is None
    with pytest.raises(StepOutOfTurn):
        cosign(approved(), by=POVERTY_OFFICE, decision="refused", opinion="不同意", now=NOW, download_hours=24)


# Downloading: the requester, once, in time.

def test_the_requester_downloads_an_approved_export_with_a_grant_for_it():
    grant = check_download(approved(), by=DISTRICT, now=NOW + timedelta(hours=23, minutes=59))
    assert (grant.export_id, grant.path, grant.requester, grant.cosigner) == (
        "e-1", "/payments/export", DISTRICT.subject, POVERTY_OFFICE.subject)


@pytest.mark.parametrize("export,by,at,error", [
    pytest.param(approved(), POVERTY_OFFICE, NOW, Forbidden, id="someone-else"),
    pytest.param(requested(), DISTRICT, NOW, StepOutOfTurn, id="not-yet-co-signed"),
    pytest.param(ExportRequest(**{**vars(requested()), "status": ExportStatus.REFUSED}), DISTRICT, NOW, Forbidden,
                 id="refused"),
    pytest.param(ExportRequest(**{**vars(approved()), "status": ExportStatus.DOWNLOADED}), DISTRICT, NOW, Gone,
                 id="downloaded-already"),
    pytest.param(approved(), DISTRICT, NOW + timedelta(hours=24), Gone, id="time-is-up"),
])
def test_a_download_is_refused(export, by, at, error):
    with pytest.raises(error):
        check_download(export, by=by, now=at)


def test_an_approved_export_not_downloaded_in_time_shows_as_expired():
    assert approved().status_at(NOW + timedelta(hours=1)) == ExportStatus.APPROVED
    assert approved().status_at(NOW + timedelta(hours=24)) == ExportStatus.EXPIRED


# The stamp in the file.

def test_an_exported_workbook_names_its_requester_time_co_signer_and_purpose():
    def fill(book):
        sheet = book.add_worksheet("资金支付明细")
        sheet.write_row(0, 0, ["支付编号", "用途"])
        sheet.write_row(1, 0, ["T-1", "=HYPERLINK(\"http://example.com\")"])

    content = stamped_xlsx(DISTRICT.model_copy(update={"export": GRANT}), fill, NOW + timedelta(minutes=5))
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert book.sheet_names == ["资金支付明细", STAMP_SHEET], "the data first, as before; the stamp after it"
    assert book.get_sheet_by_name("资金支付明细").to_python()[1] == ["T-1", "=HYPERLINK(\"http://example.com\")"], \
        "exported text stays text, never a formula"
    stamp = dict(book.get_sheet_by_name(STAMP_SHEET).to_python())
    assert stamp["导出人"] == "南关区财政局-赵（南关区）"
    assert stamp["导出时间"] == "2026-05-11 10:05:00（北京时间）"
    assert stamp["会签"] == "脱贫办-李（局脱贫办） 2026-05-11 10:00:00"
    assert (stamp["用途"], stamp["提供对象"], stamp["导出编号"]) == ("核对到人到户资金", "省财政厅", "e-1")
    with zipfile.ZipFile(io.BytesIO(content)) as parts:
        core = parts.read("docProps/core.xml").decode()
        sheet = parts.read("xl/worksheets/sheet1.xml").decode()
    assert "<dc:creator>南关区财政局-赵</dc:creator>" in core and "核对到人到户资金" in core
    assert "导出人：南关区财政局-赵" in sheet, "every printed page names the requester in its footer"


def test_a_workbook_without_a_grant_is_not_an_export():
    with pytest.raises(ValueError):
        stamped_xlsx(DISTRICT, lambda book: None, NOW)


def test_every_export_parameter_has_a_type_and_a_bad_value_is_refused_when_asked_for_not_at_download():
    from gateway.exports.domain import PARAM_TYPES
    assert {p for route in EXPORT_ROUTES.values() for p in route.params} <= PARAM_TYPES.keys()
    with pytest.raises(InvalidInput) as refused:
        check_request(requester=DISTRICT, path="/payments/export", params={
            "paid_from": "2026-01-01T00:00:00", "amount_min": "many", "payee": "张三"})
    assert [e["field"] for e in refused.value.extra["errors"]] == ["params.amount_min", "params.paid_from"]
    assert check_request(requester=DISTRICT, path="/ledger/export", params={"fiscal_year": "2026"}) == "/ledger/export"
