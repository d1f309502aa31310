"""Rational Krylov propagation and Ritz values of large local sectors/blocks (issue 16, small eps).

Oracles: ``scipy.linalg.expm`` of the dense sector matrix, the dense-eig path of
:meth:`SectorLindbladian.evolve` (sectors below ``DENSE_SECTOR_MAX``), ``numpy.linalg.eigvals`` of the
dense block.  Sizes are kept small (N = 4, 5) by lowering the dense cut-offs.
"""
import numpy as np
import pytest
import scipy.linalg as sla

import symcoll.dynamics.fermionic as fm
import symcoll.dynamics.sector_solve as ss
from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.dynamics import Lindbladian
from symcoll.dynamics.rational_krylov import rational_krylov_propagate, rational_ritz
from symcoll.paper import basis_state
from symcoll.phase_diagram import PLATEAU_TIMES

BATH = EffusionBath(0.1, 0.1, 0.5)
TIMES = np.concatenate([PLATEAU_TIMES, [0.37, 12.5, 4.4e4]])


def _local(N, eps, h=4.0):
    ch = QubitChain(N, h, eps)
    return ch, Lindbladian(ch, collision_map(ch, BATH, DeltaCoupling(50.0), kind="local", storage="compact"), 1.0)


def _population(L):
    st = L.structure()
    p = st.population_sector()
    return L.sector_matrix(p), st.sectors[p]


def _random_state(d, seed):
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = G @ G.conj().T
    return rho / np.trace(rho)


def _decaying_part(L, idx, rho):
    """``x - x_ss`` of the population sector (traceless: it decays to 0, as in ``evolve``)."""
    from symcoll import conventions as cv

    x = cv.vec(L._to_work(np.asarray(rho, dtype=complex)))[idx]
    xss = cv.vec(L._to_work(np.asarray(L.steady_state().state, dtype=complex)))[idx]
    return x - xss


@pytest.mark.parametrize("eps", [1e-3, 0.1])
def test_propagation_against_expm_with_honest_estimate(eps):
    """exp(L_s s) y at s = 0.3 .. 1e10 against expm of the dense sector (N = 5, 252): the error is
    below the estimate, and the estimate reaches the requested tolerance."""
    ch, L = _local(5, eps)
    Ls, idx = _population(L)
    y = _decaying_part(L, idx, _random_state(ch.dim, 3))
    s = np.array([0.3, 3.0, 100.0, 1e4, 1e6, 1e10])
    Y, err, info = rational_krylov_propagate(Ls, y, s, ch.dim, tol=1e-10, t_scale=0.1)
    A = Ls.toarray()
    ref = np.array([sla.expm(A * t) @ y for t in s])
    diff = np.sqrt(ch.dim) * np.linalg.norm(Y - ref, axis=1)  # >= trace norm of the difference
    assert info["tol_reached"]
    assert np.all(np.linalg.norm(Y - ref, axis=1) <= err + 1e-13 * np.linalg.norm(y))
    assert err.max() <= 1e-8 * np.linalg.norm(y)  # defect <= 1e-10 |y| plus the eig-of-S rounding estimate
    assert diff.max() < 1e-8 * np.linalg.norm(y)


def test_too_small_basis_gives_a_large_estimate_not_a_wrong_answer():
    """Capped at 12 vectors the approximation is poor at intermediate times; the Duhamel estimate says so
    (it is at least the true error everywhere) and ``tol_reached`` is False."""
    ch, L = _local(5, 1e-3)
    Ls, idx = _population(L)
    y = _decaying_part(L, idx, _random_state(ch.dim, 4))
    s = np.logspace(0, 8, 17)
    Y, err, info = rational_krylov_propagate(Ls, y, s, ch.dim, tol=1e-12, max_basis=12, t_scale=1.0)
    A = Ls.toarray()
    ref = np.array([sla.expm(A * t) @ y for t in s])
    true = np.linalg.norm(Y - ref, axis=1)
    assert not info["tol_reached"] and info["basis"] == 12
    assert true.max() > 1e-6 * np.linalg.norm(y)  # the cap really hurts
    assert np.all(true <= err)


@pytest.mark.parametrize("eps", [1e-3, 0.1])
def test_evolve_rational_equals_dense_path(monkeypatch, eps):
    """SectorLindbladian.evolve from |0..0> at the plateau times with the population sector (N = 5, 252)
    forced onto the rational Krylov path equals the dense-eig path within the two rounding estimates."""
    ch, L = _local(5, eps)
    ref = L.evolve(basis_state(ch, 0), TIMES)
    monkeypatch.setattr(ss, "DENSE_SECTOR_MAX", 100)
    ev = L.evolve(basis_state(ch, 0), TIMES)
    methods = {f["method"] for f in ev.diagnostics["per_sector"]}
    assert "rational-krylov" in methods
    diff = np.array([np.abs(np.linalg.svd(a - b, compute_uv=False)).sum() for a, b in zip(ev.states, ref.states)])
    est = ev.error.parts["rounding"].value + ref.error.parts["rounding"].value
    assert np.all(diff <= est)
    assert est.max() < 1e-6
    assert np.max(np.abs(np.trace(ev.states, axis1=1, axis2=2) - 1)) < 1e-10


