"""Ed25519 keys as the platform's settings carry them: the raw key bytes in base64. One reading of them for the
identities the gateway forwards (backbone/identity.py) and for the signed messages of the provincial exchange
(contracts/province.py), which the province's side uses without the platform's code."""

import base64
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@cache
def signing_key(private_key: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key))


@cache
def verifying_key(public_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))


def public_key_of(private_key: str) -> str:
    """The public key, base64, of a base64 private key."""
    return base64.b64encode(signing_key(private_key).public_key().public_bytes_raw()).decode()


def new_keypair() -> tuple[str, str]:
    """A fresh private and public key, base64."""
    private = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    return private, public_key_of(private)
