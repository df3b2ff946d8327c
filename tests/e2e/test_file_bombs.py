"""A workbook that names a cell far away (XFD1048576) makes its reader allocate the whole rectangle up to it:
5 KB in, hundreds of GB asked for. Read in a worker with a memory limit, it is a 422 on `file`, and the
service that received it goes on answering."""

import io

import httpx
import pytest
import xlsxwriter

pytestmark = pytest.mark.e2e


def far_cell_workbook() -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as book:
        sheet = book.add_worksheet()
        sheet.write("A1", "指标文件号")
        sheet.write("XFD1048576", "far away")
    return buffer.getvalue()


@pytest.mark.parametrize("path,service", [
    pytest.param("/indicators/import", "ledger", id="indicator-import"),
    pytest.param("/registry/poor-population/import", "payments", id="registry-import"),
])
def test_a_workbook_that_names_a_far_cell_is_refused_and_the_service_goes_on(stack, path, service):
    bomb = far_cell_workbook()
    assert len(bomb) < 10_000
    with stack.client() as c:
        r = c.post(path, headers=stack.admin_headers(), files={"file": ("指标.xlsx", bomb, XLSX)})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["file"]
    assert httpx.get(f"{stack.processes.url(service)}/readyz", timeout=10).status_code == 200


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
