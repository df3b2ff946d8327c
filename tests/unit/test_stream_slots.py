"""A stream's place is counted when it is admitted, not when its first event flows, and given back once."""

import pytest

from backbone.errors import TooManyRequests
from backbone.streams import StreamSlots


def test_the_request_past_a_persons_cap_is_refused_even_before_any_stream_has_sent_a_byte():
    slots = StreamSlots(per_person=2, total=10, service="test")
    slots.claim("zhao"), slots.claim("zhao")
    with pytest.raises(TooManyRequests) as refused:
        slots.claim("zhao")
    assert refused.value.headers == {"Retry-After": "30"} and "at most 2" in str(refused.value)
    slots.claim("qian")


def test_the_server_total_holds_across_people():
    slots = StreamSlots(per_person=5, total=3, service="test")
    held = [slots.claim(who) for who in ("zhao", "qian", "sun")]
    with pytest.raises(TooManyRequests):
        slots.claim("li")
    held[1].release()
    slots.claim("li")


def test_a_place_given_back_twice_frees_only_one():
    slots = StreamSlots(per_person=1, total=10, service="test")
    first = slots.claim("zhao")
    with first:
        pass
    first.release()
    slots.claim("zhao")
    with pytest.raises(TooManyRequests):
        slots.claim("zhao")
