#!/usr/bin/python3
"""Durability under repeated `kill -9` (not a speed benchmark): the long form of
tests/integration/test_durability.py.

Concurrent writers (room messages, state events, registration + invite + join, global and per-room account
data, to-device messages, device logins + one-time key uploads) run against the real `herald` on durable
SQLite; at a random moment the server gets SIGKILL, is restarted on the same data dir, and every write
acknowledged with a 200 is looked up through the client API; the database must pass PRAGMA integrity_check.
At the end every acknowledged write of the whole run is checked once more (and /messages is paged through).

usage: bench/durability.py [--herald build/herald] [--kills 10] [--min-seconds 5] [--max-seconds 30]
                           [--writers-per-kind 2] [--seed N]
Builds nothing: give it a binary (Release: scripts/build.sh build -DCMAKE_BUILD_TYPE=Release -DHERALD_TESTS=OFF).
Exit status 1 when an acknowledged write is missing or wrong, or the integrity check fails.
"""
import argparse
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402
from durability import DurabilityRun  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--herald", default=os.environ.get("HERALD_BIN") or os.path.join(ROOT, "build", "herald"))
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--min-seconds", type=float, default=5.0, help="shortest time writers run before a kill")
    p.add_argument("--max-seconds", type=float, default=30.0, help="longest time writers run before a kill")
    p.add_argument("--writers-per-kind", type=int, default=2)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--keep", action="store_true", help="keep the data dir")
    args = p.parse_args()

    harness.HERALD_BIN = os.path.abspath(args.herald)
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    hs = harness.HeraldServer()
    started = time.time()
    try:
        hs.start()
        run = DurabilityRun(hs, writers_per_kind=args.writers_per_kind, seed=seed,
                            log=lambda *a: print(*a, flush=True))
        run.setup()
        print(f"herald {harness.HERALD_BIN}, data {hs.dir}, seed {seed}, "
              f"{args.writers_per_kind} writer(s) per kind", flush=True)
        for i in range(1, args.kills + 1):
            before = run.acked_total()
            seconds = rng.uniform(args.min_seconds, args.max_seconds)
            run.round(seconds)
            t = time.time()
            hs.start()
            restart = time.time() - t
            t = time.time()
            problems = len(run.check())
            print(f"kill {i}/{args.kills} after {seconds:.1f} s: {run.acked_total() - before} writes acknowledged "
                  f"(total {run.acked_total()}), restart {restart:.2f} s, checked in {time.time() - t:.1f} s, "
                  f"lost or wrong so far: {problems}", flush=True)
        t = time.time()
        run.check(everything=True, logins=20)
        print(f"final check of every acknowledged write: {time.time() - t:.1f} s", flush=True)
        status = hs.stop()
        run.integrity_check()
        summary = run.summary()
        db_mb = os.path.getsize(os.path.join(hs.dir, "homeserver.db")) / 1e6
        print(f"summary after {time.time() - started:.0f} s: {summary}; clean stop exit {status}; "
              f"database {db_mb:.1f} MB", flush=True)
        for line in run.unexpected[:20]:
            print("unexpected answer:", line)
        return 0 if not run.problems and status == 0 else 1
    finally:
        if args.keep:
            print("data kept in", hs.dir)
            if hs.proc and hs.proc.poll() is None:
                hs.proc.kill()
        else:
            hs.cleanup()


if __name__ == "__main__":
    sys.exit(main())
