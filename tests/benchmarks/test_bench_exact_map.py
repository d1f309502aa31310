"""Benchmarks of the exact map (38), issue 16: solved engine (before) vs FastExactEngine (after).

Run with ``OPENBLAS_NUM_THREADS=1 python -m pytest --run-benchmarks tests/benchmarks/test_bench_exact_map.py``
(``-k "not 6-"`` to skip the minutes-long N = 6 cases).  BLAS threads inside the quadrature follow
``SYMCOLL_BLAS_THREADS`` (default 1; ``SYMCOLL_BLAS_THREADS=2 OPENBLAS_NUM_THREADS=2`` for two), the
complete-positivity check follows ``OPENBLAS_NUM_THREADS``.  Paper parameters (Sec. VI E), eps = 0.1,
tol 1e-12.  Each case runs one round; the time cases assert the map's error estimate (a fast but wrong
build cannot pass) and record the CPU time and the load average (the 2-core machine is shared: wall
times under load 4-8 are 1.5-3x the CPU time); the memory cases record the tracemalloc peak next to the
up-front estimate.  N = 7 (``SYMCOLL_BENCH_N7=1``; the memory limit raised with ``SYMCOLL_MAX_GIB=12``, the
user's way, see :mod:`symcoll.maps.memory`) is a long benchmark, not a test.

Measured (README_derivations.md, "Faster exact map (issue 16)", round 2): one build, eigensystem cached,
``OPENBLAS_NUM_THREADS=1`` (SYMCOLL_BLAS_THREADS unset = 1), ``/usr/bin/time``; wall / CPU (user+sys) /
max RSS, load average in brackets (2 cores shared with other jobs: compare CPU):

=====  ===========================================  =====================================  ==========================
N      before (main 95fee65, round 1)               after (round 2)                        CP check
=====  ===========================================  =====================================  ==========================
4      5.3 s / 2.5 s / 94 MiB (7.5)                 2.6 s / 2.4 s / 92 MiB (3.5)           dense syevr (D = 256)
5      21.9 s / 8.1 s / 180 MiB (8.0)               8.0 s / 7.1 s / 154 MiB (3.7)          dense syevr (D = 1024)
6      778 s / 203 s / 1.41 GiB (4-8; 252 s wall    116 s / 97 s / 0.72 GiB (2.7-3.5)      Cholesky + inverse Lanczos
       at lighter load in round 1)                                                         3.9 s (dense syevr 23.3 s)
7      refused (20.8 GiB estimated)                 not run (9.7 GiB estimated); after     16384^2 Cholesky + 29
                                                    round 3: 36.5 min / 1853 s / 8.74 GiB  Lanczos steps: 182 s
                                                    (1.5-2), 696 panels
=====  ===========================================  =====================================  ==========================

Round 3 (skip the Bohr classes closed on a whole panel, ``exact_fast.SKIP_CLOSED``; bit-identical map),
``test_bench_exact_map_skip_closed``, same conditions, without / with the skip, back to back:

=====  ==================================  ==================================  ===============
N      SKIP_CLOSED = False                 SKIP_CLOSED = True                  open pair work
=====  ==================================  ==================================  ===============
4      2.2 s / 1.9 s / 92 MiB (3.3)        1.9 s / 1.7 s / 93 MiB (3.2)        0.698
5      8.7 s / 6.1 s / 161 MiB (3.2)       7.3 s / 6.0 s / 158 MiB (3.2)       0.700
6      145 s / 100.1 s / 0.72 GiB (3.2)    101.5 s / 67.9 s / 0.74 GiB (3.1)   0.678
=====  ==================================  ==================================  ===============

Two threads (``SYMCOLL_BLAS_THREADS=2 OPENBLAS_NUM_THREADS=2``) at load 4-6: N = 4 26.6 s, N = 5 94.5 s wall
(OpenBLAS threads spin on a loaded machine).  N = 7, one warm all-open panel, same process: 4.0-6.3 s with
one thread, 21.7-24.3 s with two (load ~3: the second core was another helper's); in a quiet minute (load 1.0-1.3)
3.6-3.8 s with one, 3.5-3.8 s with two (no gain).

Round 4 (issue 16, 2026-12-01): two *worker* threads (``SYMCOLL_MAP_THREADS``, now the default where the process
has two CPUs; one BLAS thread each) over the row classes of a panel and over the two node halves of the class-pair
sums.  N = 7 on the idle 2-core machine: a warm all-open panel 1.9-2.1 s against 3.3-3.5 s serial; the whole build
**1151 s (19.2 min) wall**, 1897 s CPU, max RSS 8.81 GiB, the same 696 panels and error estimate 8.69e-13;
a second run 1069 s (17.8 min), 1765 s CPU, 8.87 GiB; this benchmark (``SYMCOLL_BENCH_N7=1 SYMCOLL_MAX_GIB=20
python -m pytest --run-benchmarks tests/benchmarks/test_bench_exact_map.py -k N7``, idle, one round) 1222 s (20.4 min),
2007 s CPU, max RSS 8.83 GiB with the steady state after it (165 s); median of the three 1151 s.
N = 6: 55.2 s with two workers against 67.1 s serial (one run of ``collision_map`` as in :func:`_run`, ``SYMCOLL_MAX_GIB=20``, ``OPENBLAS_NUM_THREADS`` unset; the CP
check's ``zpotrf`` runs with one thread at this size; README_derivations.md, "Exact map at N = 7 in threads").
"""
import os
import time
import tracemalloc
import warnings

