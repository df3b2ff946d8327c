"""Districts in the yearly cycle (第十五条): each division proposes next year's business requirements 在征求区
(开发区)财政部门意见的基础上, by 10-15. So a district proposes requirements to a division and comments on the
divisions' requirements until that day, and not after: the divisions' proposals are due then. No I/O.
"""

from datetime import date

from backbone.errors import DomainError

PROPOSE_BY = (10, 15)  # 每年10月15日前, for the next fiscal year


class CycleClosed(DomainError):
    """A district's proposal or comment for a fiscal year whose proposals were due already."""

    status = 409
    type_name = "cycle-closed"
    title = "The year's proposals are closed"


def proposals_due(fiscal_year: int) -> date:
    """The last day the divisions propose a fiscal year's requirements and rules, with the districts' views."""
    return date(fiscal_year - 1, *PROPOSE_BY)


def check_open(fiscal_year: int, today: date) -> None:
    """A district's word on a fiscal year's requirements is taken until their due day, that day included."""
    due = proposals_due(fiscal_year)
    if today > due:
        raise CycleClosed(f"the requirements for {fiscal_year} were due by {due.isoformat()} (第十五条); districts "
                          f"now give their views for {next_open_year(today)}", due_on=due.isoformat(),
                          next_open_year=next_open_year(today))


def next_open_year(today: date) -> int:
    """The fiscal year a district can still give its views on."""
    return today.year + 1 if today <= date(today.year, *PROPOSE_BY) else today.year + 2
