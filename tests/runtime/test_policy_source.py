"""The worker's policy source: a versioned policy file, or the settings; checked at start, re-read on change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from domain.cases import Category, Priority
from domain.policy import settings_policy
from runtime.policy import PolicySource, read_policy_file
from runtime.settings import ConfigError, Settings


def write(path: Path, data: object, mtime: float) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_without_a_file_the_settings_are_the_policy() -> None:
    settings = Settings.from_env({"APPROVAL_LIMIT_FEN": "1200", "SLA_WARN_PERCENT": "70"})
    policy = PolicySource(settings).current()
    assert policy == settings_policy(1200, 70, 7)
    assert policy.version.startswith("settings-")


def test_a_policy_file_gives_its_version_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    write(path, {
        "version": "2026-12-01",
        "approval_limit_fen": 3000,
        "sla_overrides": {"forwarding_cancel": {"urgent": {
            "acknowledge_within": "PT1M", "resolve_within": "PT10M", "remind_customer_after": "PT10M",
            "close_unconfirmed_after": "PT2H", "re_escalate_after": 300,
        }}},
    }, 1_000)
    policy = PolicySource(Settings(policy_file=path)).current()
    assert (policy.version, policy.approval_limit_fen, policy.warn_percent) == ("2026-12-01", 3000, 80)
    case = policy.for_case(Category.FORWARDING_CANCEL, Priority.URGENT)
    assert case.sla.resolve_within == timedelta(minutes=10) and case.sla.re_escalate_after == timedelta(minutes=5)


def test_a_new_version_is_picked_up_and_a_broken_edit_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    write(path, {"version": "v1", "approval_limit_fen": 1000}, 1_000)
    source = PolicySource(Settings(policy_file=path))
    assert source.current().version == "v1"
    write(path, {"version": "v2", "approval_limit_fen": 2000}, 2_000)
    assert (source.current().version, source.current().approval_limit_fen) == ("v2", 2000)
    path.write_text("{not json", encoding="utf-8")
    os.utime(path, (3_000, 3_000))
    assert source.current().version == "v2"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not JSON"),
        (json.dumps({"approval_limit_fen": 1000}), "version"),
        (json.dumps({"version": "v1", "approval_limit_fen": -1}), "approval_limit_fen"),
        (json.dumps({"version": "v1", "sla_overrides": {"no_such_category": {}}}), "sla_overrides"),
    ],
)
def test_an_unusable_file_is_refused_at_start_in_one_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        PolicySource(Settings(policy_file=path))
    message = str(caught.value)
    assert message.startswith(f"COMPLAINTS_POLICY_FILE={str(path)!r}") and expected in message
    assert "\n" not in message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        read_policy_file(tmp_path / "nowhere.json")


def test_the_worker_refuses_to_start_on_a_bad_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"version": "v1", "warn_percent": 120}), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "worker.py"],
        check=False,
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": "/usr/bin:/bin", "COMPLAINTS_POLICY_FILE": str(path), "COMPLAINTS_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"config error: COMPLAINTS_POLICY_FILE={str(path)!r}: warn_percent")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == [path]  # nothing started, nothing written
