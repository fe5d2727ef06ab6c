"""Crash soak: the kill -9 test of tests/test_durability.py, for many more cycles.

    python benches/crash_soak.py [CYCLES] [SEED]

Each cycle runs producers and consumers against a real `sqsfast serve`, kills it with SIGKILL at a
random moment, starts it again on the same data directory and checks that every acknowledged send
is there (and keeps its id). Exits non-zero on the first lost message, printing the seed that
replays the run. Needs the package and the test dependencies installed (`pip install .[test]`).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path


def main() -> int:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else random.randrange(1 << 30)
    tests = Path(__file__).resolve().parent.parent / "tests"
    env = {**os.environ, "SQSFAST_CRASH_CYCLES": str(cycles), "SQSFAST_CRASH_SEED": str(seed)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    cmd += [str(tests / "test_durability.py"), "-k", "kill_9"]
    print(f"crash soak: {cycles} cycles, seed {seed}", flush=True)
    return subprocess.call(cmd, cwd=tests, env=env)


if __name__ == "__main__":
    sys.exit(main())
