"""Benchmark (pytest --run-benchmarks): wall time of ``symcoll verify`` (issue 13 target: median < 30 s
on the 2-core CI machine), with ``--jobs 1`` and ``--jobs 2``.

Each round is a fresh ``python -m symcoll verify`` process (imports included, as a user runs it);
the seconds of every derivation, parsed from the command's ``time per derivation`` line, are kept
in ``extra_info`` so that the benchmark JSON says where the time goes.
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 30.0


def _verify(jobs):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "symcoll", "verify", "--jobs", str(jobs)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("time per derivation (s): "))
    per = dict((n, float(s)) for n, s in re.findall(r"(\w+) (\d+\.\d+)", line.split(": ", 1)[1].split(";")[0]))
    return wall, per


@pytest.mark.parametrize("jobs", [1, 2])
def test_bench_verify(benchmark, jobs):
    runs = []
    benchmark.pedantic(lambda: runs.append(_verify(jobs)), rounds=3, iterations=1)
    walls = sorted(w for w, _ in runs)
    median = walls[len(walls) // 2]
    benchmark.extra_info["median_wall_s"] = median
    benchmark.extra_info["per_derivation_s"] = {n: sorted(r[1][n] for r in runs)[len(runs) // 2] for n in runs[0][1]}
    assert median < TARGET_SECONDS, (f"symcoll verify --jobs {jobs}: median {median:.1f} s >= {TARGET_SECONDS} s; "
                                     f"per derivation: {benchmark.extra_info['per_derivation_s']}")
