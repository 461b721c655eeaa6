"""The command line with bytes that are not UTF-8 in its arguments: a clear error, a non-zero exit,
and nothing filed. Run as real subprocesses against the suite's Temporal dev server."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from codec.aes_gcm import key_ring_env
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.conftest import TEST_PAYLOAD_KEYS
from tests.identity import prepare_logins

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INVALID = b"\xff\xfe\xc3\x28"  # not UTF-8 in any reading

VALID: dict[str, bytes] = {
    "--category": b"forwarding_cancel",
    "--msisdn": FORWARDING_CUSTOMER.msisdn.encode(),
    "--name": FORWARDING_CUSTOMER.name.encode(),
    "--description": "电话打不进来".encode(),
    "--id-number": FORWARDING_CUSTOMER.id_number.encode(),
    "--partner-msisdn": FORWARDING_CUSTOMER.partner_msisdn.encode(),
}


def _logged_in_data_dir() -> str:
    """A data folder with the tests' cached logins: `file` acts as the logged-in agent."""
    folder = Path(tempfile.mkdtemp(prefix="complaints-cli-input-"))
    prepare_logins(folder)
    return str(folder)


_DATA_DIR = _logged_in_data_dir()


def _starter(
    env: WorkflowEnvironment, task_queue: str, *args: bytes | str
) -> subprocess.CompletedProcess[str]:
    environment = {
        "COMPLAINTS_DATA_DIR": _DATA_DIR,
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "COMPLAINTS_TASK_QUEUE": task_queue,
        "LANG": "C.UTF-8",
        **key_ring_env(TEST_PAYLOAD_KEYS),
    }
    argv: list[bytes | str] = [sys.executable, "starter.py", *args]
    done = subprocess.run(
        argv, cwd=PROJECT_ROOT, env=environment, capture_output=True, timeout=60, check=False
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    )


def _file_args(case_id: str | bytes, **replace: bytes) -> list[bytes | str]:
    values = {**VALID, **replace}
    args: list[bytes | str] = ["file", "--id", case_id]
    for option, value in values.items():
        args += [option, value]
    return args


async def _exists(env: WorkflowEnvironment, workflow_id: str) -> bool:
    try:
        await env.client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


@pytest.mark.parametrize("option", list(VALID))
async def test_invalid_utf8_in_any_argument_of_file_is_refused_and_files_nothing(
    dev_env: WorkflowEnvironment, option: str
) -> None:
    case_id = f"CLI-{uuid.uuid4().hex[:10]}"
    value = VALID[option][:4] + INVALID + VALID[option][4:]
    done = _starter(dev_env, f"cli-{uuid.uuid4().hex[:8]}", *_file_args(case_id, **{option: value}))

    assert done.returncode != 0
    assert done.stderr.startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    field = option.removeprefix("--").replace("-", "_").replace("name", "customer_name")
    assert field in done.stderr or option.removeprefix("--") in done.stderr, done.stderr
    assert not await _exists(dev_env, case_id)


async def test_invalid_utf8_in_the_case_id_is_refused(dev_env: WorkflowEnvironment) -> None:
    done = _starter(dev_env, f"cli-{uuid.uuid4().hex[:8]}", *_file_args(b"CLI-" + INVALID))
    assert done.returncode != 0 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr


async def test_the_same_command_with_valid_arguments_does_file(dev_env: WorkflowEnvironment) -> None:
    """The control: the refusals above are about the bytes, not about a command that never files."""
    case_id = f"CLI-{uuid.uuid4().hex[:10]}"
    done = _starter(dev_env, f"cli-{uuid.uuid4().hex[:8]}", *_file_args(case_id))
    assert done.returncode == 0, done.stderr
    assert f"filed {case_id}" in done.stdout
    assert await _exists(dev_env, case_id)
    await dev_env.client.get_workflow_handle(case_id).terminate("CLI test: no worker runs this queue")


@pytest.mark.parametrize(
    "command",
    [
        ["note", "{case}", b"a note " + INVALID],
        ["answer", "{case}", "confirm-resolution", b"yes" + INVALID],
        ["withdraw", "{case}", "--reason", INVALID],
    ],
    ids=["note", "answer", "withdraw"],
)
async def test_invalid_utf8_in_a_command_on_a_case_is_refused_cleanly(
    dev_env: WorkflowEnvironment, command: list[bytes | str]
) -> None:
    case_id = f"CLI-{uuid.uuid4().hex[:10]}"
    args = [case_id if part == "{case}" else part for part in command]
    done = _starter(dev_env, f"cli-{uuid.uuid4().hex[:8]}", *args)
    assert done.returncode != 0
    assert done.stderr.startswith("error: "), done.stderr[-1500:]
    assert "Traceback" not in done.stderr
