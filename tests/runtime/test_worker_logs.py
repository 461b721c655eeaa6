"""What a person reads in a real worker's console log, written to a file (not a terminal).

`python worker.py` runs on the embedded runtime of a data folder of the test's own. Three of the
seed's stories are told through it: call forwarding with a partner that fails once, and the
overcharge refused then approved by a supervisor. Then its Temporal server is killed, so the SDK's
core logs warnings of its own. The log must hold one INFO line per event of note (filed,
acknowledged, approved or refused, money applied with amount and ledger id, closed), bound with
the case and run ids and with the number masked; one WARNING line for the retried partner call,
without traceback; no line over 300 characters; and no colour code anywhere.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from auth.embedded import EmbeddedIssuer
from cli.connect import client_options
from cli.demo import StoryLogins, drive
from client.api import ComplaintClient, connect_temporal
from domain.masking import mask_msisdn
from runtime.logging import MAX_CONSOLE_LINE
from runtime.ownership import ProcessIdentity
from runtime.settings import Settings
from stories import seed_stories
from stories.story import Story
from tests.runtime.worker_process import Worker, own_data_dir, worker_env

# 2026-12-02T05:05:01.641083Z [info     ] case filed                     [case] complaint_id=... run_id=...
LINE = re.compile(r"^(?P<ts>\S+Z) \[(?P<level>\w+)\s*\] (?P<event>.+?)\s+\[(?P<logger>[^\]\s]+)\](?: (?P<fields>.*))?$")
FIELD = re.compile(r"(\w+)=('(?:[^'\\]|\\.)*'|\S+)")


@dataclasses.dataclass(frozen=True)
class Line:
    level: str
    event: str
    logger: str
    fields: dict[str, str]


def parse(text: str) -> list[Line]:
    lines = []
    for raw in text.splitlines():
        match = LINE.match(raw)
        if match:
            fields = {key: value.strip("'") for key, value in FIELD.findall(match["fields"] or "")}
            lines.append(Line(match["level"], match["event"], match["logger"], fields))
    return lines


def story(stories: dict[str, Story], name: str, **changes: object) -> Story:
    """A seed story under a case id of this test's own."""
    chosen = stories[name]
    complaint_id = f"LOGS-{uuid.uuid4().hex[:8]}-{name}"
    return dataclasses.replace(chosen, intake=chosen.intake.model_copy(update={"complaint_id": complaint_id}),
                               **changes)  # type: ignore[arg-type]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with own_data_dir("logs") as folder:
        yield folder


async def test_the_console_log_of_a_real_worker(data_dir: Path) -> None:
    env = worker_env(data_dir, LOG_FORMAT="console", LOG_LEVEL="INFO")
    settings = Settings.from_env(env)
    worker = Worker(env, data_dir.parent / "worker.log").start()
    await worker.running()

    stories = {s.intake.complaint_id.rsplit("-", 1)[-1]: s for s in seed_stories()}
    forwarding = story(stories, "forwarding")
    refused = story(stories, "overcharge", approvals={"double_refund": (False, "the web bill shows the same")})
    approved = story(stories, "overcharge")
    temporal = await connect_temporal(
        f"127.0.0.1:{settings.temporal_port}", settings.temporal_namespace, keys=settings.payload_key_ring()
    )
    client = ComplaintClient(temporal, options=client_options(settings), token_key=settings.msisdn_token_key)
    partner = f"http://127.0.0.1:{settings.partner_port}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{partner}/admin/faults", json={"fail_next": 1}) as response:
            response.raise_for_status()
    logins = StoryLogins.from_issuer(EmbeddedIssuer.open(data_dir))  # the issuer whose keys the worker trusts
    for told in (forwarding, refused, approved):  # one at a time: the overcharge stories share a customer
        await drive(client, told, logins, timeout=60)

    # Temporal goes away under the worker: the SDK's core warns about the calls it retries.
    claim = json.loads((data_dir / "run" / "temporal.json").read_text())
    temporal_server = ProcessIdentity.from_json(claim["service"])
    assert temporal_server.is_running()
    os.kill(temporal_server.pid, signal.SIGKILL)
    for _ in range(100):
        if "gRPC call" in worker.log_text():
            break
        await asyncio.sleep(0.2)
    assert worker.process is not None
    worker.process.send_signal(signal.SIGTERM)
    assert await worker.exit_code(60) == 0

    text = worker.log_text()
    raw_lines = text.splitlines()
    assert "\x1b" not in text, "colour codes in a log that is not a terminal"
    too_long = [line for line in raw_lines if len(line) > MAX_CONSOLE_LINE]
    assert not too_long, too_long[:3]
    lines = parse(text)
    assert len(lines) > 15, text[-3000:]
    core = [line for line in lines if line.logger.startswith("temporalio.core") or "gRPC call" in line.event]
    assert core and all(line.level == "warning" for line in core), text[-3000:]

    # --- one INFO line per event of note, bound with the case and run ids, the number masked ---
    of_note = {"case filed", "case acknowledged", "adjustment approved", "adjustment refused",
               "adjustment applied", "case escalated", "case closed"}
    noted = [line for line in lines if line.event in of_note]
    assert all(line.level == "info" and line.logger == "case" for line in noted)
    assert all(line.fields.get("run_id") for line in noted)
    counts = Counter((line.fields.get("complaint_id"), line.event) for line in noted)
    for told in (forwarding, refused, approved):
        cid = told.intake.complaint_id
        assert counts[(cid, "case filed")] == counts[(cid, "case acknowledged")] == counts[(cid, "case closed")] == 1
    assert counts[(refused.intake.complaint_id, "adjustment refused")] == 1
    assert counts[(approved.intake.complaint_id, "adjustment approved")] == 1
    assert counts[(approved.intake.complaint_id, "adjustment applied")] == 1
    assert counts[(approved.intake.complaint_id, "adjustment refused")] == 0

    filed = [line for line in noted if line.event == "case filed"]
    for told, line in zip((forwarding, refused, approved), filed, strict=True):
        assert line.fields["complaint_id"] == told.intake.complaint_id
        assert line.fields["msisdn"] == mask_msisdn(told.intake.msisdn)
        assert told.intake.msisdn not in text
    applied = next(line for line in noted if line.event == "adjustment applied")
    assert int(applied.fields["amount_fen"]) > 0 and applied.fields["ledger_id"].startswith("ADJ-")
    refusal = next(line for line in noted if line.event == "adjustment refused")
    assert refusal.fields["reason"] == "the web bill shows the same"

    # --- the retried partner call: one WARNING line with attempt and reason, no traceback ---
    retries = [line for line in lines if line.event == "attempt failed, will retry"]
    assert len(retries) == 1, [line for line in lines if line.level == "warning"]
    retry = retries[0]
    assert retry.level == "warning" and retry.logger == "activity"
    assert retry.fields["complaint_id"] == forwarding.intake.complaint_id
    assert retry.fields["attempt"] == "1" and retry.fields["activity"] in ("cancel_forwarding", "joint_verification")
    partner_number = mask_msisdn(forwarding.intake.partner_msisdn or "")
    expected = f"PartnerUnavailable: china_unicom number {partner_number}: the partner answered HTTP 503"
    assert retry.fields["reason"] == expected
    assert "Traceback" not in text
    # The SDK's own wording, and its context dict, are gone.
    assert "Completing activity as failed" not in text and "'activity_id':" not in text
    print(f"{len(raw_lines)} lines, longest {max(map(len, raw_lines))} characters")
