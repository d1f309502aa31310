"""Benchmarks of ``symcoll transport`` (issue 14 targets): the default grid (13 eps x 3 kinds, N = 3,
with the equal-temperature, linear-response and Levy-Kosloff side runs): <= 60 s on 2 cores;
N = 4 with the exact map (38) only, same grid: <= 5 min.

Run with ``OPENBLAS_NUM_THREADS=1 python -m pytest tests/benchmarks/test_bench_transport.py --run-benchmarks``.
"""
from symcoll.transport_run import evaluate_claims, resolve, run_transport


def test_bench_transport_default(benchmark):
    run = benchmark.pedantic(run_transport, args=(resolve(),), kwargs={"progress": False}, rounds=1, iterations=1)
    assert len(run.eps) == 13 and set(run.grid) == {"exact", "global", "local"}
    claims = {c["number"]: c["verdict"] for c in evaluate_claims(run)}
    assert claims[1] == claims[2] == claims[5] == "PASS"


def test_bench_transport_n4_exact(benchmark):
    run = benchmark.pedantic(run_transport, args=(resolve(N=4, kinds=["exact"]),), kwargs={"progress": False},
                             rounds=1, iterations=1)
    assert len(run.grid["exact"]) == 13 and run.params["N"] == 4
    claims = {c["number"]: c["verdict"] for c in evaluate_claims(run)}
    assert claims[1] == claims[2] == "PASS"
