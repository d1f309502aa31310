"""Benchmarks of symcoll.dynamics (run with ``pytest tests/benchmarks/test_bench_dynamics.py --run-benchmarks -s``).

* N = 3 (paper parameters, exact map (38), eps = 0.1): 50 log-spaced times up to 1e5 after the
  map is built (goal < 10 ms), and the same job through QuTiP's mesolve (atol = rtol = 1e-10);
  both compared with the 30-digit path; speed ratio in ``extra_info``.
* N = 4, 5, 6 evolution times (global map (45), block-diagonal L).
* Honesty matrix: the float64 bound against 30-digit maps + propagation (N = 2, three maps,
  eps in {0.1, 1e-3, 5e-5}) and against the 30-digit propagation of the same float map
  (N = 3 exact map).  Results are also written to ``symcoll-out/bench_dynamics.json``.
"""
import json
import os
import time

import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map

BETA, M, G, SIGMA_P, H = 0.1, 0.1, 50.0, 0.5, 4.0
TIMES50 = np.logspace(-2, 5, 50)
RESULTS = {}


def _save():
    os.makedirs("symcoll-out", exist_ok=True)
    with open(os.path.join("symcoll-out", "bench_dynamics.json"), "w") as f:
        json.dump(RESULTS, f, indent=1, default=float)


def ground(d):
    r = np.zeros((d, d))
    r[0, 0] = 1
    return r


@pytest.fixture(scope="module")
def paper3():
    ch = QubitChain(3, H, 0.1)
    m = collision_map(ch, EffusionBath(BETA, M, SIGMA_P), DeltaCoupling(G), kind="exact")
    t0 = time.perf_counter()
    ref = Lindbladian(ch, m, 1.0, dps=30).evolve(ground(8), TIMES50).states_float()
    RESULTS["N3_reference_seconds_dps30"] = time.perf_counter() - t0
    return ch, m, ref


def _job(ch, m):
    return Lindbladian(ch, m, 1.0).evolve(ground(8), TIMES50)


def test_bench_evolve_N3(benchmark, paper3):
    ch, m, ref = paper3
    ev = benchmark(_job, ch, m)
    err = np.max(np.abs(ev.states - ref), axis=(1, 2))
    benchmark.extra_info.update(max_error_vs_dps30=float(err.max()), max_rounding_estimate=float(ev.error["rounding"].value.max()))
    RESULTS["N3_symcoll"] = dict(median_s=benchmark.stats.stats.median, max_err=float(err.max()),
                                 err_le_rounding_plus_energies=bool(np.all(err <= ev.error["rounding"].value + ev.error["energies"].value)),
                                 bound_at_1e5=float(ev.error_estimate[-1]))
    _save()
    assert np.all(err <= ev.error_estimate)


def test_bench_mesolve_N3(benchmark, paper3):
    qutip = pytest.importorskip("qutip")
    ch, m, ref = paper3
    L = Lindbladian(ch, m, 1.0)
    q = L.to_qutip()
    tt = np.concatenate([[0.0], TIMES50])
    opts = {"atol": 1e-10, "rtol": 1e-10, "nsteps": 10**9}
    res = benchmark.pedantic(qutip.mesolve, args=(q, qutip.Qobj(ground(8)), tt), kwargs={"options": opts}, rounds=1, iterations=1)
    states = np.array([s.full() for s in res.states[1:]])
    err = np.max(np.abs(states - ref), axis=(1, 2))
    reps = []
    for _ in range(20):
        t0 = time.perf_counter()
        _job(ch, m)
        reps.append(time.perf_counter() - t0)
    ratio = benchmark.stats.stats.median / float(np.median(reps))
    benchmark.extra_info.update(max_error_vs_dps30=float(err.max()), speed_ratio_mesolve_over_symcoll=ratio)
    RESULTS["N3_mesolve"] = dict(seconds=benchmark.stats.stats.median, max_err=float(err.max()),
                                 err_at_times=[float(e) for e in err[::7]], speed_ratio=ratio,
                                 symcoll_median_s=float(np.median(reps)))
    _save()


