"""Personal data at rest: per-customer data keys, wrapped by the deployment's master key, and erasure.

Every customer (a phone number) gets a random 256-bit data key the first time one of their cases is
stored. The key is kept only wrapped (AES-256-GCM under the master key, `PII_MASTER_KEY`) in
`customer_keys`; each case is tied to the key it is sealed under in `complaint_keys`. Personal strings
of events, of the read model's folded state and of customer notifications are sealed under the case's
key (AES-256-GCM, a fresh 96-bit nonce each, the key id as associated data).

Erasure (PIPL) is crypto-shredding: the wrapped key is nulled, which is the one UPDATE the schema
allows on it. The ciphertexts stay where they are, so every hash chain, which covers them, still
verifies; they simply can no longer be opened, and read `[erased]`.

No data key is cached between calls: an erased key must stop working in every process at once.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import operator
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.personal_data import ERASED, SEALED_PREFIX, JsonValue, known_values, seal_personal, unseal_personal
from domain.state import ComplaintState
from runtime.settings import DEV_MSISDN_TOKEN_KEY, Settings, parse_master_keys

MASTER_KEY_VARIABLE = "PII_MASTER_KEY"
MASTER_KEY_FILE = "pii-master.key"
_KEY_BYTES = 32
_NONCE_BYTES = 12


class PersonalDataError(Exception):
    """A customer key or sealed value that cannot be opened although it exists.

    The master key that wrapped it is not held, or the stored bytes were changed.
    """


def load_master_keys(settings: Settings) -> list[bytes]:
    """The master keys, newest first.

    PII_MASTER_KEY, or the embedded default kept in the data folder (created once, mode 0600). A malformed key raises
    ConfigError, one line naming the variable.
    """
    if settings.pii_master_key is not None:
        return parse_master_keys(settings.pii_master_key, MASTER_KEY_VARIABLE)
    path = Path(settings.data_dir) / MASTER_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: two processes starting at
        # once keep the first key, and neither ever reads a half-written one.
        draft = path.with_name(f".{MASTER_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode("ascii") + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return parse_master_keys(
        path.read_text(encoding="ascii", errors="replace"), f"{MASTER_KEY_VARIABLE} is unset and {path}"
    )


def master_key_id(master_key: bytes) -> str:
    """A short public name of the master key, kept beside each key it wraps (for rotation)."""
    return hashlib.sha256(b"pii-master-key-id\0" + master_key).hexdigest()[:16]


@dataclass(frozen=True)
class CaseKey:
    """The key a case's personal data is sealed under; `cipher` is None once it is erased."""

    key_id: str
    customer_ref: str
    cipher: AESGCM | None

    @property
    def erased(self) -> bool:
        """Whether the key was erased, so its values can no longer be opened."""
        return self.cipher is None

    def seal(self, value: str) -> str:
        """The sealed form of `value`, or ERASED when the key is gone (nothing is ever written in clear)."""
        if self.cipher is None:
            return ERASED
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self.cipher.encrypt(nonce, value.encode("utf-8"), self.key_id.encode("ascii"))
        return f"{SEALED_PREFIX}{self.key_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def seal_json(self, data: JsonValue, *known: str | None) -> JsonValue:
        """`data` with every personal string sealed; `known` are the case's own personal values."""
        return seal_personal(data, self.seal, known_values(known))


