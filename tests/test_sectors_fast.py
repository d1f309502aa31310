"""Fast paths of the local-map sector generator (issue 16): the closed-form product steady state,
the numerical-range rectangles, the Chebyshev exponential (ChebExp) in the slow-mode Arnoldi and in
the propagation.

Each test forces the new path at N = 4/5 and compares it with an independent computation:
* the dense generator (71) of the *dense* map (``storage="dense"``) and its own solvers;
* ``numpy.linalg.eigvals`` / ``eigvalsh`` of dense matrices;
* ``scipy.linalg.expm``.
"""
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sps

import symcoll.dynamics.sector_generator as sg
import symcoll.dynamics.fermionic as fermionic
import symcoll.dynamics.sector_solve as ssol
from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.dynamics import Lindbladian
from symcoll.maps import memory

BETA, H = 0.1, 4.0
BATH = EffusionBath(BETA, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)
TIMES = np.concatenate([[0.0], np.logspace(-2, 5, 15)])
_CACHE = {}


def maps(N, h=H, eps=0.1):
    key = (N, str(h), eps)
    if key not in _CACHE:
        ch = QubitChain(N, h, eps)
        _CACHE[key] = (ch, collision_map(ch, BATH, COUPLING, kind="local", storage="dense"),
                       collision_map(ch, BATH, COUPLING, kind="local", storage="compact"))
    return _CACHE[key]


def no_densify(monkeypatch):
    monkeypatch.setattr(memory, "MAX_BYTES", 0)


def force_arnoldi(monkeypatch, cut):
    for mod in (ssol, sg):
        monkeypatch.setattr(mod, "DENSE_SECTOR_MAX", cut)


@pytest.mark.parametrize("N", [4, 5])
def test_closed_form_steady_state_vs_dense_solve(N, monkeypatch):
    """Uniform chain: the closed form (no linear solve) vs the dense bordered solve of the dense map,
    within the two budgets; its residual ||L x|| is at rounding level; the numerical sector path
    (closed form switched off) agrees with it too."""
    ch, dense, comp = maps(N)
    sd = Lindbladian(ch, dense, 1.0).steady_state()
    no_densify(monkeypatch)
    sc = Lindbladian(ch, comp, 1.0).steady_state()
    assert sc.metadata["sector_solve"]["method"].startswith("closed form")
    assert np.abs(sd.state - sc.state).max() <= sd.error.total + sc.error.total
    assert sc.residual <= 1e-14
    assert sc.error["rounding"].kind == "bound"
    monkeypatch.setattr(sg, "CLOSED_FORM_STEADY", False)
    sn = Lindbladian(ch, comp, 1.0).steady_state()
    assert "closed form" not in str(sn.metadata["sector_solve"].get("method", "LU"))
    assert np.abs(sn.state - sc.state).max() <= sn.error.total + sc.error.total


def test_detuned_and_uncoupled_chains_take_the_general_path(monkeypatch):
    """Detuned chain (h_i differ): no closed form (the product state is not stationary); the
    general sector solve still matches the dense path.  eps = 0: no unique steady state, refused."""
    ch, dense, comp = maps(4, h=[4.0, 4.2, 3.9, 4.1])
    sd = Lindbladian(ch, dense, 1.0).steady_state()
    sc = Lindbladian(ch, comp, 1.0).steady_state()
    assert "closed form" not in str(sc.metadata["sector_solve"].get("method", "LU"))
    assert np.abs(sd.state - sc.state).max() <= sd.error.total + sc.error.total
    ch0, _, comp0 = maps(3, eps=0.0)
    with pytest.raises(ValueError, match="no unique stationary state"):
        Lindbladian(ch0, comp0, 1.0).steady_state()


@pytest.mark.parametrize("h", [H, [4.0, 4.3, 3.8, 4.1]])
def test_numerical_range_rectangles_contain_W(h):
    """Each sector's rectangle contains W(L_s): the extreme eigenvalues of the Hermitian and
    anti-Hermitian parts of the dense sector matrix (eigvalsh) lie inside it, and it is not loose
    (within 1e-2 of them; the real part's upper end within 0.01 Gamma)."""
    ch, dense, comp = maps(4, h=h)
    L = Lindbladian(ch, comp, 1.0)
    st = L.structure()
    for i in range(len(st.sectors)):
        A = L.sector_matrix(i).toarray()
        hr = np.linalg.eigvalsh(0.5 * (A + A.conj().T))
        hi = np.linalg.eigvalsh((A - A.conj().T) / 2j)
        re_lo, re_hi, im_lo, im_hi = st.num_range[i]
        assert re_lo <= hr[0] and hr[-1] <= re_hi and im_lo <= hi[0] and hi[-1] <= im_hi
        if len(A) > 4:
            assert im_hi - hi[-1] <= 0.1 and hi[0] - im_lo <= 0.1


def test_chebexp_against_expm():
    """ChebExp on a dissipative non-normal matrix (rectangle from eigvalsh) and on a local N = 4
    sector vs scipy.linalg.expm: the error is below its own estimate (truncation bound + rounding)
    and at the 1e-12 level, at times needing one and several steps."""
    rng = np.random.default_rng(5)
    n = 50
    R = rng.normal(size=(n, n))
    A = -1j * (R + R.T) - 0.1 * np.eye(n) + 0.05 * rng.normal(size=(n, n))
    he = np.linalg.eigvalsh((A + A.conj().T) / 2)
    ae = np.linalg.eigvalsh((A - A.conj().T) / 2j)
    ex = ssol.ChebExp(sps.csr_array(A), (he[0], he[-1], ae[0], ae[-1]))
    x = rng.normal(size=n) + 0j
    for t in (0.0, 0.3, 5.0, 60.0):
        err = np.linalg.norm(ex(x, t) - sla.expm(A * t) @ x)
        assert err <= max(ex.rounding(t, 1.0), 1e-15) and err <= 1e-11
    ch, dense, comp = maps(4)
    L = Lindbladian(ch, comp, 1.0)
    As = L.sector_matrix(5)
    ex = ssol.ChebExp(As, L.structure().num_range[5])
    tx = ssol.TaylorExp(As)
    x = rng.normal(size=As.shape[0]) + 0j
    ref = sla.expm(As.toarray() * 35.0) @ x
    assert np.linalg.norm(ex(x, 35.0) - ref) <= 1e-12 * np.linalg.norm(x)
    tx(x, 35.0)
    assert ex.matvecs < tx.matvecs / 2  # the point of the expansion: fewer sparse products


