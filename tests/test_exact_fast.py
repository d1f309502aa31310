"""The faster exact map (38) (issue 16): interpolated s-matrix rows, folded alpha sum (FastExactEngine).

Checked against two independent computations: the solved engine (every (C1) row solved at every
node, K21/G10 with the unfolded sum over alpha: ``smatrix="solve"``) and the 30-digit mpmath path
(:func:`symcoll.maps.exact_entries` at ``dps=30``).  Paper parameters (Sec. VI E).
"""
import warnings

import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.errors import NotCompletelyPositiveWarning
from symcoll.maps import diagnostics as mdiag
from symcoll.maps import exact_entries, memory
from symcoll.maps.options import EXACT_INTERPOLATE_AUTO_MIN_DIM

BATH = EffusionBath(0.1, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)
H = 4.0
_CACHE = {}


def cmap(N, eps, smatrix, tol=1e-12):
    key = (N, eps, smatrix, tol)
    if key not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NotCompletelyPositiveWarning: a property of (41), tested elsewhere
            _CACHE[key] = collision_map(QubitChain(N, H, eps), BATH, COUPLING, kind="exact", smatrix=smatrix, tol=tol)
    return _CACHE[key]


@pytest.mark.parametrize("N, eps", [(3, 0.1), (3, 5e-5), (4, 0.1)])
def test_interpolated_exact_equals_solved(N, eps):
    Si, Ss = cmap(N, eps, "interpolate"), cmap(N, eps, "solve")
    assert Si.info["smatrix"] == "interpolate" and Ss.info["smatrix"] == "solve"
    part = Si.error_parts["interpolation"]
    assert part["kind"] == "estimate" and part["value"] > 0
    diff = float(np.max(np.abs(Si.tensor - Ss.tensor)))
    # both maps carry their own (estimated) errors; they must agree within the sum
    assert diff <= Si.error_estimate + Ss.error_estimate
    assert Si.error_estimate <= 1e-12


def test_interpolated_exact_vs_30_digits():
    """N = 2: entries of the interpolated float64 map against exact_entries at 30 digits (rows 0 and 1)."""
    pairs = [(0, 0), (1, 1), (1, 2), (0, 3), (1, 0)]
    blk, est_mp, _ = exact_entries(QubitChain(2, H, 0.1), BATH, COUPLING, pairs, dps=30, tol=1e-16)
    ref = np.array(blk.tolist(), dtype=complex)
    S = cmap(2, 0.1, "interpolate")
    T = S.tensor
    ours = np.array([[T[a[0], b[0], a[1], b[1]] for b in pairs] for a in pairs])
    err = float(np.max(np.abs(ours - ref)))
    assert est_mp < 1e-15
    assert err <= S.error_estimate + est_mp
    assert err < 1e-13


def test_interpolation_estimate_honest_at_loose_tol():
    """tol = 1e-7: the tables are built to ~tol/8, so interpolation errors are visible; the interpolated
    map must stay within its reported budget of the solved map at 1e-12."""
    Si = cmap(3, 0.1, "interpolate", tol=1e-7)
    Ss = cmap(3, 0.1, "solve")
    diff = float(np.max(np.abs(Si.tensor - Ss.tensor)))
    assert diff <= Si.error_estimate + Ss.error_estimate
    assert Si.error_parts["interpolation"]["value"] <= Si.error_estimate


def test_auto_uses_interpolation_for_exact_from_threshold():
    assert EXACT_INTERPOLATE_AUTO_MIN_DIM == 16
    assert cmap(3, 0.1, "auto").info["smatrix"] == "solve"
    S4 = collision_map(QubitChain(2, H, 0.1), BATH, COUPLING, kind="exact", smatrix="interpolate")
    assert S4.info["rules"].startswith("GK")


def test_trace_preservation_interpolated():
    """(38) conserves the trace exactly (README, trace_preservation): sum_j' S^{jk}_{j'j'} = delta_jk."""
    S = cmap(3, 5e-5, "interpolate")
    d = S.dim
    tr = np.einsum("aajk->jk", S.tensor)
    assert float(np.max(np.abs(tr - np.eye(d)))) <= d * S.error_estimate