def test_ritz_rightmost_against_dense_eigenvalues():
    """The rightmost Ritz values of quasi-free blocks (N = 5, eps = 1e-3, where thousands of modes would
    cluster at larger N) equal the rightmost dense eigenvalues to their residual scale."""
    ch, L = _local(5, 1e-3)
    qf, why = fm.quasi_free(L)
    assert qf is not None, why
    for blk in [(1, 2), (2, 2), (2, 3)]:
        M = qf.block(*blk)
        lam, X, res, info = rational_ritz(M, k=3, tol=1e-10)
        assert info["converged"]
        ev = np.linalg.eigvals(M.toarray())
        ev = ev[np.argsort(-ev.real)]
        assert abs(lam[0] - ev[0]) <= 1e-9 * max(1.0, abs(ev[0]))
        assert abs(lam[0].real - ev[0].real) <= 1e-9 * abs(ev[0].real)
        r = np.linalg.norm(M @ X - X * lam[None, :], axis=0)
        assert np.allclose(r, res, rtol=1e-6, atol=1e-15)


def test_quasi_free_gap_with_ritz_blocks_equals_dense_gap(monkeypatch):
    """The gap at N = 5, eps = 1e-3 with every block above 30 by Ritz values equals the gap from the
    dense blocks within its error estimate."""
    ch, L = _local(5, 1e-3)
    ref = L.spectral_gap()
    _, L2 = _local(5, 1e-3)
    monkeypatch.setattr(fm, "BLOCK_DENSE_MAX", 30)
    monkeypatch.setattr(fm, "LARGE_BLOCK_METHOD", "rational-ritz")
    g = L2.spectral_gap()
    assert any(b["method"] == "rational-ritz" for b in g.diagnostics["blocks_computed"])
    assert abs(g.value - ref.value) <= g.error.total + ref.error.total
    assert abs(g.value - ref.value) <= 1e-9 * ref.value


def _force_large(monkeypatch, cut=100):
    import symcoll.dynamics.sector_generator as sg

    for mod in (ss, sg):
        monkeypatch.setattr(mod, "DENSE_SECTOR_MAX", cut)


def test_auto_takes_slow_modes_when_they_suffice(monkeypatch):
    """eps = 0.1, N = 5 with the population sector (252) forced large: the slow modes are within budget and
    their estimate is small, so "auto" keeps them; the states equal the dense path within the estimates."""
    ch, L = _local(5, 0.1)
    ref = L.evolve(basis_state(ch, 0), TIMES)
    _force_large(monkeypatch)
    monkeypatch.setattr(ss, "LARGE_SECTOR_METHOD", "auto")
    _, L2 = _local(5, 0.1)
    ev = L2.evolve(basis_state(ch, 0), TIMES)
    big = [f for f in ev.diagnostics["per_sector"] if f["n"] > 100]
    assert big and all(f["method"] == "slow-modes" for f in big)
    diff = np.array([np.abs(np.linalg.svd(a - b, compute_uv=False)).sum() for a, b in zip(ev.states, ref.states)])
    assert np.all(diff <= ev.error.parts["rounding"].value + ref.error.parts["rounding"].value)


@pytest.mark.parametrize("patch", [("AUTO_SLOW_MODE_PRODUCTS", 50), ("AUTO_ESTIMATE_MAX", 1e-30)])
def test_auto_falls_back_to_rational(monkeypatch, patch):
    """A slow-mode run over its product budget, or a slow-mode estimate above the accepted one, sends "auto"
    to the rational Krylov path; the states still equal the dense path within the estimates."""
    ch, L = _local(5, 0.1)
    ref = L.evolve(basis_state(ch, 0), TIMES)
    _force_large(monkeypatch)
    monkeypatch.setattr(ss, "LARGE_SECTOR_METHOD", "auto")
    monkeypatch.setattr(ss, *patch)
    _, L2 = _local(5, 0.1)
    ev = L2.evolve(basis_state(ch, 0), TIMES)
    big = [f for f in ev.diagnostics["per_sector"] if f["n"] > 100]
    assert big and all(f["method"] == "rational-krylov" for f in big)
    if patch[0] == "AUTO_ESTIMATE_MAX":
        assert all("auto_fallback" in f for f in big)
    diff = np.array([np.abs(np.linalg.svd(a - b, compute_uv=False)).sum() for a, b in zip(ev.states, ref.states)])
    assert np.all(diff <= ev.error.parts["rounding"].value + ref.error.parts["rounding"].value)


