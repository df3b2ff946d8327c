"""The provincial platform simulator (省级平台模拟), port 8199: the province's side of the exchange, for the local
stack and the test stack. It checks each message against the JSON Schemas of `contracts/exchange/` and its
signature against the city's public key (FUNDWATCH_EXCHANGE_PUBLIC_KEY under FUNDWATCH_EXCHANGE_KEY_ID), answers
a receipt (回执), keeps one of each message_id however often it arrives, and can be told to be down, slow, or to
return (退回) the next message. It holds everything in memory: a restart forgets what it received.

It also speaks first, on request: `POST /push` signs a message of the province's (指标下达, rule levels, an answer
to an application) with the province's key (FUNDWATCH_PROVINCE_SIGNING_KEY under FUNDWATCH_PROVINCE_KEY_ID) and
posts it to the platform's inbound endpoint through the gateway (FUNDWATCH_GATEWAY_URL) with the province's API
key (FUNDWATCH_PROVINCE_API_KEY); `POST /receipts` sends a receipt message for a message it holds.

It lives in deploy/local rather than in services/sync because it is not part of the platform: it stands for
another party, and it uses only the shared contracts, as the province would."""

import asyncio
import json
import os
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid4, uuid5

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field

from backbone.settings import get_settings
from contracts.generate import EXCHANGE
from contracts.province import MessageKind, sign, verify

app = FastAPI(title="Provincial platform simulator (省级平台模拟)", docs_url=None, redoc_url=None)


class Faults(BaseModel):
    """What the simulator is told to do wrong."""

    model_config = ConfigDict(extra="forbid")

    down: bool = Field(False, description="Answer 503 to every message, as an outage would.")
    delay_ms: int = Field(0, ge=0, le=120_000, description="Wait this long before answering.")
    return_next: bool = Field(False, description="Return (退回) the next message that is otherwise fine.")


class FaultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    down: bool | None = None
    delay_ms: int | None = Field(None, ge=0, le=120_000)
    return_next: bool | None = None


faults = Faults()
received: dict[str, dict[str, Any]] = {}  # message_id → what the province holds of it
_validators: dict[str, Draft202012Validator] = {}


def validator(name: str) -> Draft202012Validator | None:
    """The validator of a schema file of contracts/exchange, or None when there is no such schema."""
    if name not in _validators:
        path = EXCHANGE / name
        if not path.exists():
            return None
        _validators[name] = Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
    return _validators[name]


def fault_of(message: Any) -> str | None:
    """Why the province cannot take a message as it is (schema, then signature), or None."""
    envelope = validator("message.json")
    assert envelope is not None
    if error := next(iter(envelope.iter_errors(message)), None):
        return f"not a message: {error.message}"
    schema = validator(f"{message['kind']}.v{message['schema_version']}.json")
    if schema is None:
        return f"unknown schema {message['kind']} v{message['schema_version']}"
    if error := next(iter(schema.iter_errors(message["payload"])), None):
        return f"payload at {'/'.join(map(str, error.absolute_path)) or '/'}: {error.message}"
    settings = get_settings()
    if message["key_id"] != settings.exchange_key_id:
        return f"unknown key {message['key_id']}"
    if not verify(message, settings.exchange_public_key):
        return "the signature does not match"
    return None


def _answer(message_id: str, status: str, reason: str | None, code: int) -> JSONResponse:
    held = received.get(message_id)
    return JSONResponse({"message_id": message_id, "status": status,
                         "receipt_id": str(uuid5(NAMESPACE_URL, f"province:receipt:{message_id}")),
                         "received_at": (held["received_at"] if held else datetime.now(UTC).isoformat()),
                         "reason": reason}, status_code=code)


@app.post("/exchange/messages")
async def take(request: Request) -> JSONResponse:
    """The province's intake: a receipt for a message it holds (again, the same), a 422 with the reason for one
    it refuses or returns, a 503 while down."""
    if faults.delay_ms:
        await asyncio.sleep(faults.delay_ms / 1000)
    if faults.down:
        return JSONResponse({"reason": "the provincial platform is down"}, status_code=503)
    try:
        message = await request.json()
    except ValueError:
        return JSONResponse({"reason": "not JSON"}, status_code=422)
    if (fault := fault_of(message)) is not None:
        return JSONResponse({"message_id": message.get("message_id") if isinstance(message, dict) else None,
                             "status": "refused", "reason": fault}, status_code=422)
    message_id = message["message_id"]
    held = received.setdefault(message_id, {"message_id": message_id, "kind": message["kind"], "count": 0,
                                            "received_at": datetime.now(UTC).isoformat(),
                                            "payload": message["payload"]})
    held["count"] += 1
    if faults.return_next:
        faults.return_next = False
        return _answer(message_id, "returned", "退回: the simulator was told to return this message", 422)
    return _answer(message_id, "accepted", None, 200)


@app.post("/faults")
async def set_faults(body: FaultsIn) -> Faults:
    """Make the province down, slow or returning (what is left out stays as it is)."""
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(faults, name, value)
    return faults


@app.get("/faults")
async def get_faults() -> Faults:
    return faults


@app.get("/received")
async def list_received() -> dict[str, list[dict[str, Any]]]:
    """What the province holds: each message once, with how many times it arrived."""
    return {"items": list(received.values())}


@app.get("/healthz")
@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ready", "service": "province"}


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: MessageKind
    payload: dict[str, Any]
    message_id: str | None = Field(None, max_length=64, description="Default: a new one (the same one: a resend).")
    schema_version: int = 1
    tamper: bool = Field(False, description="Change the message after signing, as a forger would.")


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(description="A message the province holds.")
    status: Literal["accepted", "returned"] = "accepted"
    reason: str | None = None


def gateway_url() -> str:
    return os.environ.get("FUNDWATCH_GATEWAY_URL", "http://127.0.0.1:8000").rstrip("/")


@app.post("/push")
async def push(body: PushIn) -> JSONResponse:
    """Sign a message as the province and post it to the platform; the platform's answer as it gave it."""
    settings = get_settings()
    message = {"message_id": body.message_id or str(uuid4()), "kind": body.kind.value,
               "schema_version": body.schema_version, "key_id": settings.province_key_id, "payload": body.payload}
    message["signature"] = sign(message, settings.province_signing_key.get_secret_value())
    if body.tamper:
        message["message_id"] = str(uuid4())  # what was signed is no longer what is sent
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(f"{gateway_url()}/api/v1/exchange/inbound", json=message,
                                   headers={"X-Api-Key": settings.province_api_key.get_secret_value()})
    try:
        content = answer.json()
    except ValueError:
        content = {"text": answer.text}
    return JSONResponse({"status_code": answer.status_code, "message_id": message["message_id"], "answer": content})


@app.post("/receipts")
async def send_receipt(body: ReceiptIn) -> JSONResponse:
    """The province's later word (回执 / 退回) on a message it holds, sent as a receipt message."""
    if body.message_id not in received:
        return JSONResponse({"reason": f"the province holds no message {body.message_id}"}, status_code=404)
    return await push(PushIn(kind=MessageKind.RECEIPT, payload={
        "schema_version": 1, "message_id": body.message_id, "status": body.status, "reason": body.reason}))
