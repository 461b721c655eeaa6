"""The projection reader of the event-store benchmark, in a process of its own so its polling never
waits on the writers' event loop: `python -m bench.projection_reader URL POLL_SECONDS`.

Reads the case ids (a JSON list) from the first line of stdin, prints `ready`, polls the read model
until stdin says `stop`, then prints a JSON list of [complaint_id, last_seq, time.monotonic()] for
every new last_seq it saw. CLOCK_MONOTONIC is one clock for every process on the machine.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import asyncpg


async def main(url: str, poll: float) -> None:
    loop = asyncio.get_running_loop()
    ids: list[str] = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    stop = loop.run_in_executor(None, sys.stdin.readline)
    conn = await asyncpg.connect(url)
    seen = dict.fromkeys(ids, 0)
    visible: list[tuple[str, int, float]] = []
    print("ready", flush=True)
    try:
        while True:
            done = stop.done()
            rows = await conn.fetch(
                "SELECT complaint_id, last_seq FROM complaints WHERE complaint_id = ANY($1::text[])", ids)
            now = time.monotonic()
            for row in rows:
                if row["last_seq"] > seen[row["complaint_id"]]:
                    seen[row["complaint_id"]] = row["last_seq"]
                    visible.append((row["complaint_id"], row["last_seq"], now))
            if done:
                break
            await asyncio.sleep(poll)
    finally:
        await conn.close()
    print(json.dumps(visible), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
