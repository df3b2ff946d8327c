"""Reconciliation of the indicators the province issued with those the ledger registered (第二十六条(一)): matched
by document number (文件号), then by amount. Pure: no I/O."""

from decimal import Decimal
from typing import Literal
from uuid import NAMESPACE_URL, uuid5

Outcome = Literal["matched", "mismatched"]


def issue_id_for(doc_no: str) -> str:
    """One issued indicator per document number, however often the province names it."""
    return str(uuid5(NAMESPACE_URL, f"fundwatch:issued-indicator:{doc_no}"))


def outcome_of(issued: Decimal, registered: Decimal) -> Outcome:
    """Whether what the city registered under a document is what the document issued."""
    return "matched" if issued == registered else "mismatched"


def news(status: str, registered_before: Decimal | None, outcome: Outcome, registered: Decimal) -> bool:
    """Whether a reconciliation says something new: a first registration, another outcome, or another amount
    registered (a mismatch by another sum is a new mismatch to name)."""
    return status != outcome or registered_before != registered
