"""Sector generators of compact maps (issue 16): SectorLindbladian, spectral_gap, slow-mode propagation.

Oracles (independent of the code under test):
* the dense generator (71) of the *dense* map of the same physics (``storage="dense"``: the d^4
  tensor, the dense superoperator, its invariant blocks from the dense pattern, eigenbasis);
* ``numpy.linalg.eigvals`` of the full dense generator for the gap;
* closed forms: the local map's stationary state is the local thermal state (73)
  ``exp(-beta H_loc)/Z`` (uniform h: [H(eps), H_loc] = 0 and S_1 fixes the site Gibbs state);
* ``scipy.linalg.expm`` for the Taylor exponential.
"""
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sps

import symcoll.dynamics.sector_generator as sg
import symcoll.dynamics.fermionic as fermionic
import symcoll.dynamics.sector_solve as ssol
import symcoll.dynamics.sectors as secs
from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll import conventions as cv
from symcoll.dynamics import Lindbladian
from symcoll.dynamics.sector_generator import SectorLindbladian
from symcoll.maps import memory

BETA, H = 0.1, 4.0
BATH = EffusionBath(BETA, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)
TIMES = np.concatenate([[0.0], np.logspace(-2, 5, 15)])
_CACHE = {}


def maps(N, kind, eps=0.1):
    key = (N, kind, eps)
    if key not in _CACHE:
        ch = QubitChain(N, H, eps)
        _CACHE[key] = (ch, collision_map(ch, BATH, COUPLING, kind=kind, storage="dense"),
                       collision_map(ch, BATH, COUPLING, kind=kind, storage="compact"))
    return _CACHE[key]


