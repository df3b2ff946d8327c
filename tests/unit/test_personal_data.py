"""ID numbers at rest: encrypted with rotatable keys, found by a keyed blind index."""

import base64

import pytest
from cryptography.exceptions import InvalidTag

from backbone.pii import PersonalData, mask_id_number, parse_keys

PERSON_ID = "11010519491231002X"
OLD, NEW = b"o" * 32, b"n" * 32


def test_a_number_is_encrypted_differently_each_time_and_decrypts_back():
    personal = PersonalData(keys={"k1": OLD}, current="k1", index_key=b"index")
    a, b = personal.encrypt(PERSON_ID), personal.encrypt(PERSON_ID)
    assert a != b and PERSON_ID not in a and a.startswith("k1:")
    assert personal.decrypt(a) == personal.decrypt(b) == PERSON_ID


def test_rotation_writes_with_the_new_key_and_still_reads_the_old():
    before = PersonalData(keys={"k1": OLD}, current="k1", index_key=b"index").encrypt(PERSON_ID)
    rotated = PersonalData(keys={"k1": OLD, "k2": NEW}, current="k2", index_key=b"index")
    assert rotated.decrypt(before) == PERSON_ID
    assert rotated.encrypt(PERSON_ID).startswith("k2:")


def test_a_ciphertext_moved_under_another_key_id_does_not_decrypt():
    personal = PersonalData(keys={"k1": OLD, "k2": OLD}, current="k1", index_key=b"index")
    forged = "k2:" + personal.encrypt(PERSON_ID).split(":", 1)[1]
    with pytest.raises(InvalidTag):
        personal.decrypt(forged)


def test_the_blind_index_matches_the_same_person_only_and_depends_on_the_key():
    personal = PersonalData(keys={"k1": OLD}, current="k1", index_key=b"index")
    assert personal.blind_index(PERSON_ID) == personal.blind_index(PERSON_ID.lower())
    assert personal.blind_index(PERSON_ID) != personal.blind_index("110105194912310019")
    other = PersonalData(keys={"k1": OLD}, current="k1", index_key=b"other")
    assert other.blind_index(PERSON_ID) != personal.blind_index(PERSON_ID)


def test_keys_must_be_aes_256_and_numbers_are_masked():
    assert parse_keys(f"k1:{base64.b64encode(OLD).decode()}") == {"k1": OLD}
    with pytest.raises(ValueError, match="32 bytes"):
        parse_keys(f"k1:{base64.b64encode(b'short').decode()}")
    assert mask_id_number(PERSON_ID) == "110105********002X"
