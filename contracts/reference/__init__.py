"""Budget classification code tables a budget indicator (预算指标) is validated against.

`function_codes.json` holds 支出功能分类科目 (类 3 digits, 款 5, 项 7) and
`economic_codes.json` 政府预算支出经济分类科目 (类 3 digits, 款 5). Both are curated subsets.
"""

import json
from functools import cache
from pathlib import Path

_DIR = Path(__file__).parent


@cache
def _codes(table: str) -> dict[str, str]:
    """The code → name mapping of one reference file, read once."""
    return json.loads((_DIR / f"{table}.json").read_text(encoding="utf-8"))["codes"]


def _check(table: str, kind: str, code: object, lengths: tuple[int, ...]) -> str | None:
    """None if `code` is in `table` with all its parents, else a short error message."""
    if not isinstance(code, str) or not code.isascii() or not code.isdigit() or len(code) not in lengths:
        return f"malformed {kind} code {code!r}: expected {' or '.join(map(str, lengths))} digits"
    codes = _codes(table)
    if code not in codes:
        return f"unknown {kind} code {code!r}"
    for parent in (code[:n] for n in lengths if n < len(code)):
        if parent not in codes:
            return f"{kind} code {code!r} has no parent {parent!r} in the table"
    return None


def function_code_name(code: str) -> str | None:
    """The name of a 支出功能分类科目 code, or None if it is not in the table."""
    return _codes("function_codes").get(code)


def economic_code_name(code: str) -> str | None:
    """The name of a 支出经济分类科目 code, or None if it is not in the table."""
    return _codes("economic_codes").get(code)


def check_function_code(code: str) -> str | None:
    """None if `code` is a known 支出功能分类科目 code, else what is wrong with it."""
    return _check("function_codes", "function", code, (3, 5, 7))


def check_economic_code(code: str) -> str | None:
    """None if `code` is a known 支出经济分类科目 code, else what is wrong with it."""
    return _check("economic_codes", "economic", code, (3, 5))
