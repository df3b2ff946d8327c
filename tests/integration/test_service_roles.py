"""Each service's database role reads and writes its own schema and nothing else (deploy/k8s gives each
service's pods their own role): a service taken over cannot read the payments' encrypted ID numbers or the
gateway's accounts, nor change its own tables' shape."""

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from backbone.migrations import grant_service_roles, service_role

pytestmark = pytest.mark.integration


async def test_a_service_role_reaches_its_own_schema_only(servers):
    owner = await asyncpg.connect(servers.database_url)
    try:
        for service in ("ledger", "payments"):
            await owner.execute(f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{service_role(service)}') THEN
                    CREATE ROLE {service_role(service)} LOGIN PASSWORD 'role-test';
                END IF; END $$""")
    finally:
        await owner.close()
    granted = await grant_service_roles(servers.database_url)
    assert {"fundwatch_ledger", "fundwatch_payments"} <= set(granted)
    url = make_url(servers.database_url).set(drivername="postgresql", username="fundwatch_ledger",
                                             password="role-test")
    ledger = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        assert await ledger.fetchval("SELECT count(*) FROM ledger.events") >= 0
        await ledger.execute("INSERT INTO ledger.processed_events (event_id, consumer) "
                             "VALUES (gen_random_uuid(), 'role-test')")
        await ledger.execute("DELETE FROM ledger.processed_events WHERE consumer = 'role-test'")
        for statement in ("SELECT count(*) FROM payments.events", "SELECT count(*) FROM gateway.users"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await ledger.fetchval(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await ledger.execute("CREATE TABLE ledger.smuggled (id int)")
        # A table of its session's own is allowed: the past ledger (as_of) is built in one for each read.
        await ledger.execute("CREATE TEMPORARY TABLE ledger_past (id int) ON COMMIT DROP")
    finally:
        await ledger.close()
