"""An unexpected error answers 500 as problem details and closes its connection in the open: a client that keeps
connections alive (the gateway) sends its next request on a new one, never on the one uvicorn is closing."""

import asyncio
import socket

import httpx
import uvicorn
from fastapi import FastAPI

from backbone.errors import install_problem_handlers


def failing_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/import")
    async def broken() -> None:
        raise RuntimeError("the database went away")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def test_after_an_unexpected_error_the_next_request_on_a_kept_alive_client_is_answered():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(failing_app(), host="127.0.0.1", port=port, log_level="critical",
                                           lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(3):
                failed = await client.post("/import", content=b"rows")
                assert failed.status_code == 500
                assert failed.json()["type"].endswith("/internal-error")
                assert failed.headers["connection"] == "close"
                assert (await client.get("/healthz")).json() == {"status": "ok"}
    finally:
        server.should_exit = True
        await serving
