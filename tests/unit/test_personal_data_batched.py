"""ID numbers encrypted a part at a time (`PersonalData.encrypt_many`, one system call for the nonces of a part):
each ciphertext is what `encrypt` makes, under its own nonce; and the check character judged as before."""

import base64
from datetime import date

import pytest

from backbone.pii import NONCE_BYTES, PersonalData, check_id_number
from tests.people import id_number

PERSONAL = PersonalData(keys={"k1": b"k" * 32, "k2": b"m" * 32}, current="k2", index_key=b"test-index-key")


def test_each_number_of_a_part_decrypts_back_and_no_two_share_a_nonce():
    numbers = [id_number(n) for n in range(200)] + [id_number(0)]
    tokens = PERSONAL.encrypt_many(numbers)
    assert [PERSONAL.decrypt(t) for t in tokens] == numbers
    assert all(t.startswith("k2:") for t in tokens)
    nonces = {base64.b64decode(t.removeprefix("k2:"))[:NONCE_BYTES] for t in tokens}
    assert len(nonces) == len(tokens)
    assert PERSONAL.encrypt_many([]) == []


def test_the_check_character_is_judged_as_before():
    good = id_number(7)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert check_id_number(good.lower(), date(2026, 3, 1)) == good.upper()
    with pytest.raises(ValueError, match="check character"):
        check_id_number(wrong, date(2026, 3, 1))
