"""Benchmark of the main job: the default ``symcoll paper`` computation (goal: under a minute on 2 cores)."""
from symcoll.paper import PAPER_PARAMETERS, QUICK_PARAMETERS, run_paper


def test_bench_paper_default(benchmark):
    run = benchmark.pedantic(run_paper, args=(dict(PAPER_PARAMETERS),), kwargs={"progress": False}, rounds=1, iterations=1)
    assert len(run.runs) >= 12


def test_bench_paper_quick(benchmark):
    run = benchmark.pedantic(run_paper, args=(dict(QUICK_PARAMETERS),), kwargs={"progress": False}, rounds=3, iterations=1)
    assert len(run.runs) >= 6
