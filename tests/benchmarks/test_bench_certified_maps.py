"""Benchmarks of the certified (Arb) path with real certified maps (issue #12 targets).

Run: ``OPENBLAS_NUM_THREADS=1 python -m pytest tests/benchmarks/test_bench_certified_maps.py --run-benchmarks -s``.

Targets: certified exact map N = 3, eps = 0.1, radius <= 1e-12 at ~20 digits in <= 30 s, global and
local <= 10 s; certified evolution of N = 3 at 141 times to t = 1e5 with radius <= 1e-9 in <= 30 s per
run (map included); ``symcoll paper --certify --quick`` <= 3 min.
"""
import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map

BATH = EffusionBath(0.1, 0.1, 0.5)
CP = DeltaCoupling(50)
TIMES141 = np.logspace(-2, 5, 141)


@pytest.mark.parametrize("kind", ["exact", "global", "local"])
@pytest.mark.parametrize("eps", [0.1, 5e-5])
def test_bench_certified_map_n3(benchmark, kind, eps):
    ch = QubitChain(3, 4.0, eps)
    cm = benchmark.pedantic(lambda: collision_map(ch, BATH, CP, kind, certified=True), rounds=1, iterations=1)
    benchmark.extra_info.update({"ball_radius": cm.ball_radius, "error_bound": cm.error_bound,
                                 "panels": cm.info["panels"], "gauss_nodes": cm.info["gauss_nodes"]})
    assert cm.error_bound <= 1e-12


@pytest.mark.parametrize("kind", ["exact", "global", "local"])
@pytest.mark.parametrize("eps", [0.1, 5e-5])
def test_bench_certified_evolution_n3_real_map(benchmark, kind, eps):
    """Map (as ``paper --certify`` builds it) + 141-time evolution to 1e5 with target radius 1e-9."""
    ch = QubitChain(3, 4.0, eps)
    rho0 = np.zeros((8, 8))
    rho0[0, 0] = 1

    def run():
        dps, tol = (40, 1e-32) if kind == "exact" else (None, None)
        cm = collision_map(ch, BATH, CP, kind, certified=True, dps=dps, tol=tol)
        return Lindbladian(ch, cm, 1.0).evolve(rho0, TIMES141, target=1e-9)

    ev = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update({"max_radius": float(ev.error_bound.max()),
                                 "block_methods": str(ev.diagnostics["block_methods"])})
    assert ev.error_bound.max() <= 1e-9


def test_bench_paper_certify_quick(benchmark, tmp_path):
    from symcoll.cli import main

    rc = benchmark.pedantic(lambda: main(["paper", "--quick", "--certify", "--out", str(tmp_path / "q")]),
                            rounds=1, iterations=1)
    assert rc == 0