@pytest.mark.parametrize("N", [4, 5, 6])
def test_bench_evolve_large(benchmark, N):
    ch = QubitChain(N, H, 0.1)
    m = collision_map(ch, EffusionBath(BETA, M, SIGMA_P), DeltaCoupling(G), kind="global", tol=1e-11)
    d = 2**N
    ev = benchmark.pedantic(lambda: Lindbladian(ch, m, 1.0).evolve(ground(d), TIMES50), rounds=3 if N < 6 else 1, iterations=1)
    tr = max(abs(np.trace(r) - 1) for r in ev.states)
    RESULTS[f"N{N}_global"] = dict(median_s=benchmark.stats.stats.median, blocks=ev.diagnostics["blocks"],
                                   max_block=ev.diagnostics["max_block"], trace_defect=float(tr),
                                   bound_at_1e5=float(ev.error_estimate[-1]))
    _save()
    assert tr <= ev.error_estimate[-1] * d


HONESTY_T = np.array([1.0, 1e2, 1e4, 1e5])


@pytest.mark.parametrize("eps", [0.1, 1e-3, 5e-5])
@pytest.mark.parametrize("kind", ["exact", "global", "local"])
def test_honesty_full_map_N2(benchmark, kind, eps):
    """float64 map + propagation against a 30-digit map (tol 1e-20) + 30-digit propagation."""
    ch = QubitChain(2, H, eps)
    bath, cp = EffusionBath(BETA, M, SIGMA_P), DeltaCoupling(G)
    mf = collision_map(ch, bath, cp, kind=kind)
    try:
        mm = benchmark.pedantic(collision_map, args=(ch, bath, cp), kwargs=dict(kind=kind, dps=30, tol=1e-20), rounds=1, iterations=1)
    except ValueError as exc:  # e.g. an ambiguous Bohr equality in the maps module
        RESULTS[f"honesty_N2_{kind}_{eps}"] = dict(error=str(exc))
        _save()
        pytest.skip(f"30-digit {kind} map not available: {exc}")
    a = Lindbladian(ch, mf, 1.0).evolve(ground(4), HONESTY_T)
    b = Lindbladian(ch, mm, 1.0).evolve(ground(4), HONESTY_T)
    err = np.max(np.abs(a.states - b.states_float()), axis=(1, 2))
    RESULTS[f"honesty_N2_{kind}_{eps}"] = dict(err=list(err), bound=list(a.error_estimate), ratio=list(err / a.error_estimate),
                                              map_err_float=mf.error_estimate, map_err_mp=mm.error_estimate)
    _save()
    assert np.all(err <= a.error_estimate)


@pytest.mark.parametrize("eps", [0.1, 1e-3, 5e-5])
def test_honesty_propagation_exact_N3(benchmark, eps):
    """Same float64 exact map (38), N = 3: float64 propagation vs the 30-digit propagation."""
    ch = QubitChain(3, H, eps)
    m = collision_map(ch, EffusionBath(BETA, M, SIGMA_P), DeltaCoupling(G), kind="exact")
    a = Lindbladian(ch, m, 1.0).evolve(ground(8), HONESTY_T)
    b = benchmark.pedantic(lambda: Lindbladian(ch, m, 1.0, dps=30).evolve(ground(8), HONESTY_T), rounds=1, iterations=1)
    err = np.max(np.abs(a.states - b.states_float()), axis=(1, 2))
    est = a.error["rounding"].value + a.error["energies"].value
    RESULTS[f"honesty_N3_exact_prop_{eps}"] = dict(err=list(err), estimate=list(est), bound=list(a.error_estimate),
                                                  cond_V=a.diagnostics["cond_V"])
    _save()
    assert np.all(err <= est)