def random_state(d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = X @ X.conj().T
    return rho / np.trace(rho)


def no_densify(monkeypatch):
    """From here on a compact map asked for its dense tensor raises: the sector path must never ask."""
    monkeypatch.setattr(memory, "MAX_BYTES", 0)


def full_gap(L):
    lam = np.linalg.eigvals(L)
    i0 = np.argmin(np.abs(lam))
    return float(np.min(-np.delete(lam, i0).real))


@pytest.mark.parametrize("N,kind", [(3, "global"), (3, "local"), (4, "global"), (4, "local")])
def test_sector_evolution_matches_dense_generator(N, kind, monkeypatch):
    """All sectors populated (random rho0): compact (sectors) vs dense map (dense L) within the
    two rounding estimates; the compact map is never densified."""
    ch, dense, comp = maps(N, kind)
    Ld = Lindbladian(ch, dense, 1.0)
    ed = Ld.evolve(random_state(ch.dim, N), TIMES)
    no_densify(monkeypatch)
    Lc = Lindbladian(ch, comp, 1.0)
    assert isinstance(Lc, SectorLindbladian) and isinstance(Lc, Lindbladian)
    ec = Lc.evolve(random_state(ch.dim, N), TIMES)
    assert ec.diagnostics["sectors_propagated"] == len(Lc.structure().sectors)
    diff = np.max(np.abs(ed.states - ec.states), axis=(1, 2))
    assert np.all(diff <= ed.error["rounding"].value + ec.error["rounding"].value)
    assert np.all(ec.error.total >= ec.error["rounding"].value) and ec.error_bound is None


@pytest.mark.parametrize("N,kind", [(3, "global"), (4, "local"), (4, "global")])
def test_sectors_are_exact_invariant_subspaces(N, kind):
    """The dense generator of the dense map has no entry between two different sectors (beyond
    its rotation rounding), and inside the sectors it equals the sector generator."""
    ch, dense, comp = maps(N, kind)
    Ld = Lindbladian(ch, dense, 1.0).superoperator()
    Lc = Lindbladian(ch, comp, 1.0)
    st = Lc.structure()
    W = np.eye(ch.dim) if st.basis == "eigen" else st.U
    # sectors of the working basis -> eigenbasis index sets: the local basis sectors (Delta n) map to
    # eigenbasis pairs with the same band difference (eigenvectors preserve the excitation number)
    if st.basis == "local":
        band = np.array([cv.excitation_numbers(ch.N)[np.argmax(np.abs(W[:, j]))] for j in range(ch.dim)])
        lab = cv.vec(band[:, None] - band[None, :])
    else:
        lab = np.empty(ch.dim**2, dtype=int)
        for i, idx in enumerate(st.sectors):
            lab[idx] = i
    cross = lab[:, None] != lab[None, :]
    scale = np.abs(Ld).max()
    assert np.abs(Ld[cross]).max() <= 1e-13 * scale
    assert np.abs(Lc.superoperator() - Ld).max() <= 1e-13 * scale
    if kind == "global":  # every sector has one Bohr frequency (a refinement of the classes)
        e = np.asarray(ch.eigensystem().energies, dtype=float)
        bohr = cv.vec(e[:, None] - e[None, :])
        for idx in st.sectors:
            assert np.ptp(bohr[idx]) <= 1e-9


@pytest.mark.parametrize("N,kind", [(4, "global"), (5, "local")])
def test_spectral_gap_against_dense_eigenvalues(N, kind, monkeypatch):
    """Sector gap (dense sectors, and Arnoldi on exp(L tau) with the dense cut lowered) and the dense
    Lindbladian's gap vs eigvals of the full dense generator, within the reported estimates."""
    ch, dense, comp = maps(N, kind)
    Ld = Lindbladian(ch, dense, 1.0)
    ref = full_gap(Ld.superoperator())
    gd = Ld.spectral_gap()
    assert abs(gd.value - ref) <= gd.error.total + 1e-14
    no_densify(monkeypatch)
    gc = Lindbladian(ch, comp, 1.0).spectral_gap()
    assert abs(gc.value - ref) <= gc.error.total + 1e-14 and gc.error_bound is None
    assert gc.relaxation_time == pytest.approx(1 / gc.value)


def test_spectral_gap_arnoldi_path(monkeypatch):
    """Large-sector path forced on N = 4 local (sectors > 30 by Arnoldi on exp(L tau)): the gap, which
    sits on an oscillating coherence mode (Im lambda != 0, missed by a shift at 0), is found."""
    ch, dense, comp = maps(4, "local")
    ref = full_gap(Lindbladian(ch, dense, 1.0).superoperator())
    no_densify(monkeypatch)
    monkeypatch.setattr(ssol, "DENSE_SECTOR_MAX", 30)
    monkeypatch.setattr(fermionic, "QUASI_FREE_GAP", False)  # the sector path, not the quasi-free blocks
    monkeypatch.setattr(sg, "DENSE_SECTOR_MAX", 30)
    g = Lindbladian(ch, comp, 1.0).spectral_gap(k=20)
    assert g.diagnostics["arnoldi_sectors"] >= 2
    assert abs(g.value - ref) <= g.error.total + 1e-13
    assert abs(g.eigenvalue.imag) > 1.0  # the slowest mode oscillates


@pytest.mark.parametrize("kind", ["global", "local"])
def test_steady_state_sectors_vs_dense_and_closed_form(kind, monkeypatch):
    """N = 4: sector steady state vs the dense bordered solve; local: also vs exp(-beta H_loc)/Z (73)."""
    ch, dense, comp = maps(4, kind)
    sd = Lindbladian(ch, dense, 1.0).steady_state()
    no_densify(monkeypatch)
    sc = Lindbladian(ch, comp, 1.0).steady_state()
    assert np.abs(sd.state - sc.state).max() <= sd.error.total + sc.error.total
    assert sc.residual < 1e-13
    if kind == "local":
        nloc = cv.excitation_numbers(ch.N)
        g = np.exp(-BETA * H * nloc)
        U = np.asarray(ch.eigensystem().vectors, dtype=float)
        tau = U.T @ np.diag(g / g.sum()) @ U
        assert np.abs(sc.state - tau).max() <= sc.error.total


def test_slow_mode_propagation_and_steady_state(monkeypatch):
    """Slow-mode method (Taylor phase, then slow eigenmodes) forced on N = 4 local: agrees with dense
    eig propagation to t = 1e5 within the estimates, and switched before t_max."""
    ch, dense, comp = maps(4, "local")
    rho = np.zeros((16, 16))
    rho[0, 0] = 1.0
    Ld = Lindbladian(ch, dense, 1.0)
    ed = Ld.evolve(rho, TIMES)
    no_densify(monkeypatch)
    for mod in (ssol, sg):
        monkeypatch.setattr(mod, "DENSE_SECTOR_MAX", 40)
    monkeypatch.setattr(sg, "STEADY_LU_MAX", 40)
    monkeypatch.setattr(sg, "CLOSED_FORM_STEADY", False)
    monkeypatch.setattr(ssol, "LARGE_SECTOR_METHOD", "slow-modes")
    Lc = Lindbladian(ch, comp, 1.0)
    ec = Lc.evolve(rho, TIMES, slow_modes=30)
    info = ec.diagnostics["per_sector"][0]
    assert info["method"] == "slow-modes" and info["switch_time"] is not None and info["switch_time"] < 1e5
    diff = np.max(np.abs(ed.states - ec.states), axis=(1, 2))
    assert np.all(diff <= ed.error["rounding"].value + ec.error["rounding"].value)
    assert Lc.steady_state().metadata["sector_solve"]["method"] == "slow-mode eigenvector"
    assert np.abs(Lc.steady_state().state - Ld.steady_state().state).max() <= Lc.steady_state().error.total


def test_taylor_exponential_against_expm():
    """TaylorExp at ||A||_1 t ~ 1e3 (hundreds of steps) vs scipy.linalg.expm (A dissipative: -i H - D)."""
    rng = np.random.default_rng(3)
    R = sps.random_array((40, 40), density=0.2, random_state=rng)
    A = sps.csr_array(-1j * 3 * (R + R.T) - sps.diags_array(rng.uniform(0, 0.05, 40)))
    x = rng.normal(size=40) + 0j
    ex = ssol.TaylorExp(A)
    for t in (0.0, 0.3, 50.0):
        ref = sla.expm(A.toarray() * t) @ x
        assert np.abs(ex(x, t) - ref).max() <= 1e-12 * np.linalg.norm(x)


def test_memory_refused_with_the_number(monkeypatch):
    ch, dense, comp = maps(3, "local")
    monkeypatch.setattr(secs, "SECTOR_MEMORY_LIMIT", 1000)
    with pytest.raises(ValueError, match=r"GiB \(\d+ bytes, estimated before allocating\).*SECTOR_MEMORY_LIMIT"):
        Lindbladian(ch, comp, 1.0).structure()
    ch, dense, comp = maps(3, "global")
    with pytest.raises(ValueError, match="SECTOR_MEMORY_LIMIT"):
        Lindbladian(ch, comp, 1.0).steady_state()


def test_bad_inputs():
    ch, dense, comp = maps(3, "global")
    # the sector generator is float64 only: with dps a compact map takes the dense mpmath path
    from symcoll.dynamics.sector_generator import SectorLindbladian

    assert not isinstance(Lindbladian(ch, comp, 1.0, dps=20), SectorLindbladian)
    assert isinstance(Lindbladian(ch, comp, 1.0), SectorLindbladian)
    L = Lindbladian(ch, comp, 1.0)
    with pytest.raises(ValueError, match="method must be one of 'auto', 'eig', 'expm'"):
        L.evolve(np.eye(8) / 8, [1.0], method="refined")
    with pytest.raises(ValueError, match="times must be >= 0"):
        L.evolve(np.eye(8) / 8, [-1.0])
    with pytest.raises(ValueError, match="Gamma"):
        Lindbladian(ch, comp, -1.0)
    with pytest.raises(ValueError, match=r"rho must have shape \(8, 8\)"):
        L.apply(np.eye(4))
