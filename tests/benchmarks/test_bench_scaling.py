"""Benchmark of ``symcoll scaling`` (issue 16): the default run (N = 2..6, exact up to N = 5, global and
local compact at every N, eps = 0.1 and 1e-3), one round.

Run: ``OPENBLAS_NUM_THREADS=1 python -m pytest tests/benchmarks/test_bench_scaling.py --run-benchmarks -s``.
Per-point seconds (map, dynamics) go to ``extra_info``.
"""
from symcoll.scaling import resolve, run_scaling


def test_bench_scaling_default(benchmark):
    data = benchmark.pedantic(run_scaling, args=(resolve(),), kwargs={"progress": False}, rounds=1, iterations=1)
    done = [r for r in data["points"] if r["status"] == "done"]
    skipped = [r for r in data["points"] if r["status"] == "skipped"]
    assert len(done) == 2 * (4 + 5 + 5) and all(r["kind"] == "exact" and r["N"] == 6 for r in skipped)
    benchmark.extra_info.update({f"{r['kind']} N={r['N']} eps={r['eps']:g}": r["seconds"] for r in done})
    # the relaxation time grows with N for every kind and eps (the figure's message)
    for kind in ("exact", "global", "local"):
        for eps in (0.1, 1e-3):
            T = [r["relaxation_time"]["value"] for r in done if (r["kind"], r["eps"]) == (kind, eps)]
            assert T == sorted(T), (kind, eps, T)