import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.maps import diagnostics, memory

BATH = EffusionBath(0.1, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)


def _run(N, smatrix):
    chain = QubitChain(N, 4.0, 0.1)
    chain.eigensystem(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotCompletelyPositiveWarning: a property of (41)
        return collision_map(chain, BATH, COUPLING, kind="exact", smatrix=smatrix)


def _map_threads():
    """Worker threads of the exact map's panels (``SYMCOLL_MAP_THREADS``, default two where the process has two
    CPUs: :func:`symcoll.maps.exact_fast._workers`)."""
    from symcoll.maps import exact_fast

    return exact_fast._workers()


def _timed(benchmark, fn):
    out = {}

    def run():
        c = time.process_time()
        out["S"] = fn()
        out["cpu"] = time.process_time() - c
        return out["S"]

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(cpu_s=out["cpu"], load_average=os.getloadavg()[0],
                                blas_threads=os.environ.get("SYMCOLL_BLAS_THREADS", "1"),
                                openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS"),
                                map_threads=_map_threads())
    return out["S"]


@pytest.mark.parametrize("smatrix", ["solve", "interpolate"])
@pytest.mark.parametrize("N", [4, 5, 6])
def test_bench_exact_map(benchmark, N, smatrix):
    """Time of one build (no tracing: tracemalloc slows the many small numpy allocations several-fold)."""
    S = _timed(benchmark, lambda: _run(N, smatrix))
    benchmark.extra_info.update(panels=S.info["panels"], error_estimate=S.error_estimate, smatrix=S.info["smatrix"],
                                min_choi_eigenvalue=S.info["min_choi_eigenvalue"], choi_method=S.info["choi_method"],
                                open_pair_work=S.info.get("open_pair_work"))
    assert S.error_estimate <= 1e-12


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("N", [4, 5, 6])
def test_bench_exact_map_skip_closed(benchmark, N, skip, monkeypatch):
    """Round 3: the interpolated engine with and without skipping the Bohr classes closed on a whole panel
    (``exact_fast.SKIP_CLOSED``; the map is bit-identical, ``test_skip_closed_classes_bit_identical``)."""
    from symcoll.maps import exact_fast

    monkeypatch.setattr(exact_fast, "SKIP_CLOSED", skip)
    S = _timed(benchmark, lambda: _run(N, "interpolate"))
    benchmark.extra_info.update(panels=S.info["panels"], error_estimate=S.error_estimate,
                                open_pair_work=S.info["open_pair_work"])
    assert S.info["open_pair_work"] < 1.0 if skip else S.info["open_pair_work"] == 1.0
    assert S.error_estimate <= 1e-12


@pytest.mark.skipif(os.environ.get("SYMCOLL_BENCH_N7") != "1",
                    reason="N = 7 takes ~19 min wall with two worker threads (29-36 min serial), 8.8 GiB: "
                           "SYMCOLL_BENCH_N7=1 (sets SYMCOLL_MAX_GIB=12 unless given)")
def test_bench_exact_map_N7(benchmark, monkeypatch):
    """N = 7 (d = 128): the memory estimate (~9.7 GiB: two d^4 copies plus tables) is above the default limit of
    8 GiB, so the limit is raised the way a user would, ``SYMCOLL_MAX_GIB=12`` (kept if already set).
    Measured once (README_derivations.md, "Exact map at N = 7"; one BLAS thread, load 1.5-2 on the 2 shared cores):
    36.5 min wall, 1853 s CPU (quadrature 1645 s, finalize 24 s, CP check 182 s), max RSS 8.74 GiB against the
    9.70 GiB estimate, 696 panels, error estimate 8.7e-13, lambda_min in [-1.47e-6, -2.31e-7].  With two worker
    threads (round 4, the default on two CPUs), idle machine: 1151 and 1069 s (19.2 and 17.8 min) wall, 8.8-8.9 GiB,
    the same estimate."""
    if not os.environ.get(memory.MAX_GIB_ENV):
        monkeypatch.setenv(memory.MAX_GIB_ENV, "12")
    S = _timed(benchmark, lambda: _run(7, "interpolate"))
    benchmark.extra_info.update(panels=S.info["panels"], error_estimate=S.error_estimate,
                                min_choi_eigenvalue=S.info["min_choi_eigenvalue"],
                                min_choi_eigenvalue_lower_bound=S.info.get("min_choi_eigenvalue_lower_bound"),
                                memory_estimate_GiB=memory.estimate_memory(128, "exact", None, interpolate=True) / 2**30)
    assert S.error_estimate <= 1e-12
    # then its steady state (one LU of the bordered 16384^2 generator, symcoll.dynamics.steady._steady_state_lu)
    import numpy as np

    from symcoll import Lindbladian

    t0 = time.perf_counter()
    ss = Lindbladian(S.system, S, 1.0).steady_state()
    rho = np.asarray(ss.state)
    benchmark.extra_info.update(steady_s=time.perf_counter() - t0, steady_error_estimate=ss.error_estimate,
                                steady_sigma_min=ss.sigma_min, steady_residual=ss.residual)
    assert abs(np.trace(rho) - 1) < 1e-12 and float(np.linalg.eigvalsh(rho).min()) > -1e-10


@pytest.mark.parametrize("path", ["dense", "cholesky"])
def test_bench_cp_check(benchmark, path, monkeypatch):
    """The build-time complete-positivity check alone on the N = 5 map (D = 1024): dense syevr vs the
    Cholesky-bracketed inverse Lanczos (the default above CP_DENSE_MAX_DIM = 1024, i.e. from N = 6)."""
    import copy

    S = _run(5, "interpolate")
    monkeypatch.setattr(diagnostics, "CP_DENSE_MAX_DIM", 10**9 if path == "dense" else 0)
    S2 = copy.copy(S)
    S2.info = dict(S.info)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            diagnostics._check_complete_positivity(S2)
        return S2

    _timed(benchmark, run)
    benchmark.extra_info.update(min_choi_eigenvalue=S2.info["min_choi_eigenvalue"], choi_method=S2.info["choi_method"])
    assert abs(S2.info["min_choi_eigenvalue"] - S.info["min_choi_eigenvalue"]) <= 1e-12


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
    need = memory.estimate_memory(2**N, "exact", None, interpolate=smatrix == "interpolate")
    benchmark.extra_info.update(traced_peak_MiB=out["peak"] / 2**20, estimate_MiB=need / 2**20)
    assert out["peak"] <= need
