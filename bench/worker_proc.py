"""A benchmark worker in a process of its own: prints READY once polling, stops on SIGTERM.

    python -m bench.worker_proc --kind engine --address 127.0.0.1:7233 --task-queue q \\
        --database-url postgresql://... --partner-url http://127.0.0.1:8787

Kinds: `engine` (the real ComplaintWorkflow and every activity, as worker.py registers them),
`bare` (the bare baseline of bench.bare), `sla` (bench.sla_workflow with the real event-store and
notification activities).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import sys
import tracemalloc
from pathlib import Path

from temporalio.worker import Worker

from client.api import connect_temporal
from runtime.logging import configure_logging
from runtime.settings import load_settings_or_exit


async def _serve(args: argparse.Namespace) -> None:
    # As worker.py runs in production: JSON lines at INFO (here into the benchmark's log file).
    configure_logging("json", "INFO")
    # The driver hands its key ring over in PAYLOAD_KEYS (bench.processes.WorkerProcess).
    client = await connect_temporal(args.address, keys=load_settings_or_exit().payload_key_ring())
    options: dict[str, object] = {}
    if args.max_cached_workflows:
        options["max_cached_workflows"] = args.max_cached_workflows
    async with contextlib.AsyncExitStack() as stack:
        worker = await _build(args, client, stack, options)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        parent = os.getppid()

        async def orphaned() -> None:
            # A benchmark killed mid-run must not leave its workers polling forever.
            while True:
                if os.getppid() != parent:
                    stop.set()
                    return
                await asyncio.sleep(2)

        watchdog = asyncio.create_task(orphaned())
        async with worker:
            if args.kind == "engine":
                # As worker.py does: closed cases' histories are archived in batches by one archiver.
                from worker import start_archiver

                await start_archiver(client, args.task_queue, interval_seconds=1)
            print("READY", flush=True)
            await stop.wait()
        watchdog.cancel()


async def _build(
    args: argparse.Namespace, client: object, stack: contextlib.AsyncExitStack, options: dict[str, object]
) -> Worker:
    if args.kind == "bare":
        from bench.bare import BARE_ACTIVITIES, BARE_WORKFLOWS

        return Worker(client, task_queue=args.task_queue, workflows=BARE_WORKFLOWS,  # type: ignore[arg-type]
                      activities=BARE_ACTIVITIES, **options)  # type: ignore[arg-type]

    from store.db import connect_pool

    if not args.database_url:
        sys.exit(f"--database-url is required for --kind {args.kind}")
    pool = await connect_pool(args.database_url, max_size=10)
    stack.push_async_callback(pool.close)
    if args.kind == "sla":
        from activities.event_store import EventStoreActivities
        from activities.notifications import NotificationActivities
        from adapters.notification_outbox import PostgresOutbox
        from bench.sla_workflow import SlaTimerWorkflow
        from store.event_store import PostgresEventStore

        store = PostgresEventStore(pool)
        notifications = NotificationActivities(PostgresOutbox(pool), store)
        return Worker(
            client,  # type: ignore[arg-type]
            task_queue=args.task_queue,
            workflows=[SlaTimerWorkflow],
            activities=[
                EventStoreActivities(store).append_events,
                notifications.notify,
                notifications.save_and_notify,
            ],
            **options,  # type: ignore[arg-type]
        )

    from adapters.partner_carriers import HttpPartnerCarriers
    from bench.common import bench_issuer
    from worker import Dependencies, build_worker

    if not args.partner_url:
        sys.exit("--partner-url is required for --kind engine")
    partners = await stack.enter_async_context(HttpPartnerCarriers(args.partner_url))
    return build_worker(client, Dependencies(pool=pool, partners=partners), args.task_queue,  # type: ignore[arg-type]
                        trusted_keys=bench_issuer().trusted_keys(), **options)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=["engine", "bare", "sla"], required=True)
    parser.add_argument("--address", required=True, help="Temporal frontend host:port")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--partner-url")
    parser.add_argument("--max-cached-workflows", type=int, help="the worker's sticky cache size (SDK default 1000)")
    parser.add_argument("--trace-memory", metavar="PREFIX",
                        help="trace allocations (tracemalloc); each SIGUSR1 writes a snapshot to PREFIX-<n>.snap")
    args = parser.parse_args(argv)
    if args.trace_memory:
        _trace_memory(args.trace_memory)
    asyncio.run(_serve(args))


def _trace_memory(prefix: str) -> None:
    """Trace where memory is allocated (one frame: the allocating line), and dump a snapshot on each SIGUSR1."""
    tracemalloc.start(1)
    taken = itertools.count()

    def dump(*_: object) -> None:
        path = Path(f"{prefix}-{next(taken)}.snap")
        tracemalloc.take_snapshot().dump(f"{path}.part")
        Path(f"{path}.part").rename(path)  # whole or absent: the driver waits for the file

    signal.signal(signal.SIGUSR1, dump)


if __name__ == "__main__":
    main()
