"""The AES-GCM payload codec and its key ring: encryption, key ids, rotation, tampering, key files."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from codec.aes_gcm import (
    ENCODING,
    KEY_ID_METADATA,
    AesGcmCodec,
    KeyRing,
    KeyRingError,
    PayloadDecryptionError,
    encode_key,
    encrypted_data_converter,
    new_key,
    parse_key_list,
)
from codec.key_file import load_or_create_key_file, read_key_file, rotate_key_file
from domain.cases import Category

PERSONAL = "赵先生 330106198001011235 13905710001"


def _plain(text: str = PERSONAL) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_a_payload_leaves_encrypted_and_names_its_key() -> None:
    ring = KeyRing.generate("k1")
    [sealed] = await AesGcmCodec(ring).encode([_plain()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"k1"
    assert set(sealed.metadata) == {"encoding", KEY_ID_METADATA}  # the original encoding is inside too
    for needle in ("赵先生", "330106198001011235", "13905710001", "json/plain"):
        assert needle.encode() not in sealed.SerializeToString()
    [opened] = await AesGcmCodec(ring).decode([sealed])
    assert opened == _plain()


async def test_the_same_payload_encrypts_differently_each_time() -> None:
    codec = AesGcmCodec(KeyRing.generate())
    first, second = await codec.encode([_plain(), _plain()])
    assert first.data != second.data  # a fresh nonce per payload


async def test_after_rotation_old_payloads_still_decode_and_new_ones_use_the_new_key() -> None:
    under_a = KeyRing.generate("key-a")
    [old] = await AesGcmCodec(under_a).encode([_plain("written under A")])
    rotated = under_a.with_active("key-b", new_key())
    [new] = await AesGcmCodec(rotated).encode([_plain("written under B")])
    assert new.metadata[KEY_ID_METADATA] == b"key-b"
    assert await AesGcmCodec(rotated).decode([old, new]) == [_plain("written under A"), _plain("written under B")]
    # A reader without key A (it was dropped too early) says which key it lacks.
    only_b = KeyRing(keys={"key-b": rotated.keys["key-b"]}, active="key-b")
    with pytest.raises(PayloadDecryptionError, match="'key-a'"):
        await AesGcmCodec(only_b).decode([old])


async def test_an_altered_or_relabelled_payload_is_refused() -> None:
    ring = KeyRing(keys={"k1": new_key(), "k2": new_key()}, active="k1")
    [sealed] = await AesGcmCodec(ring).encode([_plain()])
    flipped = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(PayloadDecryptionError, match="integrity"):
        await AesGcmCodec(ring).decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID_METADATA: b"k2"}, data=sealed.data)
    with pytest.raises(PayloadDecryptionError):
        await AesGcmCodec(ring).decode([relabelled])


async def test_plain_payloads_of_older_histories_pass_unchanged() -> None:
    assert await AesGcmCodec(KeyRing.generate()).decode([_plain()]) == [_plain()]


async def test_the_data_converter_round_trips_pydantic_models_through_the_codec() -> None:
    converter = encrypted_data_converter(KeyRing.generate())
    [payload] = await converter.encode([{"category": Category.FORWARDING_CANCEL, "name": "赵先生"}])
    assert payload.metadata["encoding"] == ENCODING
    assert "赵先生".encode() not in payload.data
    [value] = await converter.decode([payload], [dict])
    assert value == {"category": "forwarding_cancel", "name": "赵先生"}


def test_key_lists_parse_and_refuse_without_showing_keys() -> None:
    a, b = new_key(), new_key()
    assert parse_key_list(f"a:{encode_key(a)}, b:{encode_key(b)}") == {"a": a, "b": b}
    short = encode_key(b"x" * 16)
    for text, expected in [
        ("", "no key given"),
        ("a", "id:base64"),
        (f"a:{short}", "16 bytes; AES-256 needs 32"),
        ("a:not base64!", "not valid base64"),
        (f"a:{encode_key(a)},a:{encode_key(b)}", "appears twice"),
        (f"bad id:{encode_key(a)}", "key id"),
    ]:
        with pytest.raises(KeyRingError, match=expected) as caught:
            parse_key_list(text)
        assert short not in str(caught.value) and encode_key(a) not in str(caught.value)


def test_a_ring_refuses_an_active_key_it_does_not_hold() -> None:
    with pytest.raises(KeyRingError, match="active key 'b'"):
        KeyRing(keys={"a": new_key()}, active="b")


def test_the_key_file_is_created_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "data" / "payload-keys.json"
    ring = load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(path) == ring  # the same key on every later start
    rotated = rotate_key_file(path, datetime(2027, 1, 1, tzinfo=UTC))
    assert rotated.active == "k20270101T000000" and ring.active in rotated.keys
    assert read_key_file(path) == rotated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_file_readable_by_others_or_malformed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "payload-keys.json"
    load_or_create_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyRingError, match="chmod 600"):
        read_key_file(path)
    os.chmod(path, 0o600)
    path.write_text('{"active": "k1", "keys": {"k1": "c2hvcnQ="}}')
    with pytest.raises(KeyRingError, match="5 bytes"):
        read_key_file(path)
    path.write_text("not json")
    with pytest.raises(KeyRingError, match="must be JSON"):
        read_key_file(path)
