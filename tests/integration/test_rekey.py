"""Key rotation: personal data under an old key is encrypted again under the current one, batch by batch,
and still reads the same; a second run has nothing to do."""

import os
from uuid import uuid4

import pytest
from sqlalchemy import Column, MetaData, Table, Text, select

from backbone.pii import PersonalData
from backbone.rekey import rekey

pytestmark = pytest.mark.integration
OLD, NEW = os.urandom(32), os.urandom(32)
INDEX = os.urandom(32)


async def test_everything_under_an_old_key_moves_to_the_current_one(engine):
    schema = f"t_{uuid4().hex[:10]}"
    table = Table("secrets", MetaData(schema=schema), Column("id", Text, primary_key=True), Column("a", Text),
                  Column("b", Text))
    before = PersonalData(keys={"k1": OLD}, current="k1", index_key=INDEX)
    after = PersonalData(keys={"k1": OLD, "k2": NEW}, current="k2", index_key=INDEX)
    numbers = {f"p{n}": f"22010219900307{n:03d}X" for n in range(25)}
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        await conn.run_sync(table.metadata.create_all)
        await conn.execute(table.insert(), [
            {"id": key, "a": before.encrypt(number), "b": None if n % 3 else after.encrypt(number)}
            for n, (key, number) in enumerate(numbers.items())])
    try:
        changed = await rekey(engine, table, table.c.id, [table.c.a, table.c.b], after, batch=7)
        assert changed == 25
        async with engine.connect() as conn:
            rows = (await conn.execute(select(table))).all()
        assert all(r.a.startswith("k2:") and (r.b is None or r.b.startswith("k2:")) for r in rows)
        assert {r.id: after.decrypt(r.a) for r in rows} == numbers, "the same numbers, under the new key"
        assert await rekey(engine, table, table.c.id, [table.c.a, table.c.b], after) == 0
    finally:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