class PersonalDataVault:
    """The customer keys in PostgreSQL, opened with the master keys held by this process.

    New keys are wrapped by the first master key; each row names the master key that wrapped it, so
    after a rotation (`PII_MASTER_KEY=NEW,OLD`) the keys wrapped before still open. Customers are found
    by a keyed reference of their number under `ref_key` (the deployment's MSISDN_TOKEN_KEY), which a
    master key rotation leaves alone.
    """

    def __init__(self, master_keys: Sequence[bytes], *, ref_key: str = DEV_MSISDN_TOKEN_KEY) -> None:
        if not master_keys:
            raise ValueError("at least one master key is needed")
        self._masters = {master_key_id(key): AESGCM(key) for key in master_keys}
        self.master_key_id = master_key_id(master_keys[0])
        self._ref_key = ref_key.encode("utf-8")

    @classmethod
    def from_settings(cls, settings: Settings) -> PersonalDataVault:
        """The vault with the master keys and reference key the settings name."""
        return cls(load_master_keys(settings), ref_key=settings.msisdn_token_key)

    def customer_ref(self, msisdn: str) -> str:
        """The customer's keyed pseudonym (an HMAC of the number): never the number."""
        return hmac.new(self._ref_key, b"customer-ref\0" + msisdn.encode("utf-8"), hashlib.sha256).hexdigest()

    # --- keys ------------------------------------------------------------------------------------

    def _unwrap(self, row: asyncpg.Record) -> CaseKey:
        key_id, wrapped, wrapped_by = row["key_id"], row["wrapped_key"], row["master_key_id"]
        if wrapped is None:
            return CaseKey(key_id, row["customer_ref"], None)
        master = self._masters.get(wrapped_by)
        if master is None:
            raise PersonalDataError(
                f"customer key {key_id} was wrapped by master key {wrapped_by}, which {MASTER_KEY_VARIABLE} does "
                f"not hold (it holds {', '.join(self._masters)}): add that key after the current one"
            )
        try:
            data_key = master.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], key_id.encode("ascii"))
        except InvalidTag:
            raise PersonalDataError(f"customer key {key_id} does not open: its stored bytes changed") from None
        return CaseKey(key_id, row["customer_ref"], AESGCM(data_key))

    def _wrap(self, key_id: str, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + self._masters[self.master_key_id].encrypt(nonce, data_key, key_id.encode("ascii"))

    async def key_for_new_case(self, conn: asyncpg.Connection, complaint_id: str, msisdn: str) -> CaseKey:
        """The customer's live key (created if they have none), tied to the case. Idempotent."""
        existing = await self.key_of_case(conn, complaint_id)
        if existing is not None:
            return existing
        ref = self.customer_ref(msisdn)
        row = None
        while row is None:
            # A concurrent new case of the same customer may have made the key first (kept), or an
            # erasure may have destroyed the live one between the two statements (then make another).
            key_id = "ck-" + secrets.token_hex(8)
            await conn.execute(
                """INSERT INTO customer_keys (customer_ref, key_id, wrapped_key, master_key_id)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (customer_ref) WHERE erased_at IS NULL DO NOTHING""",
                ref,
                key_id,
                self._wrap(key_id, secrets.token_bytes(_KEY_BYTES)),
                self.master_key_id,
            )
            row = await conn.fetchrow(
                "SELECT key_id FROM customer_keys WHERE customer_ref = $1 AND erased_at IS NULL", ref
            )
        await conn.execute(
            "INSERT INTO complaint_keys (complaint_id, key_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            complaint_id,
            row["key_id"],
        )
        found = await self.key_of_case(conn, complaint_id)
        assert found is not None
        return found

    async def key_of_case(self, conn: asyncpg.Connection | asyncpg.Pool, complaint_id: str) -> CaseKey | None:
        """The key the case's personal data is sealed under, or None for a case without one."""
        row = await conn.fetchrow(
            """SELECT k.key_id, k.customer_ref, k.wrapped_key, k.master_key_id FROM complaint_keys c
               JOIN customer_keys k ON k.key_id = c.key_id WHERE c.complaint_id = $1""",
            complaint_id,
        )
        return None if row is None else self._unwrap(row)

    async def keys_by_id(self, conn: asyncpg.Connection | asyncpg.Pool, key_ids: set[str]) -> dict[str, CaseKey]:
        """The keys of these ids, by id (ids with no key are left out)."""
        rows = await conn.fetch(
            """SELECT key_id, customer_ref, wrapped_key, master_key_id FROM customer_keys
               WHERE key_id = ANY($1::text[])""",
            sorted(key_ids),
        )
        return {row["key_id"]: self._unwrap(row) for row in rows}

    # --- reading ---------------------------------------------------------------------------------

    async def unseal(self, conn: asyncpg.Connection | asyncpg.Pool, stored: list[JsonValue]) -> list[JsonValue]:
        """Stored JSON documents with every sealed value opened, or ERASED where its key is gone."""
        key_ids: set[str] = set()
        for document in stored:
            unseal_personal(document, lambda sealed: _note_key_id(sealed, key_ids))
        keys = await self.keys_by_id(conn, key_ids) if key_ids else {}
        return [unseal_with(document, keys) for document in stored]


@functools.cache
def default_vault() -> PersonalDataVault:
    """The vault of the master key the environment configures, for callers that hold no settings of their own.

    The key is PII_MASTER_KEY, or the data folder's default key file. The edges pass their settings' vault.
    """
    return PersonalDataVault.from_settings(Settings.from_env())


def unseal_with(document: JsonValue, keys: dict[str, CaseKey]) -> JsonValue:
    """`document` with its sealed values opened by `keys` (ERASED where a key is missing or destroyed)."""
    return unseal_personal(document, lambda sealed: open_sealed(sealed, keys))


def _note_key_id(sealed: str, key_ids: set[str]) -> str:
    key_ids.add(_key_id_of(sealed))
    return sealed


def _key_id_of(sealed: str) -> str:
    return sealed.removeprefix(SEALED_PREFIX).split(":", 1)[0]


def open_sealed(sealed: str, keys: dict[str, CaseKey]) -> str:
    """The clear value of one sealed string, or ERASED when its key is destroyed (or unknown)."""
    key_id, _, body = sealed.removeprefix(SEALED_PREFIX).partition(":")
    key = keys.get(key_id)
    if key is None or key.cipher is None:
        return ERASED
    try:
        raw = base64.b64decode(body, validate=True)
        return key.cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], key_id.encode("ascii")).decode("utf-8")
    except (binascii.Error, ValueError, InvalidTag):
        raise PersonalDataError(f"a value sealed under key {key_id} does not open: its stored bytes changed") from None


_PERSONAL_VALUE_FIELDS = ("msisdn", "customer_name", "id_number", "partner_msisdn")


def personal_values_of(data: dict[str, Any]) -> tuple[str | None, ...]:
    """The case's own personal values in an event or a state (to find them inside free text)."""
    return tuple(map(data.get, _PERSONAL_VALUE_FIELDS))


_STATE_PERSONAL_VALUES = operator.attrgetter(*_PERSONAL_VALUE_FIELDS)


def state_personal_values(state: ComplaintState | None) -> tuple[str | None, ...]:
    """`personal_values_of(state.model_dump())`, read straight off the state without dumping all of it."""
    if state is None:
        return ()
    values: tuple[str | None, ...] = _STATE_PERSONAL_VALUES(state)
    return values
