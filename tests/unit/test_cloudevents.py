"""Events on the wire: CloudEvents 1.0 binary mode, keyed by stream id."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from backbone.bus import PoisonMessage, from_message, to_message
from contracts.envelope import EventEnvelope, EventMetadata


def envelope():
    return EventEnvelope(
        event_id=uuid4(), stream_id="payment-P1", stream_type="payment", version=1,
        event_type="payments.PaymentRecorded", occurred_at=datetime.now(UTC), position=42,
        metadata=EventMetadata(actor="treasury-system", org_unit="220100", source="payments",
                               correlation_id="c-1", causation_id=None),
        payload={"payment_id": "P1", "amount": "600.00"},
    )


def test_round_trip_keeps_identity_metadata_and_payload():
    original = envelope()
    key, value, headers = to_message(original)
    assert key == b"payment-P1"
    names = dict(headers)
    assert names["ce_specversion"] == b"1.0" and names["ce_type"] == b"payments.PaymentRecorded"
    assert names["content-type"] == b"application/json"
    back = from_message(value, headers)
    assert back == original.model_copy(update={"metadata": original.metadata.model_copy(update={"traceparent": None})})


def test_traceparent_header_is_read_back():
    _, value, headers = to_message(envelope())
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert from_message(value, [*headers, ("traceparent", tp.encode())]).metadata.traceparent == tp


@pytest.mark.parametrize("value,headers", [
    pytest.param(b"{}", [], id="no-cloudevents-headers"),
    pytest.param(b"not json", None, id="body-not-json"),
    pytest.param(b"{}", [("ce_specversion", b"1.0"), ("ce_id", b"not-a-uuid")], id="bad-id"),
    pytest.param(b"[1, 2]", None, id="body-not-an-object"),
    pytest.param(b"{}", {"ce_streamversion": b"0"}, id="stream-version-0"),
    pytest.param(b"{}", {"ce_time": b"yesterday"}, id="bad-time"),
])
def test_anything_else_is_poison(value, headers):
    """The envelope is built from parsed headers without validating it again: each check still holds."""
    if headers is None or isinstance(headers, dict):
        changed = headers or {}
        headers = [(k, changed.get(k, v)) for k, v in to_message(envelope())[2]]
    with pytest.raises(PoisonMessage):
        from_message(value, headers)
