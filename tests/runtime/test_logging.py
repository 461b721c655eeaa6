"""Logging: structured lines, ISO UTC timestamps, and no phone or ID number in clear anywhere.

The configuration is process-wide, so the end-to-end checks run in a subprocess.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.logging import configure_logging, mask_personal_numbers

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PHONE = "13666778765"
OTHER_PHONE = "13967341014"
ID_NUMBER = "330106198001011235"
CLEAR = (PHONE, OTHER_PHONE, ID_NUMBER, "13567383861", "13819408540", "13905710001")

_SCRIPT = f"""
import logging, structlog
from runtime.logging import configure_logging

configure_logging({{fmt!r}}, "INFO")
configure_logging({{fmt!r}}, "INFO")  # twice: must not add a second handler
log = structlog.get_logger("complaints.test")
log.info("customer {PHONE} called about the bill", msisdn="{OTHER_PHONE}", as_int={OTHER_PHONE},
         id_number="{ID_NUMBER}", nested={{{{"numbers": ["+86 135-6738-3861"]}}}}, order="2024011512345678901")
log.debug("below the level {PHONE}")
logging.getLogger("temporalio.workflow").warning("stdlib %s", "13819408540", extra={{{{"holder": "{ID_NUMBER}"}}}})
try:
    raise ValueError("no forwarding on 13905710001")
except ValueError:
    log.exception("partner call failed")
"""


def _run(fmt: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(fmt=fmt)],
        check=False,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # logs go to standard error
    return result.stderr


def test_json_lines_hold_no_full_number() -> None:
    output = _run("json")
    for number in CLEAR:
        assert number not in output
    records = [json.loads(line) for line in output.splitlines()]
    assert [r["event"] for r in records] == [
        "customer 136****8765 called about the bill",
        "stdlib 138****8540",
        "partner call failed",
    ]
    first, stdlib, failed = records
    assert first["msisdn"] == "139****1014"
    assert first["as_int"] == "139****1014"
    assert first["id_number"] == "3301**********1235"
    assert first["nested"] == {"numbers": ["+86 135-****-3861"]}
    assert first["order"] == "2024011512345678901"  # not a personal number: untouched
    assert first["level"] == "info" and first["logger"] == "complaints.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", first["timestamp"])
    assert stdlib["level"] == "warning" and stdlib["logger"] == "temporalio.workflow"
    assert stdlib["holder"] == "3301**********1235"
    assert "ValueError: no forwarding on 139****0001" in failed["exception"]


def test_console_lines_hold_no_full_number() -> None:
    output = _run("console")
    for number in CLEAR:
        assert number not in output
    assert "customer 136****8765 called about the bill" in output
    assert "below the level" not in output
    assert "ValueError: no forwarding on 139****0001" in output
    # One line per event (plus the traceback): a second configure did not double the handler.
    assert output.count("called about the bill") == 1


def test_the_processor_masks_every_value_in_place_of_the_original() -> None:
    event = {"event": f"call {PHONE}", "count": 3, "flag": True, "ids": (ID_NUMBER,), "none": None}
    assert mask_personal_numbers(None, "info", event) == {
        "event": "call 136****8765",
        "count": 3,
        "flag": True,
        "ids": ["3301**********1235"],
        "none": None,
    }


@pytest.mark.parametrize(("fmt", "level"), [("xml", "INFO"), ("json", "LOUD")])
def test_bad_arguments_are_refused(fmt: str, level: str) -> None:
    with pytest.raises(ValueError):
        configure_logging(fmt, level)
