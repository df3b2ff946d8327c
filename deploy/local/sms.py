"""The SMS gateway's stand-in (短信网关模拟), port 8198: takes `POST /messages {to, text}` as a carrier's HTTP
gateway would, keeps what it was sent in memory (`GET /messages`), and can be told to refuse the next messages
(`PUT /faults`). For the local stack and the tests: alerting sends to it when FUNDWATCH_NOTIFY_SMS_URL points here.
Like the province's simulator it stands for another party, so it lives in deploy/local."""

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

app = FastAPI(title="SMS gateway stand-in (短信网关模拟)", docs_url=None, redoc_url=None)


class SmsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=5, max_length=20)
    text: str = Field(min_length=1, max_length=2000)


class FaultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fail_next: int = Field(0, ge=0, le=1000, description="Answer 503 to this many messages from now on.")


received: list[dict[str, Any]] = []
faults = {"fail_next": 0}


@app.post("/messages")
async def send(body: SmsIn, idempotency_key: str | None = Header(None)) -> JSONResponse:
    """Take a message for delivery; a refused one (told so by /faults) is a 503 and is not kept."""
    if faults["fail_next"] > 0:
        faults["fail_next"] -= 1
        return JSONResponse({"error": "gateway busy"}, status_code=503)
    received.append({"to": body.to, "text": body.text, "key": idempotency_key,
                     "at": datetime.now(UTC).isoformat()})
    return JSONResponse({"accepted": True, "id": len(received)}, status_code=202)


@app.get("/messages")
async def list_received() -> dict[str, list[dict[str, Any]]]:
    return {"items": received}


@app.put("/faults")
async def set_faults(body: FaultsIn) -> dict[str, int]:
    faults["fail_next"] = body.fail_next
    return faults


@app.get("/healthz")
@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ready", "service": "sms"}
