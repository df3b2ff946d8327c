"""The library of regulations and notices (第十七条): what a filed document is tagged with, who it is copied to
(抄送), and who reads it for an office. No I/O.

相关处(室)制定的扶贫资金预算管理制度、资金管理办法、下达的预算指标文件等，应分别抄送局脱贫办和国库处: every document
filed is copied to both offices, and each office marks it read (已阅) once, by whichever of its people reads it.
"""

import re
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from backbone.errors import Forbidden, fault
from backbone.identity import Principal
from contracts.reference import check_function_code

# 抄送: the poverty-alleviation office and the treasury division, each by the role its people hold.
COPIED_TO = ("poverty_office", "treasury")
RULE_NUMBER = re.compile(r"^[A-Z]{2}-\d{3}$")


def document_id_for(sha256: str) -> str:
    """A library document is named by its bytes: the same file filed twice is one document."""
    return str(uuid5(NAMESPACE_URL, f"fundwatch:library:{sha256}"))


def tag_faults(fund_codes: list[str], rules: list[str]) -> list[dict[str, Any]]:
    """Faults of a document's tags, each by its place: fund codes are 支出功能分类科目 codes, rules their numbers."""
    faults = [fault(f"fund_codes[{n}]", problem) for n, code in enumerate(fund_codes)
              if (problem := check_function_code(code))]
    faults += [fault(f"rules[{n}]", "a rule number such as ZC-001") for n, number in enumerate(rules)
               if not RULE_NUMBER.match(number)]
    return faults


def distinct(values: list[str]) -> list[str]:
    """The values in their order, each once, blanks left out."""
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def reading_office(principal: Principal) -> str:
    """The office (of those copied to) the caller reads for; someone of neither office is refused."""
    office = next((o for o in COPIED_TO if principal.has_any(o)), None)
    if office is None:
        raise Forbidden("documents are copied to 局脱贫办 and 国库处: only their people mark them read")
    return office
