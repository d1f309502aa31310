"""Benchmark of the main job: the default ``symcoll paper`` computation (goal: under a minute on 2 cores)."""
from symcoll.paper import run_paper
from symcoll.parameters import PAPER_PARAMETERS, QUICK_PARAMETERS


def test_bench_paper_default(benchmark):
    run = benchmark.pedantic(run_paper, args=(PAPER_PARAMETERS,), kwargs={"progress": False}, rounds=1, iterations=1)
    assert len(run.runs) == 15


def test_bench_paper_quick(benchmark):
    run = benchmark.pedantic(run_paper, args=(QUICK_PARAMETERS,), kwargs={"progress": False}, rounds=3, iterations=1)
    assert len(run.runs) == 6
