"""Data leaves the platform only co-signed by the poverty office (第二十七条): requested, co-signed, downloaded once
by the requester within the time limit, within the requester's scope, and stamped with who, when and why."""

import asyncio
import io
import json
from datetime import datetime
from uuid import uuid4

import httpx
import pytest
from python_calamine import CalamineWorkbook

from backbone.clock import clock
from backbone.pii import mask_id_number
from tests.e2e import db
from tests.e2e.conftest import indicator_body, payment_body
from tests.e2e.exporting import co_signed_export, cosign, poverty_office, request_export
from tests.e2e.people import signed_in
from tests.e2e.people import forwarded
from tests.people import id_number

pytestmark = pytest.mark.e2e


def nanguan() -> dict[str, str]:
    return signed_in("南关区财政局-赵", ["district"], org_unit="220102")


def sheets(content: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return {sheet: book.get_sheet_by_name(sheet).to_python() for sheet in book.sheet_names}


def test_an_export_is_requested_co_signed_and_downloaded_once_by_its_requester_stamped(stack, servers):
    admin, district = stack.admin_headers(), nanguan()
    with stack.client() as c:
        ours = c.post("/indicators", json=indicator_body("100.00"), headers=admin).json()["id"]
        theirs = c.post("/indicators", json=indicator_body("100.00", org_unit="220103"), headers=admin).json()["id"]
        # Straight at the export route: refused, with the way to do it.
        direct = c.get("/ledger/export", headers=admin)
        assert direct.status_code == 403 and "POST /api/v1/exports" in direct.json()["detail"]
        # Nor with a control character after it, which a route's `$` would still have matched.
        for disguised in ("/ledger/export%0A", "/ledger/export%0D%0A", "/ledger//export"):
            sneaked = c.get(disguised, headers=admin)
            assert sneaked.status_code in (403, 404, 422) and "attachment" not in sneaked.headers.get(
                "content-disposition", ""), (disguised, sneaked.status_code)
        behind = httpx.get(f"{stack.processes.url('ledger')}/api/v1/ledger/export%0A",
                           headers=forwarded("admin", ["admin"]))
        assert behind.status_code == 422 and behind.json()["errors"][0]["field"] == "path", "the service refuses too"
        wrong = c.post("/exports", headers=district, json={"path": "/ledger", "purpose": "核对"})
        assert wrong.status_code == 422 and [e["field"] for e in wrong.json()["errors"]] == ["path"]
        machine = c.post("/exports", headers=stack.treasury_headers(),
                         json={"path": "/ledger/export", "purpose": "核对"})
        assert machine.status_code == 403

        # The district asks; the same Idempotency-Key twice asks once.
        body = {"path": "/ledger/export", "params": {"fiscal_year": 2026}, "purpose": "报送省厅核对",
                "recipient": "省财政厅"}
        key = {"Idempotency-Key": uuid4().hex}
        first = c.post("/exports", headers=district | key, json=body)
        again = c.post("/exports", headers=district | key, json=body)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers["Idempotency-Replayed"] == "true"
        export_id = first.json()["id"]
        assert again.json()["id"] == export_id and first.json()["status"] == "requested"

        # Not before the co-signature; never co-signed by others than the poverty office.
        assert c.get(f"/exports/{export_id}/file", headers=district).status_code == 409
        assert c.post(f"/exports/{export_id}/cosignature", headers=admin,
                      json={"decision": "approved", "opinion": "同意"}).status_code == 403
        pending = c.get("/exports", params={"status": "requested", "limit": 1000}, headers=poverty_office()).json()
        assert export_id in [e["id"] for e in pending["items"]], "the poverty office sees what awaits it"
        kuancheng = signed_in("宽城区财政局-钱", ["district"], org_unit="220103")
        assert export_id not in [e["id"] for e in c.get("/exports", headers=kuancheng).json()["items"]]

        approved = cosign(c, export_id, opinion="同意报送")
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        assert approved.json()["download_until"] is not None

        # Only the requester downloads: the poverty office is refused, another district finds nothing.
        assert c.get(f"/exports/{export_id}/file", headers=poverty_office()).status_code == 403
        assert c.get(f"/exports/{export_id}/file", headers=kuancheng).status_code == 404
        asked = clock().local_now().replace(microsecond=0, tzinfo=None)
        file = c.get(f"/exports/{export_id}/file", headers=district)
        answered = clock().local_now().replace(tzinfo=None)
        assert file.status_code == 200, file.text
        assert "attachment" in file.headers["content-disposition"]
        # Once only.
        assert c.get(f"/exports/{export_id}/file", headers=district).status_code == 410
        assert c.get(f"/exports/{export_id}", headers=district).json()["status"] == "downloaded"

    workbook = sheets(file.content)
    assert list(workbook) == ["指标台账", "导出说明"]
    stamp = dict(workbook["导出说明"])
    assert stamp["导出人"] == "南关区财政局-赵（南关区）"
    assert stamp["会签"].startswith("局脱贫办-周（局脱贫办）")
    assert (stamp["用途"], stamp["提供对象"], stamp["导出编号"]) == ("报送省厅核对", "省财政厅", export_id)
    stamped = datetime.strptime(stamp["导出时间"].removesuffix("（北京时间）"), "%Y-%m-%d %H:%M:%S")
    assert asked <= stamped <= answered, "the Beijing time of the export, made while it was downloaded"
    rows = {r[0]: r[13] for r in workbook["指标台账"][1:]}
    assert ours in rows and theirs not in rows and set(rows.values()) == {"南关区"}, "the district's own only"

    # Every step is an event with its actor.
    steps = db.rows(servers.database_url, "SELECT event_type, metadata::text AS meta FROM gateway.events "
                    "WHERE stream_id = $1 ORDER BY version", f"export-{export_id}")
    assert [(s["event_type"], json.loads(s["meta"])["actor"]) for s in steps] == [
        ("gateway.ExportRequested", "南关区财政局-赵"), ("gateway.ExportCosigned", "局脱贫办-周"),
        ("gateway.ExportDownloaded", "南关区财政局-赵")]


def test_a_refused_or_expired_export_cannot_be_downloaded_and_nobody_co_signs_their_own(stack, servers):
    district = nanguan()
    with stack.client() as c:
        refused = request_export(c, district, "/alerts/export", {"level": "red"})
        assert cosign(c, refused, decision="refused", opinion="范围过大，请按月申请").status_code == 200
        answer = c.get(f"/exports/{refused}/file", headers=district)
        assert answer.status_code == 403 and "范围过大" in answer.json()["detail"]
        assert cosign(c, refused, decision="approved").status_code == 409, "a decision stands"

        own = request_export(c, poverty_office(), "/dispositions/export")
        assert cosign(c, own).status_code == 403

        late = request_export(c, district, "/alerts/export")
        cosign(c, late).raise_for_status()
        # Let the time limit pass.
        asyncio.run(db.execute(servers.database_url, "UPDATE gateway.export_requests SET download_until = now() - "
                               "interval '1 second' WHERE export_id = $1", late))
        assert c.get(f"/exports/{late}/file", headers=district).status_code == 410
        expired = c.get("/exports", params={"status": "expired"}, headers=district).json()["items"]
        assert late in [e["id"] for e in expired]


def test_a_district_exports_only_its_own_payments_with_id_numbers_masked(stack):
    admin, treasury = stack.admin_headers(), stack.treasury_headers()
    payee = f"合作社-{uuid4().hex[:6]}"
    tag = uuid4().hex[:8]
    person_number = id_number(7301)
    with stack.client() as c:
        ours = c.post("/indicators", json=indicator_body("1000.00"), headers=admin).json()["id"]
        theirs = c.post("/indicators", json=indicator_body("1000.00", org_unit="220103"), headers=admin).json()["id"]
        batch = [payment_body(f"{tag}-ours", ours, "10.00", payee_name=payee),
                 payment_body(f"{tag}-theirs", theirs, "20.00", payee_name=payee, org_unit="220103"),
                 payment_body(f"{tag}-person", ours, "30.00", payee_name=payee, payee_type="person",
                              payee_id_number=person_number)]
        assert c.post("/payments/batch", json={"payments": batch}, headers=treasury).json()["accepted"] == 3

        def download(headers: dict[str, str]) -> list[list]:
            file = co_signed_export(c, headers, "/payments/export", {"payee": payee})
            assert file.status_code == 200, file.text
            return sheets(file.content)["资金支付明细"]

        district = download(nanguan())
        citywide = download(signed_in("国库处-张", ["treasury"], pii=True))
    assert district[0][:5] == ["支付编号", "指标编号", "付款人名称", "付款账户", "支付金额"]
    assert district[0][12] == "收款人身份证号"
    masked = {r[0]: r[12] for r in district[1:]}
    full = {r[0]: r[12] for r in citywide[1:]}
    assert sorted(masked) == [f"{tag}-ours", f"{tag}-person"], "only 南关区's payments"
    assert sorted(full) == [f"{tag}-ours", f"{tag}-person", f"{tag}-theirs"]
    assert masked[f"{tag}-person"] == mask_id_number(person_number), "masked without the PII permission"
    assert full[f"{tag}-person"] == person_number, "in full with it"


def test_a_service_refuses_its_export_routes_without_a_grant_for_them(stack):
    ledger = f"{stack.processes.url('ledger')}/api/v1"
    payments = f"{stack.processes.url('payments')}/api/v1"
    treasury = forwarded("国库处-张", ["treasury"])
    assert httpx.get(f"{ledger}/ledger/export", headers=treasury).status_code == 403
    assert httpx.get(f"{ledger}/ledger/export", headers=treasury.exporting("/payments/export")).status_code == 403
    assert httpx.get(f"{payments}/payments/export", headers=treasury.exporting("/payments/export")).status_code == 200


def test_two_downloads_at_once_give_the_file_once(stack):
    from concurrent.futures import ThreadPoolExecutor
    district = signed_in("南关区财政局-赵", ["district"], org_unit="220102")
    with stack.client() as c:
        export_id = request_export(c, district, "/alerts/export")
        cosign(c, export_id).raise_for_status()

    def download(_: int) -> int:
        with stack.client() as client:
            return client.get(f"/exports/{export_id}/file", headers=district).status_code
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(download, range(2)))
    # The second finds it being downloaded (409) or downloaded (410): never a second file.
    assert statuses[0] == 200 and statuses[1] in (409, 410)