def test_exact_N7_refused_up_front_with_the_number(monkeypatch):
    """N = 7 (d = 128): two d^4 copies (8 GiB) + tables, above the default limit of 8 GiB, well inside 24 GiB;
    the solved engine's five copies (20 GiB) are what smatrix='solve' would need.  The message says how to
    raise the limit (tests/test_memory_limit.py)."""
    monkeypatch.delenv("SYMCOLL_MAX_GIB", raising=False)
    ch = QubitChain(7, H, 0.1)
    need = memory.estimate_memory(128, "exact", None, interpolate=True)
    assert need > memory.MAX_BYTES
    assert 2 * 16 * 128**4 < need < 12 * 2**30
    assert memory.estimate_memory(128, "exact", None) > 20 * 2**30
    with pytest.raises(ValueError, match=r"needs about [0-9.]+ GiB.*above the limit of 8 GiB.*SYMCOLL_MAX_GIB=10"):
        collision_map(ch, BATH, COUPLING, kind="exact")


def test_interpolate_mpmath_refused():
    with pytest.raises(ValueError, match="float64 only"):
        collision_map(QubitChain(2, H, 0.1), BATH, COUPLING, kind="exact", smatrix="interpolate", dps=20)


def test_exact_h0_interpolated_equals_solved():
    """(38) with H(0) in the scattering (degenerate levels snapped), rotated to H(eps): same engine."""
    ch = QubitChain(3, H, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Si = collision_map(ch, BATH, COUPLING, kind="exact_h0", smatrix="interpolate")
        Ss = collision_map(ch, BATH, COUPLING, kind="exact_h0", smatrix="solve")
    assert Si.info["smatrix"] == "interpolate"
    assert float(np.max(np.abs(Si.tensor - Ss.tensor))) <= Si.error_estimate + Ss.error_estimate


# -- complete-positivity check above CP_DENSE_MAX_DIM: Cholesky lower bound + inverse Lanczos -------------------
def _tensor_from_choi(J, d):
    """``T[j', k', j, k] = J[j d + j', k d + k']`` (CollisionMap.choi's ordering)."""
    return np.ascontiguousarray(J.reshape(d, d, d, d).transpose(1, 3, 0, 2))


def _choi_with_spectrum(lam, seed=1):
    rng = np.random.default_rng(seed)
    D = len(lam)
    Q, _ = np.linalg.qr(rng.normal(size=(D, D)) + 1j * rng.normal(size=(D, D)))
    return (Q * np.asarray(lam)) @ Q.conj().T


def test_cholesky_bracket_known_negative_eigenvalue():
    """A Hermitian 'Choi matrix' with prescribed spectrum: -3e-7, a cluster in [0, 1e-10], the rest in
    [1e-3, 2]; the first shift 1e-9 must fail (lambda_min < -1e-9), the bracket must hold -3e-7 and the
    Rayleigh quotient must be -3e-7 to rounding."""
    d = 6
    rng = np.random.default_rng(0)
    lam = np.concatenate([[-3e-7], rng.uniform(0, 1e-10, 20), rng.uniform(1e-3, 2, 15)])
    T = _tensor_from_choi(_choi_with_spectrum(lam), d)
    rho, lower, info = mdiag.choi_min_eigenvalue_cholesky(T, 1e-9)
    assert len(info["shifts"]) > 1 and info["shifts"][0] == 1e-9
    assert lower <= -3e-7 <= rho + 1e-15
    assert abs(rho + 3e-7) <= 1e-14
    assert lower >= -8 * 3e-7 * 1.01  # the shift ladder stops within a factor 8


def test_cholesky_bracket_psd_first_shift():
    """Positive semidefinite (eigenvalue 0 exactly, once): Cholesky at the first shift succeeds, the lower
    bound is -t - delta with delta at rounding level, and 0 lies in the bracket."""
    d = 5
    rng = np.random.default_rng(2)
    lam = np.concatenate([[0.0], rng.uniform(1e-2, 1, 24)])
    T = _tensor_from_choi(_choi_with_spectrum(lam, seed=3), d)
    rho, lower, info = mdiag.choi_min_eigenvalue_cholesky(T, 1e-9)
    assert info["shifts"] == [1e-9]
    assert -1e-9 - 1e-12 <= lower <= -1e-9
    assert lower <= 0.0 <= rho + 1e-15 and rho <= 1e-14


@pytest.mark.parametrize("threaded_max, want", [(16, None), (15, 1)])
def test_cholesky_runs_single_threaded_above_potrf_threaded_max(monkeypatch, threaded_max, want):
    """Beyond POTRF_THREADED_MAX the zpotrf of the CP check runs with one BLAS thread (scipy's OpenBLAS segfaults in
    the threaded zpotrf at D = 16384, the exact map at N = 7); at or below it the caller's setting is kept.  Seen
    from inside zpotrf (threadpoolctl), with the caller at two threads; D = 16 here."""
    import scipy.linalg.lapack as lapack
    from threadpoolctl import threadpool_info, threadpool_limits

    seen = []
    real = lapack.zpotrf

    def spy(*a, **k):
        seen.append({i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        return real(*a, **k)

    monkeypatch.setattr(lapack, "zpotrf", spy)
    monkeypatch.setattr(mdiag, "POTRF_THREADED_MAX", threaded_max)
    d = 4
    lam = np.concatenate([[0.0], np.random.default_rng(5).uniform(1e-2, 1, 15)])
    T = _tensor_from_choi(_choi_with_spectrum(lam, seed=4), d)
    with threadpool_limits(limits=2, user_api="blas"):
        outer = {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
        mdiag.choi_min_eigenvalue_cholesky(T, 1e-9)
    assert seen and all(s == (outer if want is None else {k: 1 for k in outer}) for s in seen)


def test_cholesky_thread_limit_reaches_scipy_openblas_loaded_late(tmp_path):
    """In a map build the cached BLAS controller (maps/integrate.py) is made before scipy.linalg loads its own
    OpenBLAS (the library zpotrf runs in); the limit must still reach that library.  A fresh process in that order,
    the caller at two threads, D = 16 above a lowered POTRF_THREADED_MAX: one thread seen inside zpotrf."""
    import json
    import subprocess
    import sys

    code = """
import json, sys
import numpy as np
from symcoll.maps import integrate
integrate._blas_controller()            # cached before scipy.linalg's OpenBLAS is loaded, as in a map build
assert "scipy.linalg" not in sys.modules
import scipy.linalg.lapack as lapack
from threadpoolctl import threadpool_info, threadpool_limits
from symcoll.maps import diagnostics as mdiag
seen, real = [], lapack.zpotrf
def spy(*a, **k):
    seen.append(sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"))
    return real(*a, **k)
lapack.zpotrf = spy
mdiag.POTRF_THREADED_MAX = 15
d = 4
T = np.einsum("ac,bd->abcd", np.eye(d), np.eye(d)).astype(complex)
with threadpool_limits(limits=2, user_api="blas"):
    outer = sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
    mdiag.choi_min_eigenvalue_cholesky(T, 1e-9)
print(json.dumps({"outer": outer, "seen": seen}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert max(res["outer"]) == 2 or len(res["outer"]) < 2  # the caller's setting is multi-threaded where possible
    assert res["seen"] and all(s == [1] * len(s) for s in res["seen"])


def _cp_check_large_path(S, monkeypatch):
    """Run the build-time CP check on a copy of S through the Cholesky path (threshold lowered to 0)."""
    import copy

    monkeypatch.setattr(mdiag, "CP_DENSE_MAX_DIM", 0)
    S2 = copy.copy(S)
    S2.info = dict(S.info)
    mdiag._check_complete_positivity(S2)
    J = S.choi().astype(complex)
    lam = float(np.linalg.eigvalsh((J + J.conj().T) / 2)[0])  # independent dense eigenvalues
    return S2, lam


def test_cp_check_cholesky_path_not_cp(monkeypatch):
    """N = 3 at the paper's sigma_p: smallest Choi eigenvalue ~ -6.2e-9, far below -100 x noise: warned,
    and the reported value is that eigenvalue (dense eigvalsh) to rounding."""
    S = cmap(3, 0.1, "interpolate")
    with pytest.warns(NotCompletelyPositiveWarning, match="not completely positive"):
        S2, lam = _cp_check_large_path(S, monkeypatch)
    assert lam < -100 * S2.info["choi_noise_estimate"]
    assert "Cholesky" in S2.info["choi_method"]
    assert S2.info["min_choi_eigenvalue_lower_bound"] <= lam <= S2.info["min_choi_eigenvalue"] + 1e-15
    assert abs(S2.info["min_choi_eigenvalue"] - lam) <= 1e-14
    assert S2.cp_defect == pytest.approx(-lam, rel=1e-5)


def test_cp_check_cholesky_path_cp(monkeypatch):
    """N = 3 at sigma_p = 0.1 (narrow packet): CP within the noise, no warning; the bracket holds the
    dense smallest eigenvalue."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        S = collision_map(QubitChain(3, H, 0.1), EffusionBath(0.1, 0.1, 0.1), COUPLING, kind="exact")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotCompletelyPositiveWarning)
        S2, lam = _cp_check_large_path(S, monkeypatch)
    thr = mdiag.CP_WARN_FACTOR * S2.info["choi_noise_estimate"]
    assert "Cholesky" in S2.info["choi_method"]
    assert -thr - 1e-12 <= S2.info["min_choi_eigenvalue_lower_bound"] <= lam <= S2.info["min_choi_eigenvalue"] + 1e-15
    assert S2.cp_defect <= thr


def test_reduced_memory_path_N4():
    """N = 4: the traced peak of a build (imports warmed) stays within the two-copy estimate
    (estimate_memory(interpolate=True) without its fixed chunk allowance): 5.3 MiB measured against
    7.4 / 8.3 MiB for the earlier three- and five-copy code."""
    import tracemalloc

    cmap(4, 0.1, "interpolate")  # warm imports and caches
    ch = QubitChain(4, H, 0.1)
    ch.eigensystem(None)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            S = collision_map(ch, BATH, COUPLING, kind="exact", smatrix="interpolate")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    need = memory.estimate_memory(16, "exact", None, interpolate=True) - 4 * memory._CHUNK_BYTES
    assert S.info["smatrix"] == "interpolate"
    assert peak <= need, (peak / 2**20, need / 2**20)


def test_row_class_weights_path_equals_cached(monkeypatch):
    """The per-row-class weights (used when the (n, U, U) array exceeds XU_CACHE_BYTES, N = 7) give the
    same map as the cached ones, and both agree with the solved engine within their budgets."""
    from symcoll.maps import exact_fast

    S = cmap(3, 0.1, "interpolate")
    monkeypatch.setattr(exact_fast, "XU_CACHE_BYTES", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        S0 = collision_map(QubitChain(3, H, 0.1), BATH, COUPLING, kind="exact", smatrix="interpolate")
    assert float(np.max(np.abs(S0.tensor - S.tensor))) <= 1e-15
    Ss = cmap(3, 0.1, "solve")
    assert float(np.max(np.abs(S0.tensor - Ss.tensor))) <= S0.error_estimate + Ss.error_estimate


@pytest.mark.parametrize("N, eps", [(3, 0.1), (4, 0.1)])
def test_skip_closed_classes_bit_identical(monkeypatch, N, eps):
    """Round 3: the Bohr classes closed on a whole panel (p = 0 at every node, so Z = 0) are skipped.  Against the
    full class loop (SKIP_CLOSED = False) the map and every error part must be identical to the last bit, the skip
    must actually happen (open-pair work < 1), and the map must agree with the solved engine within the budgets."""
    from symcoll.maps import exact_fast

    def build():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return collision_map(QubitChain(N, H, eps), BATH, COUPLING, kind="exact", smatrix="interpolate",
                                 tol=1e-12)

    monkeypatch.setattr(exact_fast, "SKIP_CLOSED", False)
    full = build()
    monkeypatch.setattr(exact_fast, "SKIP_CLOSED", True)
    fast = build()
    assert full.info["open_pair_work"] == 1.0
    assert 0.2 < fast.info["open_pair_work"] < 0.95
    assert np.array_equal(fast.tensor, full.tensor)
    for k, part in full.error_parts.items():
        assert fast.error_parts[k]["value"] == part["value"], k
    Ss = cmap(N, eps, "solve")
    assert float(np.max(np.abs(fast.tensor - Ss.tensor))) <= fast.error_estimate + Ss.error_estimate


@pytest.mark.parametrize("workers", [2, 3])
def test_class_threads_bit_identical(monkeypatch, workers):
    """The row classes of a panel split over threads (CLASS_WORKERS, SYMCOLL_MAP_THREADS) write disjoint row blocks
    of the running sum in the same order per entry: the map and every error part must equal the serial build to
    the last bit (N = 4, the size threshold lowered so the split happens), and the split must really run."""
    from symcoll.maps import exact_fast

    calls = []
    real = exact_fast._run_split

    def spy(fn, classes, sizes, starts, D):
        out = real(fn, classes, sizes, starts, D)
        calls.append(len(out))
        return out

    def build():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return collision_map(QubitChain(4, H, 0.1), BATH, COUPLING, kind="exact", smatrix="interpolate", tol=1e-12)

    serial = cmap(4, 0.1, "interpolate")
    monkeypatch.setattr(exact_fast, "SPLIT_MIN_D", 0)
    monkeypatch.setattr(exact_fast, "_run_split", spy)
    monkeypatch.setenv("SYMCOLL_MAP_THREADS", str(workers))
    par = build()
    assert calls and max(calls) == workers
    assert np.array_equal(par.tensor, serial.tensor)
    for k, part in serial.error_parts.items():
        assert par.error_parts[k]["value"] == part["value"], k


def test_class_threads_bad_variable(monkeypatch):
    from symcoll.maps import exact_fast

    monkeypatch.setenv("SYMCOLL_MAP_THREADS", "two")
    with pytest.raises(ValueError, match="SYMCOLL_MAP_THREADS must be a positive integer"):
        exact_fast._workers()
    monkeypatch.setenv("SYMCOLL_MAP_THREADS", "0")
    with pytest.raises(ValueError, match="SYMCOLL_MAP_THREADS must be a positive integer"):
        exact_fast._workers()


def test_class_workers_default_follows_the_cpus(monkeypatch):
    """Default (CLASS_WORKERS None, no variable): two workers where the process may run on two or more CPUs, one
    on a single CPU; CLASS_WORKERS and then SYMCOLL_MAP_THREADS override it."""
    import os

    from symcoll.maps import exact_fast

    monkeypatch.delenv("SYMCOLL_MAP_THREADS", raising=False)
    monkeypatch.setattr(exact_fast, "CLASS_WORKERS", None)
    for cpus, want in [(1, 1), (2, 2), (16, 2)]:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, c=cpus: set(range(c)), raising=False)
        assert exact_fast._workers() == want
    monkeypatch.setattr(exact_fast, "CLASS_WORKERS", 3)
    assert exact_fast._workers() == 3
    monkeypatch.setenv("SYMCOLL_MAP_THREADS", "1")
    assert exact_fast._workers() == 1


@pytest.mark.parametrize("cached", [False, True])
def test_class_pair_sums_halves(monkeypatch, cached):
    """The class-pair sums as two node halves (serial and in two threads, bit-identical to each other) equal the
    single node loop to rounding, and the halves really ran in two threads when allowed."""
    import threading

    from symcoll.maps import exact_fast

    rng = np.random.default_rng(3)
    n, U = 21, 40
    Pc = np.abs(rng.normal(size=(n, U))) + 0.1
    w0 = np.abs(rng.normal(size=n))
    mV, mZ = np.abs(rng.normal(size=(2, n, U)))
    mU = mV * Pc
    kb, ks = -0.02, 0.5
    Xu = None
    if cached:
        sm, df = Pc[:, :, None] + Pc[:, None, :], Pc[:, :, None] - Pc[:, None, :]
        Xu = np.exp(sm * sm * kb - df * df * ks)
    one = exact_fast._class_pair_sums(Xu, Pc, w0, mU, mV, mZ, kb, ks)
    threads = set()
    real = exact_fast._class_pair_sums

    def spy(*a):
        threads.add(threading.get_ident())
        return real(*a)

    monkeypatch.setattr(exact_fast, "_class_pair_sums", spy)
    monkeypatch.setenv("SYMCOLL_MAP_THREADS", "1")
    serial = exact_fast._class_pair_sums_halves(Xu, Pc, w0, mU, mV, mZ, kb, ks, D=10**6)
    assert threads == {threading.get_ident()}
    threads.clear()
    monkeypatch.setenv("SYMCOLL_MAP_THREADS", "2")
    par = exact_fast._class_pair_sums_halves(Xu, Pc, w0, mU, mV, mZ, kb, ks, D=10**6)
    assert threading.get_ident() not in threads and len(threads) >= 1
    for a, b, c in zip(one, serial, par):
        assert np.array_equal(b, c)
        assert np.allclose(a, b, rtol=1e-14, atol=0)  # the same terms, summed in two halves
