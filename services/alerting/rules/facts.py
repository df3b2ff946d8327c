"""The facts a rule may show with its alert (`values`) and write into its explanation (`summary`): 规则可引用的事实.

An alert's explanation is read by everyone who may see the alert, and a backtest's samples by whoever runs it,
so a rule shows only facts named here. Left out on purpose: a payee's blind index (it links one person across
every registry and payment), the submitted record's digest, and the registries' raw answer (shown through
`payee.*` instead). Conditions (`when`) may still test any fact: what they test is not shown.
"""

from collections.abc import Iterable

from pydantic import BaseModel

from contracts.alerting import AlertRaised, AlertTransitioned, MonthClosed, RuleCycleOpened, RuleProposalsSubmitted
from contracts.ledger import IndicatorAllocated, IndicatorDocumentAttached, IndicatorRegistered
from contracts.payments import PaymentRecorded
from contracts.performance import FilingReviewed, GoalsSet, ProgressReported, SelfEvaluated
from contracts.sync import IndicatorIssued, IssuedIndicatorReconciled, MonthlyReportStepped

NOT_SHOWN = frozenset({"payee_id_index", "content_hash", "payee_registry"})
# An indicator's money as alerting keeps it, before a payment (`available_*`, `overdrawn`) or at a month's end.
_INDICATOR_MONEY = {"known", "amount", "allocated", "paid", "paid_before", "refunded", "available_before",
                    "available_after", "overdrawn", "own", "spent", "payment_progress", "allocation_progress",
                    "fiscal_year", "org_unit", "owner_division", "parent_id", "suspended"}
# The events a deadline rule starts its clock on or waits for: their fields are `event.*`.
_CLOCK_EVENTS = (IndicatorRegistered, IndicatorAllocated, IndicatorDocumentAttached, GoalsSet, ProgressReported,
                 FilingReviewed, SelfEvaluated, AlertRaised, AlertTransitioned, RuleCycleOpened, RuleProposalsSubmitted, MonthClosed,
                 MonthlyReportStepped, IndicatorIssued, IssuedIndicatorReconciled, PaymentRecorded)


def _fields(models: Iterable[type[BaseModel]]) -> frozenset[str]:
    return frozenset(name for model in models for name in model.model_fields) - NOT_SHOWN


SHOWN: dict[str, frozenset[str]] = {
    "payment": _fields([PaymentRecorded]),
    "payee": frozenset({"checked", "on_poor_list", "poor_status", "public_employee", "employer", "name_differs",
                        "registered_name"}),
    "indicator": _fields([IndicatorRegistered]) | _INDICATOR_MONEY,
    "district": frozenset({"name", "org_unit", "amount", "allocated", "paid", "refunded", "own", "spent",
                           "payment_progress", "allocation_progress"}),
    "window": frozenset({"count", "total", "period"}),
    "report": _fields([ProgressReported]),
    "month": _fields([MonthClosed]),
    "progress": frozenset({"time"}),
    "event": _fields(_CLOCK_EVENTS),
    "issued": _fields([IssuedIndicatorReconciled]),
}
# Facts of a deadline's clock, not of a record.
CLOCK_FACTS = frozenset({"counts_from", "due_day", "occurred_on", "event_type"})


def undocumented(path: str, parameters: Iterable[str]) -> str | None:
    """Why a rule may not show the fact at `path`, or None when it may."""
    head, _, rest = path.partition(".")
    if not rest:
        return None if head in CLOCK_FACTS else f"{path!r} is not a fact a rule shows"
    if head == "params":
        return None if rest in set(parameters) else f"{path!r} names no parameter of the rule"
    if head not in SHOWN:
        return f"{path!r} is not a fact a rule shows: facts are {', '.join(sorted(SHOWN))}, params and " \
               f"{', '.join(sorted(CLOCK_FACTS))}"
    if rest not in SHOWN[head]:
        return f"{path!r} is not a fact a rule shows"
    return None
