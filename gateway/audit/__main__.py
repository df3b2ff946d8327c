"""`python -m gateway.audit verify`: check the audit trail's hash chain in the database of the settings;
exit status 0 when it holds, 1 when it is broken. `python -m gateway.audit prune --keep-days N`: remove the
entries older than N days (N at least 180), leaving an entry that records it."""

import argparse
import asyncio
import getpass
import sys
from datetime import timedelta

from backbone.clock import clock
from backbone.db import create_engine
from backbone.settings import get_settings
from gateway.audit.chain import RETENTION, Verdict
from gateway.audit.trail import prune, verify_stored


async def verify() -> Verdict:
    engine = create_engine(get_settings().database_url, pool_size=1)
    try:
        return await verify_stored(engine)
    finally:
        await engine.dispose()


async def prune_before(keep_days: int) -> int:
    engine = create_engine(get_settings().database_url, pool_size=1)
    try:
        return await prune(engine, before=clock().now() - timedelta(days=keep_days),
                           actor=f"system:audit-prune ({getpass.getuser()})")
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.audit", description="The gateway's audit trail.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("verify", help="recompute every entry's hash and link, naming the first broken entry")
    pruning = commands.add_parser("prune", help="remove entries past the retention period, recording it")
    pruning.add_argument("--keep-days", type=int, required=True, help=f"at least {RETENTION.days}")
    args = parser.parse_args(argv)
    if args.command == "prune":
        if args.keep_days < RETENTION.days:
            parser.error(f"--keep-days: entries are kept at least {RETENTION.days} days")
        print(f"pruned {asyncio.run(prune_before(args.keep_days))} entries")
        return 0
    verdict = asyncio.run(verify())
    print(verdict.message())
    if verdict.intact:
        # Kept outside the database, the head shows a chain cut off at its end or rewritten whole.
        print(f"head: {verdict.head}")
    return 0 if verdict.intact else 1


if __name__ == "__main__":
    sys.exit(main())
