"""Checking that nobody changed a case: hash chains, chain heads, archived histories, and their agreement.

Three records of a case are compared, each able to show a change the others would miss:
- the event chain: each event's hash covers its content and the hash before it (a changed,
  removed or reordered event breaks it);
- the chain head kept apart from the read model (`chain_heads`): events removed from the
  end leave a valid but shorter chain, which only the head shows;
- the archived Temporal histories: each has a digest, and the events the workflow saved are in
  them (the inputs of its `append_events` activities), so a chain forged end to end still
  disagrees with what the workflow wrote.

With `deep`, the evidence too: every billing record an adjustment cites is fetched again from the
billing system and its content hash compared with the one the case recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from adapters.billing import PostgresBillingSystem
from audit.archive_store import ArchivedRun, PostgresArchiveStore, history_digest
from audit.temporal_history import EncryptedHistory, saved_domain_events
from codec.aes_gcm import KeyRing, PayloadDecryptionError
from domain.citations import Citation
from domain.events import parse_event
from domain.personal_data import ERASED, same_or_erased
from ports.billing import BillingSystem
from ports.event_store import ChainBreak, StoredChain, check_head, find_chain_break
from store.event_store import PostgresEventStore
from store.pii import PersonalDataVault, default_vault
from store.rows import model_from_row


@dataclass(frozen=True)
class ArchiveProblem:
    """An archived run whose history changed, or that disagrees with the event store."""

    complaint_id: str
    run_id: str
    problem: str


@dataclass(frozen=True)
class EvidenceProblem:
    """A cited billing record that is gone, or whose content no longer hashes to what the case cited."""

    complaint_id: str
    seq: int
    adjustment_id: str
    citation: str  # kind:record_id
    problem: str


@dataclass
class VerifyReport:
    cases: int = 0
    events: int = 0
    runs: int = 0
    citations: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    archive_problems: list[ArchiveProblem] = field(default_factory=list)
    evidence_problems: list[EvidenceProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no chain break, archive problem or evidence problem was found."""
        return not self.breaks and not self.archive_problems and not self.evidence_problems


@dataclass(frozen=True)
class CitedBy:
    """One citation as a case's event made it."""

    complaint_id: str
    seq: int
    adjustment_id: str
    citation: Citation


_CITING_TYPES = ("AdjustmentProposed", "AdjustmentApplied")


def citations_in(complaint_id: str, payloads: Sequence[dict[str, Any]]) -> list[CitedBy]:
    """The citations of a case's adjustment events (opened), each record once (as first cited).

    A citation whose record id named the customer's number reads `[erased]` after erasure: there is
    nothing left to fetch it by, so it is not checked.
    """
    found: dict[tuple[str, str], CitedBy] = {}
    for data in payloads:
        if data.get("type") not in _CITING_TYPES:
            continue
        for raw in data.get("citations") or []:
            if raw.get("record_id") == ERASED:
                continue
            citation = Citation.model_validate(raw)
            found.setdefault(
                (citation.key, citation.sha256),
                CitedBy(complaint_id, int(data["seq"]), str(data["adjustment_id"]), citation),
            )
    return list(found.values())


async def check_citations(billing: BillingSystem, cited: Sequence[CitedBy]) -> list[EvidenceProblem]:
    """Fetch each cited record again and compare its content hash with the cited one."""
    records = await billing.cited_records([c.citation for c in cited])
    problems = []
    for by, record in zip(cited, records, strict=True):
        if record.content is None:
            problem = "the billing system no longer holds this record"
        elif not record.matches:
            problem = f"its content changed: sha256 {record.sha256} now, {by.citation.sha256} when cited"
        else:
            continue
        problems.append(EvidenceProblem(by.complaint_id, by.seq, by.adjustment_id, by.citation.key, problem))
    return problems


Progress = Callable[[VerifyReport], None]


class UnknownCase(LookupError):
    """No events and no head for that case id."""


def check_run_digest(run: ArchivedRun) -> ArchiveProblem | None:
    """A problem when the archived run's history no longer hashes to its recorded digest, else None."""
    assert run.history is not None
    if history_digest(run.history) != run.history_sha256:
        return ArchiveProblem(run.complaint_id, run.run_id, "archived history does not match its sha256")
    return None


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    return parse_event(data).model_dump(mode="json")


def compare_with_runs(
    complaint_id: str, stored: dict[int, dict[str, Any]], runs: Sequence[ArchivedRun], keys: KeyRing | None = None
) -> list[ArchiveProblem]:
    """Compare the events each archived run saved with the store's events (opened), by seq.

    A run's events are read from its history, decrypted with the payload `keys`.

    A value erased in the store matches whatever the run saved: the history keeps its own copy, which
    the erasure cannot reach (see the README on personal data at rest).
    """
    problems: list[ArchiveProblem] = []
    for run in runs:
        try:
            run_events = list(saved_domain_events(run, keys))
        except (EncryptedHistory, PayloadDecryptionError) as error:
            problems.append(ArchiveProblem(complaint_id, run.run_id, f"its history cannot be read: {error}"))
            continue
        for data in run_events:
            seq = data.get("seq")
            try:
                saved = _normalised(data)
            except ValueError as error:
                problems.append(ArchiveProblem(complaint_id, run.run_id, f"event {seq} in its history: {error}"))
                break
            if seq not in stored:
                problems.append(ArchiveProblem(
                    complaint_id, run.run_id,
                    f"event {seq} ({data.get('type')}) that this run saved is missing from the event store",
                ))
                break
            if not same_or_erased(_normalised(stored[seq]), saved):
                problems.append(ArchiveProblem(
                    complaint_id, run.run_id, f"event {seq} in the event store differs from what this run saved"
                ))
                break
    return problems


