"""The master key of personal data: from PII_MASTER_KEY, or the embedded default in the data folder;
a malformed one stops everything with one line naming the variable, never the value."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from runtime.settings import ConfigError, Settings
from store.pii import MASTER_KEY_FILE, PersonalDataError, PersonalDataVault, load_master_key

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

    first = load_master_key(settings)

    path = tmp_path / "data" / MASTER_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_master_key(settings) == first and len(first) == 32
    assert load_master_key(Settings(data_dir=tmp_path / "data", pii_master_key=KEY_A)) == b"a" * 32


def test_a_damaged_default_key_file_names_the_variable_and_the_file(tmp_path: Path) -> None:
    (tmp_path / MASTER_KEY_FILE).write_text("truncated\n", encoding="ascii")
    with pytest.raises(ConfigError) as caught:
        load_master_key(Settings(data_dir=tmp_path))
    assert str(caught.value).startswith(f"PII_MASTER_KEY is unset and {tmp_path / MASTER_KEY_FILE} (a 9-character")


async def test_another_master_key_cannot_open_the_customer_keys(audit_db) -> None:  # type: ignore[no-untyped-def]
    right, wrong = PersonalDataVault(b"a" * 32), PersonalDataVault(b"b" * 32)
    async with audit_db.pool.acquire() as conn:
        key = await right.key_for_new_case(conn, "CASE-A", "13905710001")
        assert key.cipher is not None
        with pytest.raises(PersonalDataError, match="does not open with this PII_MASTER_KEY"):
            await wrong.key_of_case(conn, "CASE-A")
    assert right.customer_ref("13905710001") != wrong.customer_ref("13905710001")
