"""Benchmarks of the exact map (38), issue 16: solved engine (before) vs FastExactEngine (after).

Run with ``OPENBLAS_NUM_THREADS=1 python -m pytest --run-benchmarks tests/benchmarks/test_bench_exact_map.py``
(``-k "not 6-"`` to skip the minutes-long N = 6 cases).  Paper parameters (Sec. VI E), eps = 0.1, tol 1e-12.
Each case runs one round; the time cases assert the map's error estimate (a fast but wrong build
cannot pass), the memory cases record the tracemalloc peak next to the up-front estimate.
"""
import tracemalloc
import warnings

import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.maps import memory

BATH = EffusionBath(0.1, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)


def _run(N, smatrix):
    chain = QubitChain(N, 4.0, 0.1)
    chain.eigensystem(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotCompletelyPositiveWarning: a property of (41)
        return collision_map(chain, BATH, COUPLING, kind="exact", smatrix=smatrix)


@pytest.mark.parametrize("smatrix", ["solve", "interpolate"])
@pytest.mark.parametrize("N", [4, 5, 6])
def test_bench_exact_map(benchmark, N, smatrix):
    """Time of one build (no tracing: tracemalloc slows the many small numpy allocations several-fold)."""
    S = benchmark.pedantic(lambda: _run(N, smatrix), rounds=1, iterations=1)
    benchmark.extra_info.update(panels=S.info["panels"], error_estimate=S.error_estimate, smatrix=S.info["smatrix"])
    assert S.error_estimate <= 1e-12


@pytest.mark.parametrize("smatrix", ["solve", "interpolate"])
@pytest.mark.parametrize("N", [4, 5])
def test_bench_exact_map_peak_memory(benchmark, N, smatrix):
    """Traced peak of one build against the up-front estimate (:func:`symcoll.maps.memory.estimate_memory`)."""
    out = {}

    def run():
        tracemalloc.start()
        out["S"] = _run(N, smatrix)
        out["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return out["S"]

    benchmark.pedantic(run, rounds=1, iterations=1)
    need = memory.estimate_memory(2**N, "exact", None)
    benchmark.extra_info.update(traced_peak_MiB=out["peak"] / 2**20, estimate_MiB=need / 2**20)
    assert out["peak"] <= need
