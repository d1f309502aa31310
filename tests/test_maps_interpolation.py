"""Interpolated s-matrix rows (symcoll.interpolation) in the narrow-packet maps (45), (54)-(56).

Oracles: direct solves of (C1) at the same energies (the s-matrix itself), the map built
with ``smatrix="solve"`` (every row solved at every node), the 30-digit mpmath map, and
the dense ``storage`` path for the compact global map.
"""
import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll import interpolation as interp_mod
from symcoll.maps import SMATRIX, _Engine, _snap_energies
from symcoll.numeric import Tolerances, get_context

BETA, M, G, SIGMA, H = 0.1, 0.1, 50.0, 0.5, 4.0
BATH = EffusionBath(BETA, M, SIGMA)
COUPLING = DeltaCoupling(G)

_CACHE = {}


def cmap(N, eps, kind="global", smatrix="auto", tol=1e-12, dps=None, storage="auto"):
    key = (N, eps, kind, smatrix, tol, dps, storage)
    if key not in _CACHE:
        _CACHE[key] = collision_map(QubitChain(N, H, eps), BATH, COUPLING, kind=kind, smatrix=smatrix, tol=tol,
                                    dps=dps, storage=storage)
    return _CACHE[key]


def _f(S):
    return S._float_tensor()


@pytest.mark.parametrize("N,eps,kind", [(3, 0.1, "global"), (3, 5e-5, "global"), (4, 0.1, "global"),
                                        (3, 0.1, "local"), (4, 3e-3, "local")])
def test_interpolated_equals_solved(N, eps, kind):
    """Same map from interpolated rows and from rows solved at every node, within both bounds."""
    Si = cmap(N, eps, kind, "interpolate")
    Ss = cmap(N, eps, kind, "solve")
    assert Si.info["smatrix"] == "interpolate" and Ss.info["smatrix"] == "solve"
    assert Si.error_parts["interpolation"]["kind"] == "estimate"
    assert "interpolation" not in Ss.error_parts
    diff = np.max(np.abs(Si.tensor - Ss.tensor))
    assert diff <= Si.error_estimate + Ss.error_estimate
    assert Si.error_estimate <= 1e-12


def test_interpolated_global_vs_mpmath_30_digits():
    """True error of the interpolated float64 global map (45) against the 30-digit map, N = 2."""
    Si = cmap(2, 0.1, "global", "interpolate")
    Sm = cmap(2, 0.1, "global", dps=30, tol=1e-16)
    true_err = np.max(np.abs(Si.tensor - _f(Sm)))
    assert true_err <= Si.error_estimate
    assert true_err <= 1e-13


@pytest.mark.parametrize("tol", [1e-6, 1e-9])
def test_interpolation_estimate_honest_at_loose_tol(tol):
    """At a loose tol the interpolants stop at low degree; the map still lies within its bound of the
    1e-12 map built by direct solves (so the interpolation estimate covers the real row error)."""
    S = cmap(4, 0.1, "global", "interpolate", tol=tol)
    ref = cmap(4, 0.1, "global", "solve")
    assert S.error_estimate <= tol
    assert np.max(np.abs(S.tensor - ref.tensor)) <= S.error_estimate + ref.error_estimate


def _interpolant(N, eps, tol_rows):
    ctx = get_context(None)
    ch = QubitChain(N, H, eps)
    es = ch.eigensystem(None)
    e = _snap_energies(ctx, es)
    U = es.vectors
    V = U.T @ COUPLING.operator(ch) @ U
    eng = _Engine(ctx, e, V, M, G, BETA, SIGMA, True, [np.arange(len(e) ** 2)])
    snap = Tolerances(ctx.eps).bohr_equality(float(np.ptp(e)), len(e))
    R = interp_mod.RowInterpolant(e, eng.iVT, M, 1.0, snap, 60.0 + e.max(), lambda a, b: BETA * (b - a), tol_rows)
    return R, e, eng


def _direct_rows(eng, T, jps):
    """Rows jps of X(T) = (K + i m g V)^{-1} by a direct solve, and sqrt(Re K) (C1)."""
    z = 2 * M * (T - eng.e)
    K = np.where(z > 0, np.sqrt(np.abs(z)) + 0j, 1j * np.sqrt(np.abs(z)))
    X = np.linalg.inv(np.diag(K) + eng.iVT.T)  # iVT = i m g V^T (hbar = 1)
    return X[jps], np.sqrt(np.maximum(K.real, 0.0))


@pytest.mark.parametrize("tol_rows", [1e-5, 1e-13])
def test_row_estimate_bounds_error_at_random_energies(tol_rows, rng):
    """Each panel's estimate (twice the sampled maximum at the check midpoints) exceeds the scaled
    row error sqrt(Re K_j' Re K_l) |X_interp - X| at random energies inside the panel."""
    R, e, eng = _interpolant(3, 0.1, tol_rows)
    worst_ratio = 0.0
    for p in list(R.panels):
        built = R._build(p)
        for q in built:
            for T in q.a + (q.b - q.a) * rng.uniform(0.0, 1.0, size=4):
                jps = q.rows
                X, Kh = _direct_rows(eng, T, jps)
                tau = q.tau(np.array([T - q.a]), np.array([q.b - T]))
                B = interp_mod._bary_matrix(tau, q.n)
                approx = np.einsum("k,rkl->rl", B[0], q.vals)
                err = np.max(np.abs(approx - X) * Kh[jps][:, None] * Kh[None, :])
                assert err <= max(q.est, 1e-14), (q.a, q.b, q.n, err, q.est)
                if q.est > 1e-13:
                    worst_ratio = max(worst_ratio, err / q.est)
    assert R.built >= len(set(e.round(9))) - 1
    if tol_rows == 1e-5:  # degree 16 panels were accepted with visible errors: the check was not vacuous
        assert worst_ratio > 1e-3


