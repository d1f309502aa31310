"""Quasi-free blocks of the local generator (67) and the fast spectral gap (issue 16, N = 10 in seconds).

Oracles, all independent of :mod:`symcoll.dynamics.fermionic`'s formulas:
* the sector matrices of :mod:`symcoll.dynamics.sectors` (built from the stored ``S_1`` and the chain's
  sparse ``H``), transformed into the basis of Jordan-Wigner monomials ``c^+_I c_J`` (times the parity P
  for odd operators) made here from dense Pauli strings: block triangularity and the diagonal blocks;
* ``numpy.linalg.eigvals`` of the dense sector / full generator: spectra union and the gap;
* the dense Lindbladian of the **dense** map (a different map-building path) for the gap.
"""
import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

import symcoll.dynamics.fermionic as fm
from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll import conventions as cv
from symcoll.dynamics import Lindbladian

BATH = EffusionBath(0.1, 0.1, 0.5)

# (N, h, eps, bath, coupling, Gamma): uniform paper-like (site 1), detuned with the far end bombarded and a
# large dephasing, a hotter bath with a weaker coupling and eps = 0.5
CASES = [
    (3, 4.0, 0.1, BATH, DeltaCoupling(50.0), 1.0),
    (4, 4.0, 0.1, BATH, DeltaCoupling(50.0), 1.0),
    (4, (4.0, 3.5, 4.4, 3.9), 0.3, BATH, DeltaCoupling(5.0, site=4), 2.0),
    (4, 2.0, 0.5, EffusionBath(0.5, 0.1, 0.5), DeltaCoupling(10.0), 0.7),
]


def _gen(N, h, eps, bath, coup, G, storage="compact"):
    ch = QubitChain(N, h, eps)
    return ch, Lindbladian(ch, collision_map(ch, bath, coup, kind="local", storage=storage), G)


def _pauli_jw(N, site):
    """c_m = Z...Z sigma^- from dense Kronecker products (mode 0 = site; site s is tensor factor s - 1)."""
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])  # |0><1| in the order (|0>, |1>)
    Z = np.diag([1.0, -1.0])
    sites = list(range(1, N + 1)) if site == 1 else list(range(N, 0, -1))
    out = []
    for m, s in enumerate(sites):
        fac = [np.eye(2)] * N
        for s2 in sites[:m]:
            fac[s2 - 1] = Z
        fac[s - 1] = sm
        op = fac[0]
        for f in fac[1:]:
            op = np.kron(op, f)
        out.append(op)
    return out


def _monomial_basis(N, site, dn, idx):
    cs = _pauli_jw(N, site)
    d = 2 ** N
    P = np.eye(d)
    for c in cs:
        P = P @ (np.eye(d) - 2 * c.T @ c)
    cols, labels = [], []
    for a in range(N + 1):
        b = a - dn
        if not 0 <= b <= N:
            continue
        for I in itertools.combinations(range(N), a):
            for J in itertools.combinations(range(N), b):
                X = np.eye(d)
                for i in I:
                    X = X @ cs[i].T
                for j in J:
                    X = X @ cs[j]
                if (a + b) % 2:
                    X = X @ P
                v = cv.vec(X)
                assert not np.any(np.delete(v, idx))  # the monomial lies in the sector
                cols.append(v[idx])
                labels.append((a, b))
    return np.array(cols).T, labels


@pytest.mark.parametrize("case", CASES, ids=["N3", "N4", "N4-detuned-siteN", "N4-hot"])
def test_sectors_block_triangular_with_the_predicted_diagonal_blocks(case):
    """In the monomial basis every sector of L^+ (of X -> L^+(X P) P for odd Delta n) has no entry from
    degree a + b = m to a higher degree, and its diagonal blocks are M_ab (dGamma_a(A) (x) 1 + 1 (x)
    dGamma_b(B) + D) of fermionic.QuasiFree.block."""
    ch, L = _gen(*case)
    qf, why = fm.quasi_free(L)
    assert qf is not None, why
    N, st = case[0], L.structure()
    scale = float(np.abs(L.superoperator_sparse().data).max())
    for si, dn in enumerate(st.labels):
        idx = st.sectors[si]
        T, labels = _monomial_basis(N, L.map.site, dn, idx)
        Mf = np.linalg.solve(T, L.sector_matrix(si).toarray().conj().T @ T)
        deg = np.array([a + b for a, b in labels])
        lab = np.array([a for a, _ in labels])
        up = deg[:, None] > deg[None, :]
        assert np.abs(Mf[up]).max(initial=0.0) <= 1e-12 * scale, dn
        assert np.abs(Mf[~up]).max() > 1e-3 * scale  # the basis change is not trivially zero
        for a in sorted(set(lab)):
            sel = lab == a
            assert np.abs(Mf[np.ix_(sel, sel)] - qf.block(a, a - dn).toarray()).max() <= 1e-12 * scale, (dn, a)


@pytest.mark.parametrize("case", CASES[1:], ids=["N4", "N4-detuned-siteN", "N4-hot"])
def test_sector_spectrum_is_the_union_of_block_spectra_and_bounds_hold(case):
    """eigvals of each dense sector = conj of the union of eigvals(M_ab) (optimal matching), and the
    proven bound of every block is >= the rightmost real part of its eigenvalues."""
    ch, L = _gen(*case)
    qf, _ = fm.quasi_free(L)
    st = L.structure()
    N = case[0]
    for si, dn in enumerate(st.labels):
        ref = np.linalg.eigvals(L.sector_matrix(si).toarray())
        blocks = [(a, a - dn) for a in range(N + 1) if 0 <= a - dn <= N]
        mine = np.concatenate([np.linalg.eigvals(qf.block(*bl).toarray()).conj() for bl in blocks])
        r, c = linear_sum_assignment(np.abs(ref[:, None] - mine[None, :]))
        assert len(r) == len(ref) == len(mine)
        assert np.abs(ref[r] - mine[c]).max() <= 1e-9, dn
        for bl in blocks:
            if bl != (0, 0):
                top = np.linalg.eigvals(qf.block(*bl).toarray()).real.max()
                assert qf.block_bound(*bl) >= top


