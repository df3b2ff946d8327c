"""The registries of people (外部信息) as files and updates arrive: 建档立卡贫困人口 and 财政供养人员.

Reading, validation and protection of each row, no I/O. A file is read as a stream of parts of
`PART_SIZE` entries, so that millions of rows never sit in memory at once; a bad row is reported
(line, column, message) and the good rows go on. ID numbers leave this module only as a blind
index, a masked form, and a ciphertext for the vault.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from backbone.pii import PersonalData, check_id_number, mask_id_number
from backbone.spreadsheets import Cell, first_filled, Sheet, blank, header_key, normal, read_sheets, text
from contracts.registry import PART_SIZE
from contracts.values import ORG_UNITS, PovertyStatus, Registry

MAX_ERRORS_KEPT = 100_000
EARLIEST_YEAR = 2013  # 建档立卡 began in 2014; earlier years are typing errors

# Header as real exports write it → field; the first header of a field is the one templates use. The table of
# docs/domain.md ("Registry files") lists them: keep the two together.
COMMON_HEADERS: dict[str, str] = {
    "姓名": "name", "人员姓名": "name", "成员姓名": "name",
    "身份证号": "id_number", "身份证号码": "id_number", "证件号码": "id_number", "公民身份号码": "id_number",
    "身份证件号码": "id_number", "证件号": "id_number",
}
HEADERS: dict[Registry, dict[str, str]] = {
    Registry.POOR_POPULATION: COMMON_HEADERS | {
        "区划": "org_unit", "县区": "org_unit", "区县": "org_unit", "所属区县": "org_unit", "行政区划": "org_unit",
        "县（市、区）": "org_unit", "县（市区）": "org_unit",
        "乡镇": "town", "乡镇（街道）": "town", "乡（镇）": "town", "行政村": "village", "村": "village",
        "村（社区）": "village",
        "户编号": "household", "户码": "household",
        "贫困状态": "status", "贫困户状态": "status", "脱贫状态": "status", "脱贫属性": "status", "户类型": "status",
        "状态": "status", "年度": "year", "识别年度": "year", "识别年份": "year",
    },
    Registry.PUBLIC_EMPLOYEES: COMMON_HEADERS | {
        "工作单位": "employer", "单位名称": "employer", "单位": "employer", "工作单位名称": "employer",
        "所在单位": "employer", "区划": "org_unit", "行政区划": "org_unit",
    },
}
REQUIRED: dict[Registry, tuple[str, ...]] = {
    Registry.POOR_POPULATION: ("id_number", "name", "org_unit", "status", "year"),
    Registry.PUBLIC_EMPLOYEES: ("id_number", "name", "employer"),
}
# Values of the status columns as the exports write them: 脱贫属性 and 户类型 name the household's kind (脱贫户,
# 脱贫不稳定户 …); the three kinds of 防止返贫监测对象 are monitored.
STATUS_LABELS: dict[str, PovertyStatus] = {
    "未脱贫": PovertyStatus.NOT_LIFTED, "未脱贫户": PovertyStatus.NOT_LIFTED, "贫困户": PovertyStatus.NOT_LIFTED,
    "建档立卡贫困户": PovertyStatus.NOT_LIFTED,
    "已脱贫": PovertyStatus.LIFTED, "脱贫": PovertyStatus.LIFTED, "脱贫户": PovertyStatus.LIFTED,
    "已脱贫户": PovertyStatus.LIFTED, "稳定脱贫户": PovertyStatus.LIFTED,
    "返贫监测": PovertyStatus.MONITORED, "监测对象": PovertyStatus.MONITORED, "防返贫监测": PovertyStatus.MONITORED,
    "防止返贫监测对象": PovertyStatus.MONITORED, "监测户": PovertyStatus.MONITORED,
    "脱贫不稳定户": PovertyStatus.MONITORED, "边缘易致贫户": PovertyStatus.MONITORED,
    "突发严重困难户": PovertyStatus.MONITORED,
} | {status.value: status for status in PovertyStatus}
ORG_UNIT_CODES: dict[str, str] = {code: code for code in ORG_UNITS} | {name: code for code, name in ORG_UNITS.items()}
MAX_TEXT = 200


def column_of(registry: Registry, name: str) -> str:
    """The header a template writes for a field."""
    return next(h for h, n in HEADERS[registry].items() if n == name)


@dataclass
class ImportTally:
    """What reading a file found: rows, accepted, and the faults of the others (the first 100,000)."""

    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    sheet: str | None = None  # named in each fault when a workbook has several worksheets

    failed: bool = False  # the file as a whole: unreadable, empty, or a header without a required column

    def refuse(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            fault = {"row": row, "column": column, "message": message}
            self.errors.append(fault | {"sheet": self.sheet} if self.sheet else fault)

    def fail(self, column: str | None, message: str) -> None:
        self.failed = True
        self.refuse(None, column, message)


@dataclass
class Part:
    """Up to PART_SIZE entries in event form, and the vault rows (blind index, ciphertext) of their numbers."""

    entries: list[dict[str, Any]]
    vault: list[tuple[str, str]]


class RowChecker:
    """Turns one row of cells into an entry of a registry, or into errors; remembers who it has seen."""

    def __init__(self, registry: Registry, personal: PersonalData, today: date) -> None:
        self.registry = registry
        self.personal = personal
        self.today = today
        self.seen: dict[str, int] = {}
        self.headers: dict[str, str] = {}

    def columns(self, line: int, header: list[Cell], tally: ImportTally) -> dict[str, int] | None:
        """Field → position of a header row, or None after reporting what is wrong with it."""
        known = {header_key(h): name for h, name in HEADERS[self.registry].items()}
        positions: dict[str, int] = {}
        ok = True
        for position, cell in enumerate(header):
            if blank(cell):
                continue
            name = known.get(header_key(text(cell)))
            if name is None:
                continue  # the province's files carry more columns (家庭人口, 联系电话 …) than matching needs
            if name in positions:
                tally.refuse(line, text(cell), f"the same column as {text(header[positions[name]])!r}")
                ok = False
            positions[name] = position
            self.headers[name] = text(cell)
        for name in REQUIRED[self.registry]:
            if name not in positions:
                tally.refuse(line, column_of(self.registry, name), "required column is missing; also read as: "
                             + "、".join(h for h, n in HEADERS[self.registry].items() if n == name))
                ok = False
        return positions if ok else None

    def check(self, line: int, cells: list[Cell], positions: dict[str, int],
              tally: ImportTally) -> tuple[dict[str, Any], str] | None:
        """The row's entry and its checked ID number (encrypted a part at a time), or None after its faults."""
        values = {name: (text(cells[p]) if p < len(cells) and not blank(cells[p]) else "")
                  for name, p in positions.items()}
        entry, problems = self.entry(values, REQUIRED[self.registry])
        if not problems:
            earlier = self.seen.setdefault(entry["id_index"], line)
            if earlier != line:
                problems["id_number"] = f"the same person as line {earlier}"
        if problems:
            for name, message in problems.items():
                tally.refuse(line, self.headers.get(name, column_of(self.registry, name)), message)
            return None
        return entry, values["id_number"]

    def entry(self, values: dict[str, str], required: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
        """An entry in event form from the text of its fields, and the problem of each faulty field."""
        problems: dict[str, str] = {}
        for name in required:
            if not values.get(name):
                problems[name] = "a value is required"
        for name, value in values.items():
            if len(value) > MAX_TEXT:
                problems[name] = f"at most {MAX_TEXT} characters"
        number = values.get("id_number", "")
        if number and "id_number" not in problems:
            try:
                values["id_number"] = number = check_id_number(normal(number), self.today)
            except ValueError as exc:
                problems["id_number"] = str(exc)
        entry: dict[str, Any] = {"name": values.get("name", "")}
        if not problems.get("id_number") and number:
            entry["id_index"] = self.personal.blind_index(number)
            entry["id_masked"] = mask_id_number(number)
        org_unit = values.get("org_unit")
        if org_unit:
            entry["org_unit"] = ORG_UNIT_CODES.get(normal(org_unit))
            if entry["org_unit"] is None:
                problems["org_unit"] = f"unknown org unit {org_unit!r}"
        elif self.registry is Registry.PUBLIC_EMPLOYEES:
            entry["org_unit"] = None
        if self.registry is Registry.POOR_POPULATION:
            for name in ("household", "town", "village"):
                entry[name] = values.get(name) or None
            status = values.get("status")
            if status:
                entry["status"] = STATUS_LABELS.get(status)
                if entry["status"] is None:
                    problems["status"] = f"unknown status {status!r}: expected 未脱贫、已脱贫 or 返贫监测"
            year = normal(values.get("year", "")).removesuffix("年")
            if year:
                if not (year.isascii() and year.isdigit() and EARLIEST_YEAR <= int(year) <= self.today.year + 1):
                    problems["year"] = f"expected a year from {EARLIEST_YEAR} to {self.today.year + 1}"
                else:
                    entry["year"] = int(year)
        else:
            entry["employer"] = values.get("employer", "")
        return entry, problems


def read_registry_file(data: bytes, filename: str, registry: Registry, personal: PersonalData,
                       today: date, tally: ImportTally) -> Iterator[Part]:
    """The parts of a registry file, CSV or XLSX (every visible worksheet with a header row of its own).

    Every header is checked before the first row: a file that cannot be read, is empty, or lacks a required
    column fails as a whole (`tally.failed`) and yields nothing. Row faults go into `tally` as they are met.
    """
    try:
        sheets = read_sheets(data, filename)
    except ValueError as exc:
        tally.fail(None, str(exc))
        return
    checker = RowChecker(registry, personal, today)
    headed = _headers(sheets, checker, tally)
    if tally.failed:
        return
    entries: list[dict[str, Any]] = []
    numbers: list[str] = []
    for sheet, positions, headers in headed:
        tally.sheet = sheet.name if len(sheets) > 1 else None
        checker.headers = headers
        for entry, number in _sheet_entries(sheet, checker, positions, tally):
            entries.append(entry)
            numbers.append(number)
            if len(entries) == PART_SIZE:
                yield _part(entries, numbers, personal)
                entries, numbers = [], []
    if entries:
        yield _part(entries, numbers, personal)


def _part(entries: list[dict[str, Any]], numbers: list[str], personal: PersonalData) -> Part:
    return Part(entries, list(zip((e["id_index"] for e in entries), personal.encrypt_many(numbers), strict=True)))


def _headers(sheets: list[Sheet], checker: RowChecker,
             tally: ImportTally) -> list[tuple[Sheet, dict[str, int], dict[str, str]]]:
    """Each sheet with data, its columns and their headers as written; faults of a sheet fail the file."""
    several = len(sheets) > 1
    headed = []
    for sheet in sheets:
        tally.sheet = sheet.name if several else None
        checker.headers = {}
        try:
            first = first_filled(sheet.rows)
        except ValueError as exc:
            tally.fail(None, str(exc))
            continue
        if first is None:
            continue  # a workbook's empty worksheet; an empty file is judged below
        positions = checker.columns(*first, tally)
        if positions is None:
            tally.failed = True
        else:
            headed.append((sheet, positions, checker.headers))
    if not headed and not tally.failed:
        tally.sheet = None
        tally.fail(None, "the file is empty")
    return headed


def _sheet_entries(sheet: Sheet, checker: RowChecker, positions: dict[str, int],
                   tally: ImportTally) -> Iterator[tuple[dict[str, Any], str]]:
    try:
        for line, cells in sheet.rows:
            if all(blank(cell) for cell in cells):
                continue  # Excel keeps formatted empty rows below the data
            tally.rows += 1
            checked = checker.check(line, cells, positions, tally)
            if checked is None:
                tally.rejected += 1
            else:
                tally.accepted += 1
                yield checked
    except ValueError as exc:
        tally.refuse(None, None, str(exc))


@dataclass
class UpdateRecord:
    """One record of an update batch, its ID number checked; the rest is checked against the registry."""

    index: int
    id_number: str
    values: dict[str, str]


@dataclass
class CheckedUpdate:
    persons: list[UpdateRecord] = field(default_factory=list)
    removals: list[UpdateRecord] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def check_update(registry: Registry, body: dict[str, Any], today: date) -> CheckedUpdate:
    """The records of an update batch (`persons` added or changed, `removals`), each judged on its own."""
    checked = CheckedUpdate()
    known = {"id_number"} | set(HEADERS[registry].values())
    for key, into in (("persons", checked.persons), ("removals", checked.removals)):
        allowed = known if key == "persons" else {"id_number", "reason"}
        for index, record in enumerate(body.get(key) or []):
            where = f"{key}[{index}]"
            if not isinstance(record, dict):
                checked.rejected.append(_rejected(index, [{"field": where, "message": "an object is required"}], key))
                continue
            faults = [{"field": f"{where}.{name}", "message": "unknown field"} for name in record if name not in allowed]
            faults += [{"field": f"{where}.{name}", "message": "a text or number is required"}
                       for name, value in record.items() if name in allowed and not isinstance(value, str | int)]
            number = record.get("id_number")
            try:
                if not isinstance(number, str):
                    raise ValueError("a value is required")
                number = check_id_number(normal(number), today)
            except ValueError as exc:
                faults.append({"field": f"{where}.id_number", "message": str(exc)})
            if faults:
                checked.rejected.append(_rejected(index, faults, key))
                continue
            values = {name: str(value).strip() for name, value in record.items() if name != "id_number"}
            into.append(UpdateRecord(index, number, values))
    return checked


def _rejected(index: int, errors: list[dict[str, str]], key: str) -> dict[str, Any]:
    return {"index": index, "list": key, "errors": errors}


def entry_values(registry: Registry, entry: dict[str, Any]) -> dict[str, str]:
    """The text of each field of a stored entry, as `RowChecker.entry` reads fields."""
    names = set(HEADERS[registry].values()) - {"id_number"}
    return {name: str(entry[name]) for name in names if entry.get(name) is not None}
