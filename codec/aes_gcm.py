"""AES-256-GCM payload codec: every payload a client or worker sends to Temporal is encrypted before it leaves.

Temporal stores payloads (workflow inputs, activity arguments and results, update arguments, query answers,
memos, failure details) as the client sent them; without a codec, a case's phone number, ID number and name
would sit in clear in the server's database, its Web UI and `temporal workflow show`.

Each encrypted payload names the key it was encrypted with (`encryption-key-id` in its metadata), and the
key ring holds every key still needed to read old histories: rotating means adding a new key and making it
the active one, never removing the old ones while a history encrypted under them is kept (Temporal's
retention, the archived histories in PostgreSQL).

Search attributes are not payloads of the codec: they stay plain, and the workflows put only keyed tokens
in them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM standard nonce; random per payload

KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyRingError(ValueError):
    """A key ring that cannot be used: a malformed key, an unknown active key. Never shows key material."""


class PayloadDecryptionError(ValueError):
    """An encrypted payload that cannot be read: its key is not in the ring, or it was altered."""


@dataclass(frozen=True)
class KeyRing:
    """The keys payloads may be encrypted under, by key id, and the one new payloads are encrypted with."""

    keys: Mapping[str, bytes] = dataclasses.field(repr=False)
    active: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyRingError("the key ring holds no key")
        for key_id, key in self.keys.items():
            if not KEY_ID.match(key_id):
                raise KeyRingError(
                    f"key id {key_id!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
                )
            if len(key) != KEY_BYTES:
                raise KeyRingError(f"key {key_id!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES}")
        if self.active not in self.keys:
            held = ", ".join(sorted(self.keys))
            raise KeyRingError(f"the active key {self.active!r} is not in the key ring ({held})")

    @classmethod
    def generate(cls, key_id: str = "k1") -> KeyRing:
        """A ring of one fresh random key (for tests, and the embedded runtime's first start)."""
        return cls(keys={key_id: new_key()}, active=key_id)

    def with_active(self, key_id: str, key: bytes) -> KeyRing:
        """This ring plus `key` under `key_id`, which becomes the active key: a rotation."""
        if key_id in self.keys and self.keys[key_id] != key:
            raise KeyRingError(f"key id {key_id!r} is already in the key ring with another key")
        return KeyRing(keys={**self.keys, key_id: key}, active=key_id)


def new_key() -> bytes:
    """A fresh random AES-256 key."""
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    """The key in base64, as PAYLOAD_KEYS takes it."""
    return base64.b64encode(key).decode("ascii")


def decode_key(key_id: str, text: str) -> bytes:
    """The key from its base64 text; KeyRingError naming the key id (never the text) when malformed."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyRingError(f"key {key_id!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyRingError(f"key {key_id!r} decodes to {len(key)} bytes; AES-256 needs {KEY_BYTES}")
    return key


def parse_key_list(text: str) -> dict[str, bytes]:
    """Keys written `id:base64,id:base64` (as in PAYLOAD_KEYS)."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, sep, encoded = item.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise KeyRingError("each key must be written id:base64-of-32-bytes, separated by commas")
        if not KEY_ID.match(key_id):
            raise KeyRingError(f"key id {key_id!r} must be letters, digits, '.', '_' or '-'")
        if key_id in keys:
            raise KeyRingError(f"key id {key_id!r} appears twice")
        keys[key_id] = decode_key(key_id, encoded)
    if not keys:
        raise KeyRingError("no key given; write id:base64-of-32-bytes")
    return keys


def key_ring_env(ring: KeyRing) -> dict[str, str]:
    """The ring as PAYLOAD_KEYS and PAYLOAD_ACTIVE_KEY, to hand it to a child process (benchmarks, tests)."""
    keys = ",".join(f"{key_id}:{encode_key(key)}" for key_id, key in ring.keys.items())
    return {"PAYLOAD_KEYS": keys, "PAYLOAD_ACTIVE_KEY": ring.active}


def encrypt_payload(ring: KeyRing, payload: Payload) -> Payload:
    """The payload, serialised whole (metadata included) and encrypted under the ring's active key.

    The key id is also the GCM associated data, so a payload relabelled with another key id fails to decrypt.
    """
    nonce = os.urandom(NONCE_BYTES)
    key_id = ring.active.encode()
    sealed = AESGCM(ring.keys[ring.active]).encrypt(nonce, payload.SerializeToString(), key_id)
    return Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id}, data=nonce + sealed)


def is_encrypted(payload: Payload) -> bool:
    """Whether the payload is one this codec encrypted."""
    return payload.metadata.get("encoding") == ENCODING


def decrypt_payload(ring: KeyRing, payload: Payload) -> Payload:
    """The original payload.

    One that is not encrypted passes unchanged: histories written before the codec was turned on stay readable.
    """
    if not is_encrypted(payload):
        return payload
    key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", errors="replace")
    key = ring.keys.get(key_id)
    if key is None:
        raise PayloadDecryptionError(
            f"payload encrypted under key {key_id!r}, which the key ring ({', '.join(sorted(ring.keys))}) "
            "does not hold; add it to PAYLOAD_KEYS"
        )
    nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
    try:
        plain = AESGCM(key).decrypt(nonce, sealed, key_id.encode())
    except InvalidTag:
        raise PayloadDecryptionError(f"payload under key {key_id!r} fails its integrity check") from None
    return Payload.FromString(plain)


class AesGcmCodec(PayloadCodec):
    """Encrypts with the ring's active key; decrypts with whichever key a payload names."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload with the ring's active key."""
        return [encrypt_payload(self.ring, payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt each payload with the key it names (a payload not encrypted passes as it is)."""
        return [decrypt_payload(self.ring, payload) for payload in payloads]


def encrypted_data_converter(ring: KeyRing) -> DataConverter:
    """The project's one data converter: pydantic models to JSON, then AES-GCM under the ring's active key."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=AesGcmCodec(ring))
