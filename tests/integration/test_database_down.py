"""A request that needs a database that cannot be reached is a 503 with Retry-After, never a 500."""

import httpx
import pytest
from fastapi import FastAPI

from backbone.db import create_engine, database_unreachable
from backbone.errors import DATABASE_RETRY_AFTER, install_problem_handlers
from deploy.local.servers import free_port

pytestmark = pytest.mark.integration


def app_on(database_url: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    engine = create_engine(database_url, pool_size=1)

    @app.get("/ledger")
    async def ledger() -> dict[str, int]:
        async with engine.connect() as conn:
            return {"rows": await conn.scalar_one_or_none("select 1")}

    @app.get("/bug")
    async def bug() -> None:
        raise KeyError("a bug is still a 500")

    return app


@pytest.mark.parametrize("url", [
    pytest.param(f"postgresql://postgres@127.0.0.1:{free_port()}/fundwatch", id="nobody-listens"),
    pytest.param("postgresql://postgres@/fundwatch?host=/nonexistent/socket-dir", id="socket-gone"),
])
async def test_an_unreachable_database_is_a_503_that_says_when_to_come_back(url):
    transport = httpx.ASGITransport(app=app_on(url), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://fundwatch") as client:
        down = await client.get("/ledger")
        bug = await client.get("/bug")
    assert down.status_code == 503 and down.headers["retry-after"] == str(DATABASE_RETRY_AFTER)
    assert down.json()["type"].endswith("database-unavailable") and "nothing was changed" in down.json()["detail"]
    assert bug.status_code == 500, "only an unreachable database is a 503"


async def test_a_fault_of_the_request_is_not_taken_for_an_unreachable_database(engine):
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as failed:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("select 1/0")
    assert not database_unreachable(failed.value)
