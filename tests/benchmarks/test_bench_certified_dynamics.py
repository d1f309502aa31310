"""Benchmarks of symcoll.certified.dynamics (``pytest tests/benchmarks/test_bench_certified_dynamics.py --run-benchmarks -s``).

Issue #12 target: certified evolution of N = 3 at 141 log-spaced times to t = 1e5 with radius
<= 1e-9 in <= 30 s.  The certified map is the TEST DOUBLE of tests/_certified_double.py (not a
certified map): radius 1e-30 (easy case) and 1e-12 (a realistic certified-map radius: the
evolution rebuilds the double until the target is met).  Medians in ``extra_info``.
"""
import os
import sys

import numpy as np
import pytest

from symcoll import Lindbladian, QubitChain

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from _certified_double import CertifiedMapDouble  # noqa: E402

TIMES141 = np.concatenate([[0.0], np.logspace(-2, 5, 140)])


@pytest.mark.parametrize("eps, radius", [(0.1, 1e-30), (5e-5, 1e-30), (0.1, 1e-12), (5e-5, 1e-12)])
def test_bench_certified_evolution_n3_141_times(benchmark, eps, radius):
    ch = QubitChain(3, 4.0, eps)
    dbl = CertifiedMapDouble.build(ch, "exact", radius=radius)
    rho0 = np.zeros((8, 8))
    rho0[0, 0] = 1

    def run():
        return Lindbladian(ch, dbl, 1.0).evolve(rho0, TIMES141, target=1e-9)

    ev = benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.extra_info.update({"max_radius": float(ev.error_bound.max()),
                                 "map_rebuilds": ev.metadata["map_rebuilds"],
                                 "block_methods": str(ev.diagnostics["block_methods"])})
    assert ev.error_bound.max() <= 1e-9


@pytest.mark.parametrize("eps", [0.1, 5e-5])
def test_bench_certified_steady_state_n3(benchmark, eps):
    ch = QubitChain(3, 4.0, eps)
    dbl = CertifiedMapDouble.build(ch, "exact", radius=1e-12)
    ss = benchmark.pedantic(lambda: Lindbladian(ch, dbl, 1.0).steady_state(target=1e-10), rounds=3, iterations=1)
    benchmark.extra_info.update({"max_radius": float(ss.error_bound), "map_rebuilds": ss.metadata["map_rebuilds"]})
    assert ss.error_bound <= 1e-10 + 1e-15