def test_memory_estimated_and_refused_before_the_basis(monkeypatch):
    """The basis and an LU are estimated before allocation; above SECTOR_MEMORY_LIMIT the ValueError names
    the GiB."""
    import symcoll.dynamics.sectors as sec

    ch, L = _local(5, 1e-3)
    Ls, idx = _population(L)
    y = _decaying_part(L, idx, _random_state(ch.dim, 5))
    monkeypatch.setattr(sec, "SECTOR_MEMORY_LIMIT", 1000)
    with pytest.raises(ValueError, match=r"rational Krylov propagation .* GiB"):
        rational_krylov_propagate(Ls, y, [1.0, 10.0], ch.dim, 1e-10, memory_check=sec.check_memory)


def test_estimate_covers_rounding_growth_on_a_slow_lindbladian():
    """A random d = 5 Lindbladian with rates ~1e-6 (||L|| ~ 26): the eigenvalue rounding of the Galerkin
    matrix dephases the modes over s up to 1e8; the estimate (which includes that growth) stays above the
    trace-norm error against a 50-digit mpmath eigen-propagation of the same matrix.  (Found by a second
    reader: a constant rounding term was below the true error at s = 1e3.)"""
    import mpmath as mp
    import scipy.sparse as sps

    rng = np.random.default_rng(3)
    d = 5
    eye = np.eye(d)
    H = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    H = 1.5 * (H + H.conj().T)
    A = -1j * (np.kron(eye, H) - np.kron(H.T, eye))
    for _ in range(2):
        K = 1e-3 * (rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
        KK = K.conj().T @ K
        A += np.kron(K.conj(), K) - 0.5 * np.kron(eye, KK) - 0.5 * np.kron(KK.T, eye)
    rho = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = rho @ rho.conj().T
    rho /= np.trace(rho)
    w, vr = np.linalg.eig(A)
    j = int(np.argmin(abs(w)))
    y = rho.reshape(-1, order="F") - vr[:, j] / vr[:, j].reshape(d, d, order="F").trace()
    s = np.array([1e-3, 1.0, 1e3, 1e5, 1e6, 1e7, 1e8])
    Y, err, _ = rational_krylov_propagate(sps.csc_array(A), y, s, d, 1e-10)
    mp.mp.dps = 50
    E, ER = mp.eig(mp.matrix(A.tolist()))
    cm = ER ** -1 * mp.matrix(y.tolist())
    for k, sv in enumerate(s):
        ref = ER * mp.matrix([mp.exp(E[i] * sv) * cm[i] for i in range(d * d)])
        D = (Y[k] - np.array([complex(ref[i]) for i in range(d * d)])).reshape(d, d, order="F")
        assert np.linalg.norm(D, "nuc") <= err[k]
    mp.mp.dps = 15


def test_bad_times_are_refused():
    ch, L = _local(4, 0.1)
    Ls, idx = _population(L)
    y = _decaying_part(L, idx, _random_state(ch.dim, 1))
    for bad in ([1.0, -1.0], [np.nan], [2.0, 1.0]):
        with pytest.raises(ValueError, match="s_out"):
            rational_krylov_propagate(Ls, y, bad, ch.dim, 1e-10)


def test_passes_are_reported_inside_reporting_only():
    """Within ``reporting(fn)`` each pass of the propagation and of the Ritz values sends one line (sector size,
    basis so far, the stopping quantity); the basis grows from line to line; outside the block nothing is sent."""
    import re

    from symcoll.dynamics.rational_krylov import reporting

    ch, L = _local(5, 1e-3)
    Ls, idx = _population(L)
    y = _decaying_part(L, idx, _random_state(ch.dim, 3))
    s = np.array([0.3, 1e4, 1e10])
    lines = []
    with reporting(lines.append):
        _, _, info = rational_krylov_propagate(Ls, y, s, ch.dim, tol=1e-10, t_scale=0.1)
        M = fm.quasi_free(L)[0].block(2, 2)
        _, _, _, rinfo = rational_ritz(M, k=3, tol=1e-10)
    prop = [ln for ln in lines if ln.startswith(f"rational Krylov propagation, sector of {Ls.shape[0]}: pass ")]
    ritz = [ln for ln in lines if ln.startswith(f"rational Krylov Ritz values, block of {M.shape[0]}: pass ")]
    assert len(prop) == info["passes"] and len(ritz) == rinfo["passes"] and len(prop) + len(ritz) == len(lines)
    basis = [int(re.search(r"basis (\d+)", ln).group(1)) for ln in prop]
    assert basis == sorted(basis) and basis[-1] == info["basis"]
    last = float(re.search(r"defect estimate (\S+) \(stops below (\S+)\)", prop[-1]).group(1))
    assert last <= 1e-10 * np.linalg.norm(y)  # the last pass is the one that stopped (tol_reached)
    n_before = len(lines)
    rational_krylov_propagate(Ls, y, s, ch.dim, tol=1e-10, t_scale=0.1)
    assert len(lines) == n_before
