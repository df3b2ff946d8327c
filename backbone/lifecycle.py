"""The one shape of every lifecycle (alerts, permission applications, exports, performance filings, rule
proposals): a transition table of (state, step) → next state, a pure decision that consults it, and one error
for a step the table does not have where the thing stands.

Each lifecycle keeps its own table, states and steps beside its domain; this module is only what they share.
"""

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from backbone.errors import DomainError

S = TypeVar("S")
T = TypeVar("T", bound=Enum)


class StepOutOfTurn(DomainError):
    """The step does not apply to the thing where it stands (409): its answer names where that is and the
    steps that would apply."""

    status = 409
    type_name = "illegal-transition"
    title = "Not possible at this step"


def steps_from(table: Mapping[tuple[S, T], object], state: S) -> list[T]:
    """The steps the table allows from `state`, in its order."""
    return [step for (at, step) in table if at == state]


def next_state(table: Mapping[tuple[S, T], S], state: S, step: T, *, what: str, where: str) -> S:
    """Where `step` takes a thing that stands at `state`, or StepOutOfTurn naming `what` (e.g. "export
    e-12") and `where` it stands (e.g. "requested")."""
    target = table.get((state, step))
    if target is None:
        allowed = [s.value for s in steps_from(table, state)]
        raise StepOutOfTurn(f"{what} is {where}: it cannot take the step {step.value}"
                            + (f" (possible now: {', '.join(allowed)})" if allowed else " (no step is possible now)"),
                            status_now=where, allowed=allowed)
    return target
