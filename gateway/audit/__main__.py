"""`python -m gateway.audit verify`: check the audit trail's hash chain in the database of the settings;
exit status 0 when it holds, 1 when it is broken."""

import argparse
import asyncio
import sys

from backbone.db import create_engine
from backbone.settings import get_settings
from gateway.audit.chain import Verdict
from gateway.audit.trail import verify_stored


async def verify() -> Verdict:
    engine = create_engine(get_settings().database_url, pool_size=1)
    try:
        return await verify_stored(engine)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.audit", description="The gateway's audit trail.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("verify", help="recompute every entry's hash and link, naming the first broken entry")
    parser.parse_args(argv)
    verdict = asyncio.run(verify())
    print(verdict.message())
    if verdict.intact:
        # Kept outside the database, the head shows a chain cut off at its end or rewritten whole.
        print(f"head: {verdict.head}")
    return 0 if verdict.intact else 1


if __name__ == "__main__":
    sys.exit(main())
