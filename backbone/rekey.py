"""Key rotation of personal data: everything encrypted under an older key, encrypted again under the
current one (FUNDWATCH_PII_CURRENT_KEY), in batches that commit one by one, so that a run can be stopped
and started again and writers go on meanwhile (rows are taken with SKIP LOCKED). Once no ciphertext names
an old key, that key can leave FUNDWATCH_PII_KEYS.

Each service runs it on its own tables (`python -m services.payments.rekey`, `python -m gateway.rekey`).
"""

import asyncio
from collections.abc import Sequence

from sqlalchemy import Column, Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from backbone.db import create_engine
from backbone.pii import PersonalData
from backbone.settings import get_settings

BATCH = 1000


async def rekey(engine: AsyncEngine, table: Table, key: Column, ciphers: Sequence[Column], personal: PersonalData,
                batch: int = BATCH) -> int:
    """Encrypt again, under the current key, every cipher column of `table` under another; the rows changed."""
    current = f"{personal.current}:"
    stale = or_(*(and_(c.is_not(None), ~c.startswith(current)) for c in ciphers))
    changed = 0
    while True:
        async with engine.begin() as conn:
            rows = (await conn.execute(select(key, *ciphers).where(stale).limit(batch)
                                       .with_for_update(skip_locked=True))).all()
            if not rows:
                return changed
            renewed = [{"b_key": r[0], **{f"b_{c.name}": _renew(v, current, personal)
                                          for c, v in zip(ciphers, r[1:], strict=True)}} for r in rows]
            await conn.execute(update(table).where(key == bindparam("b_key"))
                               .values({c.name: bindparam(f"b_{c.name}") for c in ciphers}), renewed)
        changed += len(rows)


def _renew(token: str | None, current: str, personal: PersonalData) -> str | None:
    if token is None or token.startswith(current):
        return token
    return personal.encrypt(personal.decrypt(token))


def run(targets: Sequence[tuple[Table, Column, Sequence[Column]]]) -> None:
    """The command line of a service's rekey module: each table, and how many rows it renewed."""
    async def main() -> None:
        settings = get_settings()
        personal = PersonalData.from_settings(settings)
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            for table, key, ciphers in targets:
                changed = await rekey(engine, table, key, ciphers, personal)
                print(f"{table.fullname}: {changed} rows encrypted again under key {personal.current}")
        finally:
            await engine.dispose()
    asyncio.run(main())
