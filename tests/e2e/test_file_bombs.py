"""A workbook that names a cell far away (XFD1048576) makes its reader allocate the whole rectangle up to it:
5 KB in, hundreds of GB asked for. One that says so in its `<dimension>` is refused before it is read; one that
hides it is read in a worker with a memory limit. Either is a 422 on `file`, and the service that received it
goes on answering."""

import io
import re
import zipfile

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


def undeclared(workbook: bytes) -> bytes:
    """The same workbook without the `<dimension>` that tells how far its cells reach."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in source.infolist():
            part = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                part = re.sub(rb"<dimension [^>]*/>", b"", part)
            copy.writestr(item, part)
    return out.getvalue()


@pytest.mark.parametrize("path,service", [
    pytest.param("/indicators/import", "ledger", id="indicator-import"),
    pytest.param("/registry/poor-population/import", "payments", id="registry-import"),
])
@pytest.mark.parametrize("bomb,says", [
    pytest.param(far_cell_workbook(), "16384 columns", id="declared"),
    pytest.param(undeclared(far_cell_workbook()), "MiB", id="hidden"),
])
def test_a_workbook_that_names_a_far_cell_is_refused_and_the_service_goes_on(stack, path, service, bomb, says):
    assert len(bomb) < 10_000
    with stack.client() as c:
        r = c.post(path, headers=stack.admin_headers(), files={"file": ("指标.xlsx", bomb, XLSX)})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["file"]
    assert says in r.json()["detail"], r.json()
    assert httpx.get(f"{stack.processes.url(service)}/readyz", timeout=10).status_code == 200


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
