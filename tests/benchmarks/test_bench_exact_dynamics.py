"""Benchmark of the exact map's dynamics at N = 6 (issue 16 target: evolution to 1e5 <= 2 min).

Run: ``OPENBLAS_NUM_THREADS=1 python -m pytest tests/benchmarks/test_bench_exact_dynamics.py --run-benchmarks -s``.
Results (seconds, peak RSS in MiB, the 1-minute load average at the end) go to
``symcoll-out/bench_exact_dynamics.json``.

The exact map (38) of N = 6 (d = 64) is dense: (71) is a 4096 x 4096 matrix without the Bohr-class
sectors of the narrow kinds, so :class:`~symcoll.dynamics.Lindbladian` diagonalises its invariant blocks
densely.  Timed after the map is built (the map, ~1 min, is reported separately): the steady state, the
spectral gap and the evolution from |0..0> at 141 times (0 and 140 log-spaced in [1e-2, 1e5]).

Independent checks: the state at t = 1e5 against the steady state (bordered solve) within the two error
estimates, and the states at t = 0.1, 1, 10 against ``scipy.sparse.linalg.expm_multiply`` on the dense
superoperator (Krylov/Taylor, a different method; ||L|| t <= ~1e3 there).
"""
import os
import resource
import sys
import time

import numpy as np
import scipy.sparse.linalg as spla

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map

sys.path.insert(0, os.path.dirname(__file__))
from _records import merge_records  # noqa: E402

BATH = EffusionBath(0.1, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)
TIMES141 = np.concatenate([[0.0], np.logspace(-2, 5, 140)])
RESULTS = {}


def _save():
    merge_records("bench_exact_dynamics.json", RESULTS)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def test_bench_exact_N6_evolution(benchmark):
    ch = QubitChain(6, 4.0, 0.1)
    S, t_map = _timed(lambda: collision_map(ch, BATH, COUPLING, kind="exact"))
    d = ch.dim
    rho0 = np.zeros((d, d))
    rho0[0, 0] = 1

    def job():
        L = Lindbladian(ch, S, 1.0)
        ss, t_ss = _timed(L.steady_state)
        gap, t_gap = _timed(L.spectral_gap)
        ev, t_ev = _timed(lambda: L.evolve(rho0, TIMES141))
        return L, ss, gap, ev, (t_ss, t_gap, t_ev)

    L, ss, gap, ev, parts = benchmark.pedantic(job, rounds=1, iterations=1)
    # independent: Krylov/Taylor action of the dense superoperator at three moderate times (eigenbasis,
    # column stacking, as Lindbladian.superoperator documents)
    A = np.asarray(L.superoperator_float(), dtype=complex)
    x0 = np.asarray(rho0, dtype=complex).reshape(-1, order="F")
    checks = {}
    for t in (0.1, 1.0, 10.0):
        i = int(np.argmin(np.abs(TIMES141 - t)))
        ti = float(TIMES141[i])
        ref = spla.expm_multiply(A * ti, x0).reshape(d, d, order="F")
        checks[ti] = (float(np.abs(ev.states[i] - ref).max()), float(ev.error.total[i]))
    stat = float(np.abs(ev.states[-1] - np.asarray(ss.state)).max())
    RESULTS["exact_N6"] = dict(
        map_build_s=t_map, total_s=benchmark.stats.stats.median, steady_s=parts[0], gap_s=parts[1],
        evolve_s=parts[2], peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        load_1min=os.getloadavg()[0], gap=gap.value, gap_error_estimate=gap.error.total,
        steady_error_estimate=ss.error.total, evolve_max_error_estimate=float(ev.error.total.max()),
        state_1e5_vs_steady=stat, expm_multiply_checks={str(k): v for k, v in checks.items()},
        map_error_estimate=S.error_estimate)
    _save()
    for t, (err, est) in checks.items():
        assert err <= est + 1e-12, (t, err, est)  # expm_multiply's own accuracy ~1e-13: slack named, not tuned
    assert stat <= ev.error.total[-1] + ss.error.total
