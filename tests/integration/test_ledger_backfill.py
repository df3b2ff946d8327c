"""Migration ledger_0007 fills what the ledger now keeps from the rows already there: a parent's allocated, and each
indicator's spending at the end of every Beijing day it changed."""

import asyncio
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from alembic import command

from backbone.db import asyncpg_dsn
from backbone.migrations import _config
from deploy.local.servers import create_database

pytestmark = pytest.mark.integration

ROWS = """
    INSERT INTO ledger.indicators (indicator_id, doc_no, fund_name, fund_nature, function_code, economic_code,
        budget_project, amount, fiscal_year, level, registered_on, owner_division, org_unit, poverty_tag, parent_id,
        version, registered_by, registered_at)
    SELECT id, 'doc', 'fund', 'general_budget', '2130504', '50901', 'p', amount, 2026, 'central', '2026-11-10',
           'agriculture', '220102', true, parent, 1, 'admin', '2026-11-10T09:00:00+08:00'
    FROM (VALUES ('root', 1000.00, NULL), ('a', 600.00, 'root'), ('b', 300.00, 'root'), ('a1', 50.00, 'a'))
         AS v (id, amount, parent);
    INSERT INTO ledger.indicator_payments (payment_id, indicator_id, amount, paid_at, recorded_at) VALUES
        ('p1', 'a', 100.00, now(), '2026-11-10T23:59:59+08:00'),
        ('p2', 'a', 40.00, now(), '2026-11-11T00:00:00+08:00'),
        ('p3', 'a', 7.00, now(), '2026-11-13T10:00:00+08:00'),
        ('p4', 'b', 5.00, now(), '2026-11-11T08:00:00+08:00');
    INSERT INTO ledger.indicator_refunds (refund_id, indicator_id, amount, recorded_at) VALUES
        ('r1', 'a', 20.00, '2026-11-11T12:00:00+08:00');
"""


async def _run(url: str, script: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(script)
    finally:
        await conn.close()


async def _fetch(url: str, query: str) -> list[tuple]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()


def test_the_kept_sums_are_filled_from_the_rows_already_there(servers):
    url = asyncio.run(create_database(servers.database_url, "fundwatch_ledger_backfill", fresh=True))
    command.upgrade(_config("ledger", url), "ledger_0006")
    asyncio.run(_run(url, ROWS))
    command.upgrade(_config("ledger", url), "heads")

    allocated = asyncio.run(_fetch(url, "SELECT indicator_id, allocated FROM ledger.indicators ORDER BY 1"))
    assert allocated == [("a", Decimal("50.00")), ("a1", Decimal("0.00")), ("b", Decimal("0.00")),
                         ("root", Decimal("900.00"))]
    days = asyncio.run(_fetch(url, "SELECT indicator_id, day, paid, refunded FROM ledger.indicator_spending_days"
                                   " ORDER BY 1, 2"))
    # Running sums by Beijing day: the last second of the 10th and the first of the 11th fall on either side.
    assert days == [("a", date(2026, 11, 10), Decimal("100.00"), Decimal("0.00")),
                    ("a", date(2026, 11, 11), Decimal("140.00"), Decimal("20.00")),
                    ("a", date(2026, 11, 13), Decimal("147.00"), Decimal("20.00")),
                    ("b", date(2026, 11, 11), Decimal("5.00"), Decimal("0.00"))]
