"""Alerts and the alerting clocks as a test sees them: an alert of a rule on a subject (through the API), and
time let pass for a clock (alerting.watches, behind the API: a deadline test cannot wait a month), on the
suite's calendar clock, which the services share."""

from datetime import timedelta

import httpx

from backbone.clock import clock
from tests.e2e import db


def alert_of(alerting: str, headers: dict[str, str], rule: str, subject_id: str) -> dict | None:
    """The alert of `rule` on a subject, as the caller sees it at `alerting` (an /api/v1 base URL)."""
    items = httpx.get(f"{alerting}/alerts", headers=headers, params={"rule": rule, "limit": 1000}).json()["items"]
    return next((a for a in items if a["subject"]["id"] == subject_id), None)


async def move(database_url: str, column: str, subject_ids: str | list[str], rule_id: str | None = None,
               state: str | None = None) -> int:
    """Let `column` (bell_at or due_at) pass for the clocks of these subjects (of a rule, in a state); how many."""
    ids = [subject_ids] if isinstance(subject_ids, str) else subject_ids
    return await db.execute(
        database_url, f"UPDATE alerting.watches SET {column} = $4 WHERE subject_id = ANY($1)"
                      " AND ($2::text IS NULL OR rule_id = $2) AND ($3::text IS NULL OR state = $3)",
        ids, rule_id, state, clock().now() - timedelta(seconds=1))


async def of(database_url: str, subject_id: str, rule_id: str) -> list[dict]:
    """A subject's clocks of a rule: state, bell_at, and whether the bell and the due time are still ahead."""
    return [dict(r) for r in await db.fetch(
        database_url, "SELECT state, bell_at, bell_at > $3 AS bell_ahead, due_at > $3 AS due_ahead"
                      " FROM alerting.watches WHERE subject_id = $1 AND rule_id = $2", subject_id, rule_id, clock().now())]
