"""Personal data (身份证号): encrypted at rest with rotatable keys, matched through a keyed blind
index, shown masked. The plain number never goes into an event, a log line or an error.

Ciphertexts carry the id of the key that made them (`k2:…`), so a new key can be introduced for
writing while the old ones still decrypt: rotation without downtime, and re-encryption at leisure.
"""

import base64
import hashlib
import hmac
import os
from operator import mul
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel
from stdnum import numdb

from backbone.settings import Settings

NONCE_BYTES = 12
EARLIEST_BIRTH = date(1900, 1, 1)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def check_id_number(value: str, today: date) -> str:
    """A resident ID number (GB 11643) in its canonical form, or ValueError.

    Registry imports check millions of numbers, so the checks are written out here; only the
    region code is looked up in python-stdnum's table of codes, once per code. A code counts
    whenever it was ever in use: numbers were issued from 1984 on with the region of residence
    then, so an older person's number names a district created after their birth (stdnum's
    `cn.ric` would refuse it). The message never quotes the number, so that it cannot reach a
    log line or an error report.
    """
    number = value.strip().upper()
    if len(number) != 18 or not _ID_SHAPE.fullmatch(number):
        raise ValueError("a resident ID number has 17 digits and a check character (0-9 or X)")
    if _CHECK_CHARACTERS[sum(map(mul, map(int, number[:17]), _WEIGHTS)) % 11] != number[17]:
        raise ValueError("the check character of the ID number is wrong (GB 11643)")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError("the ID number does not contain a valid birth date") from None
    if not EARLIEST_BIRTH <= born <= today:
        raise ValueError("the ID number's birth date is not plausible")
    if not region_known(number[:6]):
        raise ValueError("the ID number's region code is not a known county code")
    return number


@lru_cache(maxsize=8192)
def region_known(region: str) -> bool:
    """Whether a six-digit code names a county (区县) in any period."""
    return "county" in {k for _, props in numdb.get("cn/loc").info(region) for k in props}


def keyed_digest(record: BaseModel | dict[str, Any], key: bytes) -> str:
    """Keyed digest of a record as submitted, to tell a re-send from a conflicting re-use of its id.

    Keyed, because a plain hash of a record whose other fields are public would let anyone
    recover an ID number by trying the few thousand possible birth dates. Unset optional
    elements of a model are left out, so that a field added later keeps earlier digests valid;
    a plain JSON body is digested as sent.
    """
    data = record.model_dump(mode="json", exclude_none=True) if isinstance(record, BaseModel) else record
    text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    return hmac.digest(key, text, hashlib.sha256).hex()


# A resident ID number as it may stand inside other text (a URL path, an error): 6 region digits, a birth
# date of the 1900s or 2000s, a serial and a check character, not part of a longer run of digits.
_ID_IN_TEXT = re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
                         r"[0-9]{3}[0-9Xx](?![0-9])")


def redact_id_numbers(text: str) -> str:
    """The text with every ID number in it masked: for telemetry and logs, which may quote URLs."""
    return _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)


def mask_id_number(id_number: str) -> str:
    """220102********1234: region code and last four only."""
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def parse_keys(spec: str) -> dict[str, bytes]:
    """`k1:<base64 32 bytes>,k2:<…>` → key id → AES-256 key."""
    keys = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key_id, _, encoded = part.partition(":")
        key = base64.b64decode(encoded)
        if len(key) != 32:
            raise ValueError(f"personal-data key {key_id!r} must be 32 bytes (AES-256)")
        keys[key_id] = key
    return keys


@dataclass(frozen=True)
class PersonalData:
    """Encrypts, decrypts and blind-indexes ID numbers."""

    keys: dict[str, bytes]
    current: str
    index_key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> "PersonalData":
        """The configured keys, parsed once per process."""
        return _from_secrets(settings.pii_keys.get_secret_value(), settings.pii_current_key,
                             settings.blind_index_key.get_secret_value())

    def blind_index(self, id_number: str) -> str:
        """A keyed digest to find and match a person without the number itself."""
        return hmac.digest(self.index_key, id_number.upper().encode(), hashlib.sha256).hex()

    def encrypt(self, id_number: str) -> str:
        """`<key id>:<base64 nonce + AES-GCM ciphertext>`, bound to the key id."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, id_number.encode(), self.current.encode())
        return f"{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def encrypt_many(self, id_numbers: list[str]) -> list[str]:
        """`encrypt` of each number, their nonces drawn from the system in one call (a system call per number was
        a tenth of reading a registry file)."""
        nonces = os.urandom(NONCE_BYTES * len(id_numbers))
        cipher, key_id = self._ciphers[self.current], self.current.encode()
        return [f"{self.current}:{base64.b64encode(nonce + cipher.encrypt(nonce, number.encode(), key_id)).decode()}"
                for nonce, number in zip((nonces[i:i + NONCE_BYTES] for i in range(0, len(nonces), NONCE_BYTES)),
                                         id_numbers, strict=True)]

    def decrypt(self, token: str) -> str:
        """The number inside a ciphertext made with any known key."""
        key_id, _, encoded = token.partition(":")
        raw = base64.b64decode(encoded)
        return self._ciphers[key_id].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode()).decode()

    @cached_property
    def _ciphers(self) -> dict[str, AESGCM]:
        # Building the cipher costs as much as using it; registry imports encrypt millions of numbers.
        return {key_id: AESGCM(key) for key_id, key in self.keys.items()}


@lru_cache(maxsize=4)
def _from_secrets(spec: str, current: str | None, index_key: str) -> PersonalData:
    keys = parse_keys(spec)
    if not keys:
        raise ValueError("FUNDWATCH_PII_KEYS names no key")
    chosen = current or next(reversed(keys))
    if chosen not in keys:
        raise ValueError(f"FUNDWATCH_PII_CURRENT_KEY {chosen!r} is not among FUNDWATCH_PII_KEYS")
    return PersonalData(keys, chosen, index_key.encode())
