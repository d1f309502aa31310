"""Benchmarks of the identity oracles (run with ``pytest --run-benchmarks``).

The full eps sweep of the claim after (66) (X_12 = O(eps), N = 2, exact map (38) at 30 digits)
lives here because it takes ~30 s; ``symcoll verify`` runs three of its points.
"""
import pytest

from symcoll import QubitChain
from symcoll.oracles import quad38 as q38
from symcoll.symbolic import coherence as co
from symcoll.symbolic.sumrules import LocalMap0, _INTEGRAL_CACHE

EPS_SWEEP = ("1e-1", "1e-2", "1e-3", "1e-4", "1e-5", "1e-6", "1e-7", "1e-8")


def test_bench_coherence_sweep(benchmark):
    runs, slopes = benchmark.pedantic(co.coherence_sweep, args=(EPS_SWEEP,), rounds=1, iterations=1)
    for r in runs:
        print(f"eps={r['eps']:.0e} X_12={complex(r['X']):.8e} rho1={complex(r['rho1']):.10e} err={float(r['quad_err']):.1e}")
    print("slopes", [f"{float(s):.6f}" for s in slopes])
    # the slope tends to 1 as eps -> 0 (the eps^{3/2} real part dies out)
    devs = [abs(s - 1) for s in slopes]
    assert devs[-1] < 1e-3
    assert devs[-1] <= devs[2]


def test_bench_quad38_entry(benchmark):
    q = q38.Quad38(QubitChain(2, "4", "0.5"), "50", "0.1", "0.1", "0.5")

    def run():
        q._cache.clear()
        return q.entry(1, 2, 0, 0)

    v, err = benchmark(run)
    assert err < 1e-25


def test_bench_local_map_integrals(benchmark):
    def run():
        _INTEGRAL_CACHE.clear()
        return LocalMap0(3)

    L = benchmark(run)
    assert abs(L.G[(0, 0)] + L.U - 1) < 1e-25


def test_bench_coherence_N3(benchmark):
    """N = 3 (band 1: three levels), X_12 of the exact map at eps = 1e-4 and 1e-6 (~25 s each)."""
    runs, slopes = benchmark.pedantic(co.coherence_sweep, args=(("1e-4", "1e-6"),), kwargs={"N": 3},
                                      rounds=1, iterations=1)
    for r in runs:
        print(f"N=3 eps={r['eps']:.0e} X_12={complex(r['X']):.8e} rho1={complex(r['rho1']):.10e}")
    print("slope", float(slopes[0]))
    assert abs(slopes[0] - 1) < 1e-2
    a, b = (abs(r["rho1"]) for r in runs)
    assert abs(a / b - 1) < 0.2
