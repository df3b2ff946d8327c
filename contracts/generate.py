"""Generate the checked-in contract snapshots: JSON Schema of the event envelope and of every
event, of every message exchanged with the province, the OpenAPI document of every service and the merged public
one. `make contracts` (or
`python -m contracts.generate`); a test fails when the code drifts from the snapshots."""

import importlib
import json
from pathlib import Path
from typing import Any

from contracts.catalog import EVENT_MODELS
from contracts.envelope import EventEnvelope
from contracts.province import exchange_schemas

HERE = Path(__file__).parent
SCHEMAS = HERE / "schemas"
OPENAPI = HERE / "openapi"
EXCHANGE = HERE / "exchange"
SERVICE_APPS = {
    "ledger": "services.ledger.app",
    "payments": "services.payments.app",
    "performance": "services.performance.app",
    "alerting": "services.alerting.app",
    "sync": "services.sync.app",
    "gateway": "gateway.app",
}


def event_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema of the envelope and of each event payload."""
    out = {"envelope.json": EventEnvelope.model_json_schema()}
    for event_type, model in sorted(EVENT_MODELS.items()):
        schema = model.model_json_schema()
        schema["x-event-type"] = event_type
        schema["x-schema-version"] = model.schema_version
        schema["x-topic"] = f"fundwatch.{model.context}.v1"
        out[f"{event_type}.v{model.schema_version}.json"] = schema
    return out


def openapi_documents() -> dict[str, dict[str, Any]]:
    """File name → OpenAPI document of each service, as its app describes itself, and `public.json`: the
    whole public API as the gateway serves it at /api/v1/openapi.json."""
    from gateway.openapi import merge

    docs = {name: importlib.import_module(module).app.openapi() for name, module in SERVICE_APPS.items()}
    return {**{f"{name}.json": doc for name, doc in docs.items()}, "public.json": merge(docs)}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def snapshots() -> dict[Path, str]:
    """Every snapshot file and its expected text."""
    files = {SCHEMAS / name: render(doc) for name, doc in event_schemas().items()}
    files.update({OPENAPI / name: render(doc) for name, doc in openapi_documents().items()})
    files.update({EXCHANGE / name: render(doc) for name, doc in exchange_schemas().items()})
    return files


def main() -> None:
    for folder in (SCHEMAS, OPENAPI, EXCHANGE):
        folder.mkdir(exist_ok=True)
        for stale in folder.glob("*.json"):
            stale.unlink()
    for path, text in snapshots().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