def test_spectral_gap_chebexp_arnoldi_vs_dense_eigenvalues(monkeypatch):
    """N = 5 local with every sector > 20 forced onto Arnoldi on exp(L tau) by ChebExp: the gap (an
    oscillating coherence mode) vs eigvals of the full dense generator, within the estimate."""
    ch, dense, comp = maps(5)
    Ld = Lindbladian(ch, dense, 1.0).superoperator()
    lam = np.linalg.eigvals(Ld)
    ref = float(np.min(-np.delete(lam, np.argmin(np.abs(lam))).real))
    no_densify(monkeypatch)
    force_arnoldi(monkeypatch, 20)
    monkeypatch.setattr(fermionic, "QUASI_FREE_GAP", False)  # the sector path, not the quasi-free blocks
    calls = []
    orig = ssol.ChebExp.__call__
    monkeypatch.setattr(ssol.ChebExp, "__call__", lambda self, x, t: calls.append(1) or orig(self, x, t))
    g = Lindbladian(ch, comp, 1.0).spectral_gap(k=12)
    assert calls and g.diagnostics["arnoldi_sectors"] >= 4
    assert abs(g.value - ref) <= g.error.total + 1e-13
    assert abs(g.eigenvalue.imag) > 1.0


@pytest.mark.parametrize("method", ["slow-modes", "rational-krylov"])
def test_slow_mode_propagation_with_chebexp_vs_dense(monkeypatch, method):
    """N = 4 local, a large-sector method forced (sectors > 40; slow modes with a ChebExp Taylor phase, or
    rational Krylov after a ChebExp fast phase): agrees with the dense eig propagation of the dense map to
    t = 1e5 within the estimates."""
    ch, dense, comp = maps(4)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(16, 16)) + 1j * rng.normal(size=(16, 16))
    rho = X @ X.conj().T
    rho /= np.trace(rho)
    ed = Lindbladian(ch, dense, 1.0).evolve(rho, TIMES)
    no_densify(monkeypatch)
    force_arnoldi(monkeypatch, 40)
    monkeypatch.setattr(ssol, "LARGE_SECTOR_METHOD", method)
    ec = Lindbladian(ch, comp, 1.0).evolve(rho, TIMES, slow_modes=30)
    big = [f for f in ec.diagnostics["per_sector"] if f["method"] == method]
    if method == "slow-modes":
        assert big and all(f["exp_method"] == "ChebExp" and f["switch_time"] < 1e5 for f in big)
    else:
        assert big and all(f["tol_reached"] and f["fast_phase_end"] > 0 for f in big)
    diff = np.max(np.abs(ed.states - ec.states), axis=(1, 2))
    assert np.all(diff <= ed.error["rounding"].value + ec.error["rounding"].value)


def test_closed_form_only_where_uniqueness_is_proven():
    """N = 3 uniform: bombarded end site 3 takes the closed form and the dense generator has exactly one
    eigenvalue at 0 (the Frigerio argument); the middle site 2 has a dark reflection-odd mode (a second
    zero eigenvalue), so the closed form is not used and the general path refuses (no unique state)."""
    ch = QubitChain(3, H, 0.1)
    for site, zeros in ((3, 1), (2, 2)):
        S = collision_map(ch, BATH, DeltaCoupling(50.0, site=site), kind="local", storage="compact")
        L = Lindbladian(ch, S, 1.0)
        lam = np.abs(np.linalg.eigvals(L.superoperator()))
        assert int(np.sum(lam < 1e-10)) == zeros and np.sort(lam)[zeros] > 1e-3
        if zeros == 1:
            assert L.steady_state().metadata["sector_solve"]["method"].startswith("closed form")
        else:
            with pytest.raises(ValueError, match="no unique stationary state"):
                L.steady_state()


def test_chebexp_long_step_with_positive_numerical_range_does_not_overflow():
    """A rectangle reaching Re > 0 (the numerical range of a sector can) over a long time: the Lumer-Phillips
    factor e^{t re_hi} is not representable, so the error estimate is inf -- but the vector is still
    exp(A t) x (here A = -0.01 I + small skew part, checked against expm), and no OverflowError is raised (it
    killed a 91-minute `symcoll scaling --N-max 8` run at local N = 8, eps = 1e-3)."""
    rng = np.random.default_rng(8)
    n = 6
    R = rng.normal(size=(n, n))
    A = -0.01 * np.eye(n) - 1e-3j * (R + R.T)
    ex = ssol.ChebExp(sps.csr_array(A), (-0.02, 0.5, -0.01, 0.01))  # a valid (loose) rectangle with re_hi > 0
    x = rng.normal(size=n) + 0j
    t = 2000.0  # re_hi * t = 1000: e^1000 overflows a float
    y = ex(x, t)
    assert np.linalg.norm(y - sla.expm(A * t) @ x) <= 1e-12 * np.linalg.norm(x)
    assert ex.rounding(t, 1.0) == np.inf
