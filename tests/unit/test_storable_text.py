"""Text PostgreSQL cannot store is refused with the field that carries it."""

import httpx
from fastapi import FastAPI, Request
from pydantic import BaseModel

from backbone.errors import install_problem_handlers
from backbone.storable_text import StorableTextMiddleware, faults_in


def test_nul_characters_and_unpaired_surrogates_are_found_by_field():
    body = {"payments": [{"payee_name": "张三"}, {"payee_name": "李\x00四", "purpose": "ok"}],
            "note": "\ud975x", "fine": ["a", "b"]}
    assert [f["field"] for f in faults_in(body, "body")] == ["body.payments.1.payee_name", "body.note"]


def test_ordinary_chinese_and_emoji_text_passes():
    assert faults_in({"name": "长春市南关区 🙂", "n": 3, "x": None}, "body") == []


LIMIT = 1000


def small_app() -> FastAPI:
    """A service's body handling: the problem handlers, the middleware, a JSON route and a raw one."""
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(StorableTextMiddleware, limit=lambda path: LIMIT * 10 if path.endswith("/import") else LIMIT,
                       json_limit=LIMIT)

    class Credentials(BaseModel):
        username: str

    @app.post("/token")
    async def token(body: Credentials) -> dict[str, str]:
        return {"username": body.username}

    @app.post("/note")
    @app.post("/import")
    async def note(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


async def post(path: str, content, headers: dict[str, str] | list[tuple[str, str]] | None = None
               ) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small_app()), base_url="http://test") as c:
        return await c.post(path, content=content, headers=headers or {})


async def chunks(total: int):
    """A body of `total` bytes that announces no length."""
    for _ in range(total // 100):
        yield b"x" * 100


async def test_a_body_of_any_type_past_its_paths_limit_is_refused_with_413():
    announced = await post("/note", b"x" * (LIMIT + 1), {"content-type": "text/plain"})
    unannounced = await post("/note", chunks(LIMIT * 5), {"content-type": "text/plain"})
    for answer in (announced, unannounced):
        assert answer.status_code == 413 and answer.json()["type"].endswith("/payload-too-large"), answer.text
    assert (await post("/note", b"x" * LIMIT, {"content-type": "text/plain"})).json() == {"bytes": LIMIT}
    assert (await post("/import", chunks(LIMIT * 5), {"content-type": "text/csv"})).json() == {"bytes": LIMIT * 5}
    # A JSON body is held whole to be scanned: on an upload's path too, no more than any JSON body.
    assert (await post("/import", chunks(LIMIT * 5), {"content-type": "application/json"})).status_code == 413


async def test_every_body_fastapi_reads_as_json_is_scanned_for_unstorable_text():
    nul = b'{"username": "a\\u0000"}'
    for content_type in ("Application/JSON", "application/json; charset=utf-8", "application/merge-patch+json", None):
        answer = await post("/token", nul, {"content-type": content_type} if content_type else {})
        assert answer.status_code == 422, (content_type, answer.text)
        assert answer.json()["errors"][0]["field"] == "body.username"
    # Of two Content-Type headers FastAPI reads the first: so does the scan.
    repeated = [("content-type", "application/json"), ("content-type", "text/plain")]
    assert (await post("/token", nul, repeated)).status_code == 422
    assert (await post("/token", b'{"username": "\\u5f20"}', {"content-type": "APPLICATION/JSON"})).json() == {
        "username": "张"}


async def test_whole_numbers_beyond_64_bits_are_refused_by_field_and_long_digit_text_passes():
    huge = b'{"username": "6222000011112222333344445555", "persons": [{"year": 12345678901234567890123}]}'
    answer = await post("/token", huge, {"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["errors"] == [
        {"field": "body.persons.0.year", "message": "a whole number beyond the 64-bit range (about ±9.2e18), "
                                                     "which cannot be stored"}]
    assert faults_in({"largest": 2**63 - 1, "smallest": -(2**63), "flag": True}, "body") == []
    assert [f["field"] for f in faults_in({"n": 2**63, "m": -(2**63) - 1}, "body")] == ["body.n", "body.m"]
