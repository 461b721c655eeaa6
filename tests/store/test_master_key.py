"""The master key of personal data: from PII_MASTER_KEY, or the embedded default in the data folder;
a malformed one stops everything with one line naming the variable, never the value."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from runtime.settings import ConfigError, Settings
from store.pii import MASTER_KEY_FILE, PersonalDataError, PersonalDataVault, load_master_keys

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


@pytest.mark.parametrize("value", ["hunter2", base64.b64encode(b"x" * 16).decode(), "not base64 at all!" * 3])
def test_a_malformed_key_is_refused_in_one_line_without_echoing_it(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"PII_MASTER_KEY": value})
    message = str(caught.value)
    assert message.startswith("PII_MASTER_KEY (a ")
    assert "32 random bytes in base64" in message and "\n" not in message
    assert value not in message


def test_the_embedded_default_key_is_made_once_private_to_its_owner(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    first = load_master_keys(settings)

    path = tmp_path / "data" / MASTER_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_master_keys(settings) == first and len(first) == 1 and len(first[0]) == 32
    assert load_master_keys(Settings(data_dir=tmp_path / "data", pii_master_key=KEY_A)) == [b"a" * 32]
    assert load_master_keys(Settings(pii_master_key=f"{KEY_B},{KEY_A}")) == [b"b" * 32, b"a" * 32]


def test_a_damaged_default_key_file_names_the_variable_and_the_file(tmp_path: Path) -> None:
    (tmp_path / MASTER_KEY_FILE).write_text("truncated\n", encoding="ascii")
    with pytest.raises(ConfigError) as caught:
        load_master_keys(Settings(data_dir=tmp_path))
    assert str(caught.value).startswith(f"PII_MASTER_KEY is unset and {tmp_path / MASTER_KEY_FILE} (a 9-character")


def test_the_second_of_two_keys_is_named_when_malformed() -> None:
    with pytest.raises(ConfigError, match=r"^PII_MASTER_KEY \(key 2\) \(a 7-character value"):
        Settings.from_env({"PII_MASTER_KEY": f"{KEY_A},hunter2"})


async def test_keys_open_after_a_rotation_and_not_without_their_master_key(audit_db) -> None:  # type: ignore[no-untyped-def]
    old, rotated, other = (PersonalDataVault([b"a" * 32]), PersonalDataVault([b"b" * 32, b"a" * 32]),
                           PersonalDataVault([b"b" * 32]))
    async with audit_db.pool.acquire() as conn:
        before = await old.key_for_new_case(conn, "CASE-A", "13905710001")
        assert before.cipher is not None
        sealed = before.seal("赵先生")

        opened = await rotated.key_of_case(conn, "CASE-A")  # the same customer's key, wrapped by the old one
        assert opened is not None and opened.key_id == before.key_id and opened.cipher is not None
        assert await rotated.unseal(conn, [sealed]) == ["赵先生"]
        after = await rotated.key_for_new_case(conn, "CASE-B", "13666778765")  # new keys: the new master
        wrapped_by = await conn.fetchval("SELECT master_key_id FROM customer_keys WHERE key_id = $1", after.key_id)
        assert wrapped_by == rotated.master_key_id != old.master_key_id

        with pytest.raises(PersonalDataError, match="which PII_MASTER_KEY does not hold"):
            await other.key_of_case(conn, "CASE-A")
