"""Benchmarks of symcoll.sweep (run with ``pytest tests/benchmarks/test_bench_sweep.py --run-benchmarks -s``).

Targets of issue 15:

* per-point overhead of the machinery <= 50 ms: wall time per point of a sweep of 100 trivial tasks
  (a user task returning one number; and one returning 21 variables, as many as the stationary
  task) on 2 local workers, cluster start-up excluded (``client=``), store creation included;
* parallel speedup >= 1.7 on 2 workers (the issue's "parallel efficiency"): the same 16 points of
  the exact map (38) on 1 and on 2 workers, ``wall(1) / wall(2)``; N = 4 (``SWEEP_BENCH_N=3`` for a
  quicker run on a busy machine);
* phase diagram (a) on its default 13 x 9 grid at N = 3 <= 5 min (cluster start included).

Medians over ``SWEEP_BENCH_REPEAT`` runs (default 3; 1 for the phase diagram) are printed and
written to ``symcoll-out/bench_sweep.json``.
"""
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from symcoll.sweep import sweep  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPEAT = int(os.environ.get("SWEEP_BENCH_REPEAT", "3"))
N_EXACT = int(os.environ.get("SWEEP_BENCH_N", "4"))
RESULTS = {}


def _save():
    os.makedirs("symcoll-out", exist_ok=True)
    with open(os.path.join("symcoll-out", "bench_sweep.json"), "w") as f:
        json.dump(RESULTS, f, indent=1)


def trivial(model):
    return {"x": float(model.chain.eps)}


def trivial_wide(model):
    """As many variables as the stationary task writes (21), all trivial."""
    e = float(model.chain.eps)
    out = {f"x{i}": e * i for i in range(20)}
    out["v"] = (("level",), np.full(8, e))
    return out


def _cluster(n):
    os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=40)
    return cluster, distributed.Client(cluster)


@pytest.mark.parametrize("task", [trivial, trivial_wide], ids=["1var", "21vars"])
def test_overhead_per_point(task):
    """Wall time per point of 100 trivial points (one variable, or 21 like the stationary task)."""
    cluster, client = _cluster(2)
    try:
        walls = []
        for _ in range(REPEAT):
            with tempfile.TemporaryDirectory() as d:
                t = time.perf_counter()
                r = sweep({"eps": [0.01 * (i + 1) for i in range(100)]}, task, out=os.path.join(d, "o.zarr"),
                          fixed={"N": 1}, client=client)
                walls.append((time.perf_counter() - t) / 100)
                assert r.done == 100
    finally:
        client.close()
        cluster.close()
    med = statistics.median(walls)
    load = os.getloadavg()[0]
    RESULTS[f"overhead_per_point_s_{task.__name__}"] = {"median": med, "runs": walls, "load_1min": load}
    _save()
    print(f"\nper-point overhead (100 trivial points, {task.__name__}, 2 workers): median {med * 1e3:.1f} ms "
          f"(target <= 50 ms); load average {load:.1f}")


def test_parallel_speedup():
    grid = {"eps": [0.1 * 0.7 ** i for i in range(16)]}
    fixed = {"N": N_EXACT, "kind": "exact"}
    walls = {}
    for n in (1, 2):
        cluster, client = _cluster(n)
        try:
            ws = []
            for _ in range(REPEAT):
                with tempfile.TemporaryDirectory() as d:
                    t = time.perf_counter()
                    r = sweep(grid, "stationary", out=os.path.join(d, "p.zarr"), fixed=fixed, client=client)
                    ws.append(time.perf_counter() - t)
                    assert r.done == 16
            walls[n] = statistics.median(ws)
        finally:
            client.close()
            cluster.close()
    speedup = walls[1] / walls[2]
    RESULTS["parallel_speedup"] = {"N": N_EXACT, "points": 16, "wall_1": walls[1], "wall_2": walls[2],
                                   "speedup": speedup}
    _save()
    print(f"\n16 points, exact map N = {N_EXACT}: wall {walls[1]:.1f} s on 1 worker, {walls[2]:.1f} s on 2: "
          f"speedup {speedup:.2f} (target >= 1.7)")


def test_phase_diagram_a():
    from symcoll.phase_diagram import phase_diagram

    os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        res, png = phase_diagram("a", d, workers=2)
        wall = time.perf_counter() - t
        assert res.done == 117 and os.path.getsize(png) > 0
    RESULTS["phase_diagram_a"] = {"grid": "13 x 9", "N": 3, "wall_s": wall}
    _save()
    print(f"\nphase diagram (a), 13 x 9, N = 3, 2 workers: {wall:.0f} s (target <= 300 s)")
