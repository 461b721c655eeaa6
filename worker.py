"""Run a complaint worker: the workflows and their activities, on the configured task queue.

With no TEMPORAL_ADDRESS / DATABASE_URL / PARTNER_URL set, it first starts the embedded runtime
(Temporal dev server on SQLite, PostgreSQL via pgserver, the partner sandbox) in the data folder.
It seeds the billing-system sandbox's stories only into that embedded PostgreSQL (see `seeds_sandbox`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.archive import ArchiveActivities
from activities.billing import BillingActivities
from activities.cases import CaseLookupActivities
from activities.earlier_build_tasks import EarlierBuildTasks
from activities.event_store import EventStoreActivities
from activities.liveness import Heartbeats
from activities.notifications import NotificationActivities
from activities.partners import PartnerActivities
from activities.policy import PolicyActivities
from activities.reconcile import ReconcileActivities
from activities.remediation import RemediationActivities
from activities.trust import TrustActivities
from adapters.billing import PostgresBillingSystem
from adapters.notification_outbox import PostgresOutbox
from adapters.partner_carriers import HttpPartnerCarriers
from api.runtime import start_api
from auth import trust
from auth.sources import keep_trusted_keys_fresh
from auth.tokens import TrustedKeys
from client.api import connect_temporal
from delivery.relay import relay_running
from domain.policy import Policy
from ports.partners import PartnerCarriers
from runtime.embedded import EmbeddedRuntime
from runtime.heartbeat import beating
from runtime.policy import PolicySource
from runtime.process_exit import exit_without_finalizing
from runtime.service_main import run_service
from runtime.settings import DEV_MSISDN_TOKEN_KEY, Settings
from sandboxes.boss_seed import seed_boss
from store.db import connect_pool
from store.event_store import PostgresEventStore
from store.pii import PersonalDataVault
from workflows.archiver import ArchiverInput, CaseArchiverWorkflow, archiver_id
from workflows.complaint import ComplaintWorkflow
from workflows.reconciler import CaseReconcilerWorkflow, ReconcilerInput, reconciler_id
from workflows.remediation_campaign import RemediationCampaignWorkflow
from workflows.validity_follow_up import ValidityFollowUpWorkflow

log = structlog.get_logger()

# The modules of the workflows that run once per case. The sandbox imports a workflow's module afresh for every
# run it keeps, and a worker keeps a run per open case: about 48 KiB each of code and module objects, a third of a
# cached case's traced memory (`python -m bench --only memory --profile`; RSS per case fell from 348 to 230 KiB).
# Their helpers (workflows.case, the playbooks, domain) are passed through already. tests/replay replays every
# recorded history of both under the SDK's default sandbox, which imports them afresh and checks their calls.
PER_CASE_WORKFLOW_MODULES = ("workflows.complaint", "workflows.validity_follow_up")

WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "cryptography", "jwt", *PER_CASE_WORKFLOW_MODULES
    )
)
"""The workflow sandbox, with the token libraries passed through: an update validator verifies signatures
(auth.trust), and cryptography's native module cannot be imported a second time inside the sandbox (its
first refused signature would abort the process). The per-case workflows' modules are passed through too
(PER_CASE_WORKFLOW_MODULES): each run would otherwise hold a copy of its module."""


@dataclass
class Dependencies:
    """What the activities need.

    The database pool, the partner adapter and the personal-data vault (None: the one the environment configures,
    PII_MASTER_KEY or the data folder's key file).
    """

    pool: asyncpg.Pool
    partners: PartnerCarriers
    vault: PersonalDataVault | None = None
    # The key of the number tokens in search attributes (MSISDN_TOKEN_KEY): a campaign's cases carry them.
    msisdn_token_key: str = DEV_MSISDN_TOKEN_KEY


def seeds_sandbox(settings: Settings) -> bool:
    """Whether this worker seeds the billing-system sandbox's stories into its database.

    Only into the embedded PostgreSQL (no DATABASE_URL): a database in the data folder that the runtime
    made for itself, so a sandbox by construction. A DATABASE_URL names a database someone else runs,
    which may hold real accounts: the worker never writes made-up customers, bills or calls into it.
    PARTNER_URL plays no part: the partner sandbox seeds its own memory when it starts, wherever it runs.
    """
    return settings.uses_embedded_postgres


@contextlib.asynccontextmanager
async def dependencies(
    database_url: str, partner_url: str, *, seed_sandbox: bool = False
) -> AsyncIterator[Dependencies]:
    """Open the pool (schema migrated) and the partner adapter; close both after.

    With `seed_sandbox`, the seed's stories (stories/<category>.py) are first written to the database's
    billing-system sandbox (idempotent: once seeded, nothing changes).
    """
    pool = await connect_pool(database_url)
    try:
        if seed_sandbox:
            async with pool.acquire() as conn:
                await seed_boss(conn, datetime.now(UTC).date())
        async with HttpPartnerCarriers(partner_url) as partners:
            yield Dependencies(pool=pool, partners=partners)
    finally:
        await pool.close()


def build_worker(
    client: Client,
    deps: Dependencies,
    task_queue: str,
    *,
    policy: Callable[[], Policy] | None = None,
    trusted_keys: TrustedKeys | None = None,
    **worker_options: object,
) -> Worker:
    """The worker with every workflow and activity of the engine registered.

    `policy` gives the case policy new cases get (default: domain.policy's defaults under a settings version).
    `trusted_keys`, when given, are installed as the keys the update validators verify actors against
    (auth.trust; `run` installs and refreshes them itself). The set is per process, shared by its workers.
    """
    if trusted_keys is not None:
        trust.install(trusted_keys)
    default_policy = PolicySource(Settings()).current
    policies = PolicyActivities(policy or default_policy)
    reconcile = ReconcileActivities(client, deps.pool, deps.vault)
    store = PostgresEventStore(deps.pool, deps.vault)
    event_store = EventStoreActivities(store)
    billing = BillingActivities(PostgresBillingSystem(deps.pool), store)
    partners = PartnerActivities(deps.partners, store)
    notifications = NotificationActivities(PostgresOutbox(deps.pool, deps.vault), store)
    archive = ArchiveActivities(client, deps.pool)
    cases = CaseLookupActivities(deps.pool, store, deps.vault)
    remediation = RemediationActivities(deps.pool, client, deps.msisdn_token_key)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            ComplaintWorkflow,
            ValidityFollowUpWorkflow,
            CaseArchiverWorkflow,
            CaseReconcilerWorkflow,
            RemediationCampaignWorkflow,
        ],
        activities=[
            event_store.append_events,
            event_store.load_events,
            policies.current_policy,
            policies.current_calendar_days,
            TrustActivities().prove_actor,
            reconcile.reconcile_stopped_cases,
            notifications.notify,
            notifications.save_and_notify,
            partners.cancel_forwarding,
            partners.joint_verification,
            cases.open_cases_like,
            *billing.all(),
            *archive.all(),
            *remediation.all(),
        ],
        interceptors=[EarlierBuildTasks(), Heartbeats()],
        **{"workflow_runner": WORKFLOW_RUNNER, **worker_options},  # type: ignore[arg-type]
    )


async def start_reconciler(client: Client, task_queue: str, interval_seconds: int) -> None:
    """Start the task queue's reconciler unless it runs already (one per task queue, kept by Temporal)."""
    await client.start_workflow(
        CaseReconcilerWorkflow.run,
        ReconcilerInput(task_queue=task_queue, interval_seconds=interval_seconds),
        id=reconciler_id(task_queue),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Reconciler of the complaints on task queue {task_queue} (not a complaint)",
    )


def worker_identity(task_queue: str) -> str:
    """The engine's own Temporal identity: what it starts and records is the engine's, not a person's."""
    return f"engine worker {task_queue} {os.getpid()}@{socket.gethostname()}"


async def start_archiver(client: Client, task_queue: str, interval_seconds: int = 2) -> None:
    """Start the task queue's archiver unless it runs already.

    It copies closed cases' histories into PostgreSQL in batches (workflows/archiver.py).
    """
    await client.start_workflow(
        CaseArchiverWorkflow.run,
        ArchiverInput(task_queue=task_queue, interval_seconds=interval_seconds),
        id=archiver_id(task_queue),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Archiver of closed complaints' runs on task queue {task_queue} (not a complaint)",
    )


async def run(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop the worker and whatever the runtime started."""
    policy = PolicySource(settings)  # a bad policy file stops the worker before anything starts
    seed_sandbox = seeds_sandbox(settings)
    vault = PersonalDataVault.from_settings(settings)  # so does a malformed PII_MASTER_KEY
    keys = settings.payload_key_ring()  # and a missing or malformed payload key
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with EmbeddedRuntime(settings) as runtime, keep_trusted_keys_fresh(settings):
        client = await connect_temporal(
            runtime.temporal_address, settings.temporal_namespace, keys=keys,
            identity=worker_identity(settings.task_queue),
        )
        async with dependencies(runtime.database_url, runtime.partner_url, seed_sandbox=seed_sandbox) as deps:
            deps.vault = vault
            deps.msisdn_token_key = settings.msisdn_token_key
            relay = relay_running(deps.pool) if settings.worker_relay else contextlib.nullcontext()
            worker = build_worker(client, deps, settings.task_queue, policy=policy.current)
            # The heartbeat file (runtime/heartbeat.py) is what the compose healthcheck reads.
            async with relay, worker, beating("worker"):
                await start_reconciler(client, settings.task_queue, settings.reconcile_interval_seconds)
                await start_archiver(client, settings.task_queue)
                # The HTTP API beside the worker, over the same Temporal and database.
                api = await start_api(settings, runtime.temporal_address, deps.pool, vault)
                try:
                    print(f"API (TMF621 troubleTicket): {api.url}/tmf-api/troubleTicket/v5/troubleTicket  "
                          f"(OpenAPI: {api.url}/docs)", flush=True)
                    log.info("worker running", task_queue=settings.task_queue, temporal=runtime.temporal_address,
                             web_ui=runtime.ui_url, database=runtime.database_url, partner=runtime.partner_url,
                             api=api.url, relay="embedded" if settings.worker_relay else "separate")
                    await stop.wait()
                    log.info("stopping")
                finally:
                    await api.stop()


def main() -> int:
    """Run the worker (and the embedded runtime when no Temporal is configured) until Ctrl-C."""
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Configuration comes from the environment: see README.md (COMPLAINTS_DATA_DIR, TEMPORAL_ADDRESS, "
        "DATABASE_URL, PARTNER_URL, COMPLAINTS_TASK_QUEUE, LOG_FORMAT, ...). Stop with Ctrl-C.",
    )
    parser.parse_args()
    return run_service(run)


if __name__ == "__main__":
    exit_without_finalizing(main)
