"""Personal data (身份证号): encrypted at rest with rotatable keys, matched through a keyed blind
index, shown masked. The plain number never goes into an event, a log line or an error.

Ciphertexts carry the id of the key that made them (`k2:…`), so a new key can be introduced for
writing while the old ones still decrypt: rotation without downtime, and re-encryption at leisure.
"""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backbone.settings import Settings

NONCE_BYTES = 12


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
        return hmac.new(self.index_key, id_number.upper().encode(), hashlib.sha256).hexdigest()

    def encrypt(self, id_number: str) -> str:
        """`<key id>:<base64 nonce + AES-GCM ciphertext>`, bound to the key id."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, id_number.encode(), self.current.encode())
        return f"{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        """The number inside a ciphertext made with any known key."""
        key_id, _, encoded = token.partition(":")
        raw = base64.b64decode(encoded)
        return AESGCM(self.keys[key_id]).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode()).decode()


@lru_cache(maxsize=4)
def _from_secrets(spec: str, current: str | None, index_key: str) -> PersonalData:
    keys = parse_keys(spec)
    if not keys:
        raise ValueError("FUNDWATCH_PII_KEYS names no key")
    chosen = current or next(reversed(keys))
    if chosen not in keys:
        raise ValueError(f"FUNDWATCH_PII_CURRENT_KEY {chosen!r} is not among FUNDWATCH_PII_KEYS")
    return PersonalData(keys, chosen, index_key.encode())
