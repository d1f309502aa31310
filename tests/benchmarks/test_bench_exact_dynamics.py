"""Benchmark of the exact map's dynamics at N = 6 (issue 16 target: evolution to 1e5 <= 2 min).

Run: ``OPENBLAS_NUM_THREADS=1 python -m pytest tests/benchmarks/test_bench_exact_dynamics.py --run-benchmarks -s``.
Results (seconds, peak RSS in MiB, the 1-minute load average at the end) go to
``symcoll-out/bench_exact_dynamics.json``.

The exact map (38) of N = 6 (d = 64) is dense: (71) is a 4096 x 4096 matrix without the Bohr-class
sectors of the narrow kinds, so :class:`~symcoll.dynamics.Lindbladian` diagonalises its invariant blocks
densely.  Timed after the map is built (the map, ~1 min, is reported separately): the steady state, the
spectral gap and the evolution from |0..0> at 141 times (0 and 140 log-spaced in [1e-2, 1e5]).

N = 7 (``SYMCOLL_BENCH_N7=1``, long: the map ~19 min with two worker threads, the dynamics ~40 min, 12.3 GiB)
times the same steps on the real-form spectrum (:class:`~symcoll.dynamics.lean_spectrum.LeanSpectrum`), checked
against a Taylor series at a short time and the steady state at 1e5.

Independent checks: the state at t = 1e5 against the steady state (bordered solve) within the two error
estimates, and the states at t = 0.1, 1, 10 against ``scipy.sparse.linalg.expm_multiply`` on the dense
superoperator (Krylov/Taylor, a different method; ||L|| t <= ~1e3 there).
"""
import os
import resource
import sys
import time

import numpy as np
import pytest
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


def _ground(d):
    """|0..0><0..0| (the eigenbasis ground state)."""
    rho0 = np.zeros((d, d))
    rho0[0, 0] = 1
    return rho0


def _dynamics(ch, S, rho0, spectrum_first=False):
    """The timed job: ``(L, steady state, gap, evolution at TIMES141, (seconds of each step))``; with
    ``spectrum_first`` the spectrum is timed on its own before the gap (which then comes from it)."""
    L = Lindbladian(ch, S, 1.0)
    ss, t_ss = _timed(L.steady_state)
    t_spec = _timed(L.spectrum)[1] if spectrum_first else None
    gap, t_gap = _timed(L.spectral_gap)
    ev, t_ev = _timed(lambda: L.evolve(rho0, TIMES141))
    return L, ss, gap, ev, (t_ss, t_gap, t_ev, t_spec)


def test_bench_exact_N6_evolution(benchmark):
    ch = QubitChain(6, 4.0, 0.1)
    S, t_map = _timed(lambda: collision_map(ch, BATH, COUPLING, kind="exact"))
    d = ch.dim
    rho0 = _ground(d)
    L, ss, gap, ev, parts = benchmark.pedantic(lambda: _dynamics(ch, S, rho0), rounds=1, iterations=1)
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


def _taylor(L, X, t, h=0.005, terms=25):
    """``exp(L t) X`` by a Taylor series of ``exp(L h)`` (``||L h|| < 1``, last term ~1e-50 at N = 7), L applied
    from the map's tensor (row stacking: ``X[:, k]`` is ``rho.reshape(-1)``); an independent check of the
    eigen-propagation at a short time."""
    from symcoll.dynamics._arrays import to_complex

    d = L.d
    T = np.asarray(L.tensor).reshape(d * d, d * d)
    e = np.asarray(to_complex(L.energies)).real
    bohr = (e[:, None] - e[None, :]).reshape(-1)
    Gam = float(L.Gamma_param)
    for _ in range(int(round(t / h))):
        term, acc = X.copy(), X.copy()
        for m in range(1, terms + 1):
            term = (Gam * (T @ term - term) - 1j * bohr[:, None] * term) * (h / m)
            acc += term
        X = acc
    return X


@pytest.mark.skipif(os.environ.get("SYMCOLL_BENCH_N7") != "1",
                    reason="N = 7: ~19 min for the map, ~40 min for the dynamics, 12.3 GiB: SYMCOLL_BENCH_N7=1 (sets "
                           "SYMCOLL_MAX_GIB=14 unless given; SYMCOLL_BENCH_N7_MAP=file.pkl loads a pickled (chain, "
                           "map) of QubitChain(7, 4.0, 0.1) instead of building it)")
def test_bench_exact_N7_evolution(benchmark, monkeypatch):
    """The exact map at N = 7 (one 16384 block; the spectrum kept in real form, LeanSpectrum): steady state, spectrum
    and gap, evolution from |0..0> at 141 times to 1e5.  Checks: the state at t = 0.05 against a Taylor series
    (:func:`_taylor`), at 1e5 against the LU steady state, both within the estimates.  Measured once as the
    whole scaling point (README_derivations.md, "Exact map at N = 6, 7: the spectrum kept in real form"):
    37 min after the map with two BLAS threads, 12.3 GiB.  As this benchmark (2026-12-01, idle, one round, the map
    pickled, ``OPENBLAS_NUM_THREADS`` unset): **2282 s** (steady state 183 s, spectrum 2038 s, gap 0.002 s, evolution
    at 141 times 61 s), peak RSS 8.75 GiB (the steady state's LU is freed before the spectrum); gap 4.0878e-3
    (estimate 1.6e-8), largest evolution estimate 1.04e-6; checks: Taylor at t = 0.05 1.1e-15 (estimate 6.5e-9),
    the state at 1e5 against the LU steady state 1.5e-14."""
    import pickle

    from symcoll.maps import memory

    if not os.environ.get(memory.MAX_GIB_ENV):
        monkeypatch.setenv(memory.MAX_GIB_ENV, "14")
    path = os.environ.get("SYMCOLL_BENCH_N7_MAP")
    if path:
        with open(path, "rb") as fh:
            ch, S = pickle.load(fh)
        t_map = None
        assert (ch.N, ch.eps) == (7, 0.1)
    else:
        ch = QubitChain(7, 4.0, 0.1)
        S, t_map = _timed(lambda: collision_map(ch, BATH, COUPLING, kind="exact"))
    d = ch.dim
    rho0 = _ground(d)
    L, ss, gap, ev, parts = benchmark.pedantic(lambda: _dynamics(ch, S, rho0, spectrum_first=True), rounds=1,
                                               iterations=1)
    ev_short = L.evolve(rho0, [0.05])
    ref = _taylor(L, rho0.astype(complex).reshape(-1, 1), 0.05)[:, 0].reshape(d, d)
    short = (float(np.abs(ev_short.states[0] - ref).max()), float(ev_short.error.total[0]))
    stat = float(np.abs(ev.states[-1] - np.asarray(ss.state)).max())
    RESULTS["exact_N7"] = dict(
        map_build_s=t_map, total_s=benchmark.stats.stats.median, steady_s=parts[0], spectrum_s=parts[3],
        gap_s=parts[1], evolve_s=parts[2], peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        load_1min=os.getloadavg()[0], gap=gap.value, gap_error_estimate=gap.error.total,
        steady_error_estimate=ss.error.total, evolve_max_error_estimate=float(ev.error.total.max()),
        state_1e5_vs_steady=stat, taylor_check_t005=short, map_error_estimate=S.error_estimate)
    _save()
    assert short[0] <= short[1]
    assert stat <= ev.error.total[-1] + ss.error.total