def test_bisection_path(monkeypatch):
    """With a single low degree every panel must be bisected; the map is still right within its bound."""
    monkeypatch.setattr(interp_mod, "DEGREES", (4, 8))
    S = collision_map(QubitChain(2, H, 0.1), BATH, COUPLING, kind="global", smatrix="interpolate", tol=1e-9)
    ref = cmap(2, 0.1, "global", "solve")
    assert S.info["interp_bisections"] > 0
    assert S.info["interp_max_degree"] == 8
    assert np.max(np.abs(S.tensor - ref.tensor)) <= S.error_estimate + ref.error_estimate


def test_compact_global_N5_interpolated_vs_dense_solved():
    """Compact Bohr-class storage with interpolated rows (the N >= 7 path) against the dense map solved
    at every node, N = 5."""
    comp = cmap(5, 0.1, "global", "interpolate", storage="compact")
    dense = cmap(5, 0.1, "global", "solve", storage="dense")
    assert comp.storage == "compact" and comp.info["smatrix"] == "interpolate"
    assert np.max(np.abs(comp.tensor - dense.tensor)) <= comp.error_estimate + dense.error_estimate
    assert comp.info["interp_peak_MiB"] * 2**20 <= comp.info["memory_estimate_bytes"]


def test_auto_choice():
    assert cmap(3, 0.1, "global").info["smatrix"] == "solve"
    assert cmap(5, 0.1, "global", storage="compact").info["smatrix"] == "interpolate"
    assert cmap(3, 0.1, "exact").info["smatrix"] == "solve"


@pytest.mark.parametrize("kw,msg", [
    (dict(kind="global", smatrix="interpolate", dps=20), "float64 only"),
    (dict(kind="global", smatrix="chebyshev"), "smatrix must be one of"),
])
def test_bad_smatrix_raises(kw, msg):
    assert "auto" in SMATRIX
    with pytest.raises(ValueError, match=msg):
        collision_map(QubitChain(1, H, 0.0), BATH, COUPLING, **kw)


def test_compact_interpolated_memory_estimate_covers_traced_peak():
    """The memory estimated before allocating (tables at degree 32 for every panel, build workspace,
    stored blocks) covers the traced peak of a compact global build with interpolated rows."""
    import tracemalloc

    ch = QubitChain(5, H, 0.1)
    ch.eigensystem(None)
    tracemalloc.start()
    try:
        S = collision_map(ch, BATH, COUPLING, kind="global", storage="compact", smatrix="interpolate")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert S.info["smatrix"] == "interpolate"
    assert 0 < peak <= S.info["memory_estimate_bytes"]


@pytest.mark.parametrize("degenerate", [False, True])
def test_generic_system_interpolated_equals_solved(degenerate):
    """A user H and V (no chain structure; optionally a doubly degenerate level): same map either way."""
    from symcoll import System

    rng = np.random.default_rng(21)
    if degenerate:
        Hs = np.diag([0.0, 1.7, 1.7, 3.1, 5.0])
    else:
        A = rng.normal(size=(5, 5))
        Hs = np.diag([0.0, 1.3, 2.9, 4.4, 6.0]) + 0.2 * (A + A.T)
    B = rng.normal(size=(5, 5))
    cpl = DeltaCoupling(7.0, V=(B + B.T) / 2)
    sysm = System(Hs)
    Si = collision_map(sysm, BATH, cpl, kind="global", smatrix="interpolate")
    Ss = collision_map(sysm, BATH, cpl, kind="global", smatrix="solve")
    assert np.max(np.abs(Si.tensor - Ss.tensor)) <= Si.error_estimate + Ss.error_estimate
    assert Si.info["interp_levels"] == (4 if degenerate else 5)


def test_global_N9_refused_with_the_number():
    """N = 9 (d = 512): Bohr-class blocks plus interpolation tables are estimated before anything is
    built and refused with the GiB, not an allocation failure deep inside numpy."""
    with pytest.raises(ValueError, match=r"compact global map for d = 512 needs about [0-9.]+ GiB .*interpolation"):
        collision_map(QubitChain(9, H, 0.1), BATH, COUPLING, kind="global")


def test_released_panel_is_rebuilt_on_demand():
    """Tables below the current energy are released; a query there rebuilds them (same values)."""
    R, e, eng = _interpolant(2, 0.1, 1e-12)
    jps = np.arange(len(e))
    u = np.array([0.1, 0.2])
    lo = R.rows_at(0.3, u, jps)
    R.rows_at(30.0, u, jps)  # releases every panel ending below T = 30
    assert any(p.released and p.vals is None for p in R.panels)
    again = R.rows_at(0.3, u, jps)
    np.testing.assert_array_equal(lo, again)
    for n, E in enumerate(0.3 + u):
        for jp in jps:
            X, _ = _direct_rows(eng, E + e[jp], [jp])
            assert np.max(np.abs(again[n, jp] - X[0])) <= 1e-13
