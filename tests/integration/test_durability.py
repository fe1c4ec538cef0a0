"""Every acknowledged write survives `kill -9` (issue 12): concurrent writers on six write paths, two kills at
random moments, restarts on the same data dir, and each acknowledged write looked up through the client API.
The long, configurable version is bench/durability.py."""
import os
import random
import sys
import unittest

from durability import DurabilityRun
from harness import HeraldServer


class DurabilityTest(unittest.TestCase):
    def test_acknowledged_writes_survive_kill_9(self):
        seed = int(os.environ.get("HERALD_DURABILITY_SEED") or random.randrange(1 << 32))
        rng = random.Random(seed)
        hs = HeraldServer()
        try:
            hs.start()
            run = DurabilityRun(hs, writers_per_kind=1, seed=seed, log=lambda *a: print(*a, file=sys.stderr))
            run.setup()
            for _ in range(2):
                run.round(rng.uniform(2.0, 5.0))
                hs.start()
                run.check()
            run.check(everything=True, logins=0)
            summary = run.summary()
            print(f"durability (HERALD_DURABILITY_SEED={seed}): {summary}", file=sys.stderr)
            self.assertEqual(run.problems, [], summary)
            self.assertEqual(run.unexpected, [], summary)
            for kind, n in summary["by_kind"].items():
                self.assertGreater(n, 0, f"no acknowledged {kind} write to check: {summary}")
            self.assertEqual(hs.stop(), 0)
            run.integrity_check()
            self.assertEqual(run.problems, [])
        finally:
            hs.cleanup()


if __name__ == "__main__":
    unittest.main()