async def verify_case(
    pool: asyncpg.Pool,
    complaint_id: str,
    *,
    deep: bool = False,
    vault: PersonalDataVault | None = None,
    keys: KeyRing | None = None,
) -> VerifyReport:
    """Every check on one case.

    Its chain and head, its archived runs' digests and their events (decrypted with the payload `keys`), and with `deep`
    the billing records its adjustments cite. The chain is checked on the stored (sealed) payloads; the comparisons with
    runs and records on the opened ones.
    """
    store = PostgresEventStore(pool, vault or default_vault())
    chain = await store.chain(complaint_id)
    runs = await PostgresArchiveStore(pool).runs(complaint_id, with_history=True)
    if not chain.links and chain.head is None and not runs:
        raise UnknownCase(f"no case {complaint_id} in the event store")
    report = VerifyReport(cases=1, events=len(chain.links), runs=len(runs))
    if broken := _chain_break(chain):
        report.breaks.append(broken)
    report.archive_problems.extend(problem for run in runs if (problem := check_run_digest(run)))
    stored = _opened_by_seq(chain)
    report.archive_problems.extend(compare_with_runs(complaint_id, stored, runs, keys))
    if deep:
        cited = citations_in(complaint_id, list(stored.values()))
        report.citations = len(cited)
        report.evidence_problems.extend(await check_citations(PostgresBillingSystem(pool), cited))
    return report


def _chain_break(chain: StoredChain) -> ChainBreak | None:
    head = chain.head
    return find_chain_break(chain.complaint_id, chain.links) or check_head(
        chain.complaint_id, chain.links, head.last_seq if head else None, head.last_hash if head else None
    )


def _opened_by_seq(chain: StoredChain) -> dict[int, dict[str, Any]]:
    return {link.seq: link.opened or {} for link in chain.links}


async def verify_all(
    pool: asyncpg.Pool,
    *,
    deep: bool = False,
    progress: Progress | None = None,
    progress_every: float = 2.0,
    vault: PersonalDataVault | None = None,
    keys: KeyRing | None = None,
) -> VerifyReport:
    """Every case's chain and head, then every archived run's digest, streaming through both.

    Memory holds one case (or one run) at a time; the chains are read from one snapshot, so appends made
    meanwhile cannot look like breaks. With `deep`, each archived run's saved events are also compared
    with the event store (one more read per archived case), and every billing record an adjustment cites
    is fetched again and its hash checked. `progress` is called with the running totals at most every
    `progress_every` seconds.
    """
    vault = vault or default_vault()
    store = PostgresEventStore(pool, vault)
    report = VerifyReport()
    citing: list[tuple[str, dict[str, Any]]] = []  # (case, sealed adjustment event), opened at the end
    last_report = time.monotonic()

    def tick() -> None:
        nonlocal last_report
        if progress is not None and time.monotonic() - last_report >= progress_every:
            last_report = time.monotonic()
            progress(report)

    async for chain in store.chains():
        report.cases += 1
        report.events += len(chain.links)
        if broken := _chain_break(chain):
            report.breaks.append(broken)
        if deep:
            # A cheap text filter first; citations_in checks the type properly.
            citing.extend(
                (chain.complaint_id, json.loads(link.payload))
                for link in chain.links
                if any(t in link.payload for t in _CITING_TYPES)
            )
        tick()

    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        async for row in conn.cursor(
            """SELECT complaint_id, run_id, workflow_type, status, started_at, closed_at, continued_from_run_id,
                      history_length, history_sha256, history::text AS history
               FROM temporal_run_archive ORDER BY complaint_id, started_at, run_id""",
            prefetch=20,
        ):
            run = model_from_row(ArchivedRun, row, history=json.loads(row["history"]))
            report.runs += 1
            if problem := check_run_digest(run):
                report.archive_problems.append(problem)
            elif deep:
                stored = _opened_by_seq(await store.chain(run.complaint_id))
                report.archive_problems.extend(compare_with_runs(run.complaint_id, stored, [run], keys))
            tick()
    if deep:
        opened_citing = await vault.unseal(pool, [data for _, data in citing])
        by_case: dict[str, list[dict[str, Any]]] = {}
        for (complaint_id, _), data in zip(citing, opened_citing, strict=True):
            by_case.setdefault(complaint_id, []).append(data)
        cited = [by for complaint_id, payloads in by_case.items() for by in citations_in(complaint_id, payloads)]
        report.citations = len(cited)
        report.evidence_problems.extend(await check_citations(PostgresBillingSystem(pool), cited))
    return report
