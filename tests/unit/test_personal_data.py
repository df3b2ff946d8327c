"""ID numbers at rest: encrypted with rotatable keys, found by a keyed blind index."""

import base64
from datetime import date

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric

from backbone.pii import PersonalData, check_id_number, mask_id_number, parse_keys, redact_id_numbers

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


TODAY = date(2026, 11, 28)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check_character(body: str) -> str:
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def stdnum_verdict(number: str) -> bool:
    """python-stdnum's checks, with the region code known in any period (see check_id_number)."""
    try:
        number = ric.compact(number)
        if len(number) != 18 or not number[:-1].isdigit() or ric.calc_check_digit(number) != number[-1]:
            return False
        born = ric.get_birth_date(number)
    except Exception:  # noqa: BLE001 - stdnum raises several ValidationError kinds
        return False
    counties = {k for _, props in numdb.get("cn/loc").info(number[:6]) for k in props}
    return date(1900, 1, 1) <= born <= TODAY and "county" in counties


def our_verdict(number: str) -> bool:
    try:
        check_id_number(number, TODAY)
    except ValueError:
        return False
    return True


@given(region=st.one_of(st.sampled_from(["110105", "220102", "220112", "220183", "320102", "460300"]),
                        st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)),
       born=st.dates(date(1880, 1, 1), date(2030, 12, 31)),
       serial=st.from_regex(r"[0-9]{3}", fullmatch=True),
       spoil=st.one_of(st.none(), st.integers(0, 17)))
def test_the_id_number_check_agrees_with_python_stdnum(region, born, serial, spoil):
    number = with_check_character(f"{region}{born:%Y%m%d}{serial}")
    if spoil is not None:
        number = number[:spoil] + ("1" if number[spoil] != "1" else "2") + number[spoil + 1:]
    assert our_verdict(number) == stdnum_verdict(number)


@pytest.mark.parametrize("bad", ["", "220102", "22010219900307123", "2201021990030712345", "22010219900307123Y",
                                 "220102199002301230", with_check_character("22010221000101123")])
def test_a_malformed_id_number_is_refused_without_quoting_it(bad):
    with pytest.raises(ValueError) as refused:
        check_id_number(bad, TODAY)
    assert not bad or bad not in str(refused.value)


def test_an_older_persons_number_names_a_district_created_after_their_birth():
    # Numbers were issued from 1984 on with the district of residence: 220102 南关区 for someone born in 1940.
    assert check_id_number(with_check_character("22010219400101123"), TODAY)


def test_a_lower_case_check_character_is_read_as_x():
    assert check_id_number(" 11010519491231002x ", TODAY) == "11010519491231002X"


def test_id_numbers_inside_text_are_masked_and_other_long_numbers_left_alone():
    text = "GET /registry/persons/11010519491231002X?x=1; account 622200001111222233334444; id 22010219900307123x"
    assert redact_id_numbers(text) == ("GET /registry/persons/110105********002X?x=1; account 622200001111222233334444;"
                                       " id 220102********123x")