def _full_gap(Ld):
    lam = np.linalg.eigvals(Ld)
    return float(np.min(-np.delete(lam, np.argmin(np.abs(lam))).real))


@pytest.mark.parametrize("case", CASES + [(5, 4.0, 0.1, BATH, DeltaCoupling(50.0), 1.0)],
                         ids=["N3", "N4", "N4-detuned-siteN", "N4-hot", "N5"])
def test_quasi_free_gap_against_dense_eigenvalues(case):
    """The gap of the quasi-free path vs eigvals of the full dense generator (same stored map) within its
    error estimate; the path is really taken and skips blocks by their bound."""
    ch, L = _gen(*case)
    g = L.spectral_gap()
    assert g.diagnostics["method"].startswith("quasi-free")
    assert g.diagnostics["blocks_skipped"] > 0
    assert g.diagnostics["skipped_bound_max"] < -g.value
    lam = np.linalg.eigvals(L.superoperator())
    ref = float(np.min(-np.delete(lam, np.argmin(np.abs(lam))).real))
    assert abs(g.value - ref) <= g.error.total
    # the reported eigenvalue is one of the generator's (either member of the conjugate pair)
    assert np.min(np.abs(lam - g.eigenvalue)) <= 1e-9
    assert g.error.total > 0 and "estimate" in str(g.error)


def test_quasi_free_gap_against_the_dense_map_path():
    """N = 4: the compact map's quasi-free gap vs the dense map's dense Lindbladian (another map path)."""
    case = CASES[1]
    _, L = _gen(*case)
    _, Ld = _gen(*case, storage="dense")
    g, gd = L.spectral_gap(), Ld.spectral_gap()
    assert abs(g.value - gd.value) <= g.error.total + gd.error.total


@pytest.mark.parametrize("method", ["arnoldi", "rational-ritz"])
def test_blocks_above_the_dense_cut_go_to_arnoldi(monkeypatch, method):
    """No skipping (bounds disabled) and a dense cut of 10: blocks of 16..36 by Arnoldi on exp(M tau) or by
    Ritz values on a rational Krylov space; the gap still equals the dense one within the estimate."""
    case = CASES[1]
    _, L = _gen(*case)
    monkeypatch.setattr(fm, "BLOCK_DENSE_MAX", 10)
    monkeypatch.setattr(fm, "LARGE_BLOCK_METHOD", method)
    monkeypatch.setattr(fm.QuasiFree, "block_bound", lambda self, a, b: np.inf)
    g = L.spectral_gap()
    assert g.diagnostics["arnoldi_sectors"] >= 3 and g.diagnostics["blocks_skipped"] == 0
    assert all(b["converged"] for b in g.diagnostics["blocks_computed"])
    assert abs(g.value - _full_gap(L.superoperator())) <= g.error.total


def test_inner_site_is_refused_and_takes_the_sector_path():
    """Bombarded inner site: the Jordan-Wigner string makes the jumps non-linear, so quasi_free refuses
    with a reason, and spectral_gap falls back to the sector solver (still equal to the dense gap)."""
    case = (4, 4.0, 0.1, BATH, DeltaCoupling(50.0, site=2), 1.0)
    _, L = _gen(*case)
    qf, why = fm.quasi_free(L)
    assert qf is None and "not an end site" in why
    g = L.spectral_gap()
    assert not g.diagnostics["method"].startswith("quasi-free")
    assert "not an end site" in g.diagnostics["quasi_free_not_used"]
    assert abs(g.value - _full_gap(L.superoperator())) <= g.error.total


def test_switch_off_gives_the_sector_path_and_the_same_gap(monkeypatch):
    case = CASES[1]
    _, L = _gen(*case)
    g = L.spectral_gap()
    monkeypatch.setattr(fm, "QUASI_FREE_GAP", False)
    _, L2 = _gen(*case)
    g2 = L2.spectral_gap()
    assert g2.diagnostics["method"].startswith("dense eigenvalues per sector")
    assert abs(g.value - g2.value) <= g.error.total + g2.error.total


def test_jw_annihilators_match_pauli_strings_and_anticommute():
    for site in (1, 3):
        cs = [c.toarray() for c in fm.jw_annihilators(3, site)]
        ref = _pauli_jw(3, site)
        assert all(np.array_equal(c, r) for c, r in zip(cs, ref))
        for i in range(3):
            for j in range(3):
                assert np.allclose(cs[i] @ cs[j].T + cs[j].T @ cs[i], np.eye(8) * (i == j), atol=0)


def test_gap_eigenvector_checked_in_the_stored_sector():
    """The minimiser's eigenvector (bottom block (0, 1)) as an operator sum_j x_j c_j P has a tiny residual
    in the stored sector matrix; a shifted eigenvalue gives a residual of the size of the shift (the check
    can fail)."""
    case = CASES[2]
    _, L = _gen(*case)
    g = L.spectral_gap()
    assert g.diagnostics["block"] == (0, 1)
    assert g.diagnostics["sector_residual"] <= 1e-12
    qf, _ = fm.quasi_free(L)
    M = qf.block(0, 1)
    assert fm._sector_residual(L, qf, 0, 1, M, g.eigenvalue + 1e-3) >= 0.5e-3
