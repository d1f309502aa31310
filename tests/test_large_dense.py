"""Large dense generators: the steady state (n = d^2 > INVERSE_MAX_N: the exact map at N = 6, 7; issue 16):
one LU of the bordered generator built from the map's tensor, sigma_min by Lanczos on that LU.

Oracles: the componentwise path (explicit inverse) on the same generator, LAPACK's SVD for sigma_min, the Gibbs
state (72) for a map obeying detailed balance, and L applied through the dense superoperator.
"""
import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map
from symcoll import conventions as cv
from symcoll.dynamics import steady
from symcoll.maps import memory

BATH, CP = EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0)


@pytest.fixture(scope="module")
def exact4():
    ch = QubitChain(4, 4.0, 0.1)
    return ch, collision_map(ch, BATH, CP, kind="exact")


def _lu_path(monkeypatch):
    monkeypatch.setattr(steady, "INVERSE_MAX_N", 16)


def test_lu_path_matches_componentwise_path(exact4, monkeypatch):
    """The same stationary state as the explicit-inverse path, within the sum of both error estimates, and an
    error estimate that is not below the difference of the two."""
    ch, S = exact4
    ref = Lindbladian(ch, S, 1.0).steady_state()
    _lu_path(monkeypatch)
    lu = Lindbladian(ch, S, 1.0).steady_state()
    assert "Lanczos" in lu.metadata["steady_state_method"]
    diff = float(np.linalg.norm(np.asarray(lu.state) - np.asarray(ref.state)))
    assert diff <= lu.error_estimate + ref.error_estimate
    assert diff < 1e-11
    assert not lu.error.rigorous and lu.error_bound is None  # estimates, named so
    assert abs(np.trace(np.asarray(lu.state)) - 1) < 1e-13


def test_sigma_min_by_lanczos_against_svd(exact4):
    """sigma_min of the bordered generator from the LU (Lanczos) equals LAPACK's smallest singular value; the
    cheap ||A||_2 bound is >= the largest one."""
    ch, S = exact4
    g = Lindbladian(ch, S, 1.0)
    d = g.d
    tr_idx = np.array([j + d * j for j in range(d)])
    A = steady._bordered(steady.FloatContext(), g.superoperator_float(), tr_idx)
    sv = np.linalg.svd(A, compute_uv=False)
    lu, piv, norm2 = steady.generator_lu(g, tr_idx=tr_idx)
    smin = steady._sigma_min_lu(lu, piv, d * d)
    assert smin == pytest.approx(sv[-1], rel=1e-5)
    assert norm2 >= sv[0] * (1 - 1e-12)
    assert norm2 <= 4 * sv[0]


def test_global_map_steady_state_is_gibbs_on_lu_path(monkeypatch):
    """The global map (45) obeys detailed balance, so its stationary state is the Gibbs state (72) (an oracle
    independent of the solver); dense storage so the dense generator is used."""
    from symcoll import observables as ob

    ch = QubitChain(4, 4.0, 0.1)
    S = collision_map(ch, BATH, CP, kind="global", storage="dense")
    _lu_path(monkeypatch)
    ss = Lindbladian(ch, S, 1.0).steady_state()
    gibbs_eig = np.asarray(ob.gibbs_state(ch, 0.1), dtype=complex)  # (72) in the eigenbasis
    diff = float(np.linalg.norm(np.asarray(ss.state) - gibbs_eig))
    assert diff < 1e-10
    assert diff <= ss.error_estimate + 1e-12


def test_apply_generator_equals_superoperator(exact4):
    ch, S = exact4
    g = Lindbladian(ch, S, 0.7)
    rng = np.random.default_rng(3)
    x = rng.normal(size=g.d ** 2) + 1j * rng.normal(size=g.d ** 2)
    ref = g.superoperator_float() @ x
    assert np.allclose(steady.apply_generator(g, x), ref, rtol=0, atol=1e-12 * np.linalg.norm(ref))


def test_lu_path_refuses_above_the_memory_limit_with_the_number(exact4, monkeypatch):
    """The bordered LU (one (d^2, d^2) array) is checked before it is allocated; the error names the GiB."""
    ch, S = exact4
    _lu_path(monkeypatch)
    g = Lindbladian(ch, S, 1.0)
    monkeypatch.setattr(memory, "MAX_BYTES", 1000)
    with pytest.raises(ValueError, match=r"dense generator \(71\) for d = 16 needs about .* GiB .*bordered"):
        g.steady_state()


def test_no_unique_steady_state_on_lu_path(exact4, monkeypatch):
    ch, S = exact4
    _lu_path(monkeypatch)
    with pytest.raises(ValueError, match="no unique stationary state"):
        Lindbladian(ch, S, 0.0).steady_state()


def test_cond_v_by_lanczos_matches_svd(exact4, monkeypatch):
    """Above SVD_COND_MAX cond_2(V) of the eigenvector matrix comes from Lanczos on V and V^-1 (the exact map's
    4096 block at N = 6): the same number as LAPACK's SVD on the 256 block of N = 4."""
    from symcoll.dynamics import spectrum

    ch, S = exact4
    ref = Lindbladian(ch, S, 1.0).spectrum().condV
    monkeypatch.setattr(spectrum, "SVD_COND_MAX", 16)
    fast = Lindbladian(ch, S, 1.0).spectrum().condV
    assert fast == pytest.approx(ref, rel=1e-6)
    assert ref > 1.5  # a non-normal generator: the test can tell the two apart


def test_apply_two_reservoirs_equals_superoperator():
    """``Lindbladian.apply`` (float64: from the combined tensor, no dense L) equals the dense superoperator of two
    reservoirs, sum_i Gamma_i (S_i - I), on a random matrix."""
    ch = QubitChain(3, 4.0, 0.1)
    S1 = collision_map(ch, BATH, CP, kind="exact")
    S2 = collision_map(ch, EffusionBath(0.3, 0.1, 0.5), DeltaCoupling(30.0, site=3), kind="global", storage="dense")
    L = Lindbladian(ch, [S1, S2], [0.7, 1.3])
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    ref = cv.unvec(L.superoperator_float() @ cv.vec(X), 8)
    assert np.max(np.abs(L.apply(X) - ref)) <= 1e-12 * np.max(np.abs(ref))
    want = 0.7 * (S1.apply(X) - X) + 1.3 * (S2.apply(X) - X)  # the definition, map by map (no generator code)
    e = np.asarray(ch.eigensystem(None).energies, dtype=float)
    want = want - 1j * (e[:, None] - e[None, :]) * X
    assert np.max(np.abs(L.apply(X) - want)) <= 1e-12 * np.max(np.abs(want))


@pytest.mark.parametrize("kind", ["exact", "global"])
def test_real_eig_path_equals_complex(exact4, monkeypatch, kind):
    """Above REAL_EIG_MIN a block closed under rho -> rho^dagger is diagonalised as the real matrix B^H L B (dgeev).
    Against the complex zgeev path on the same N = 4 generator: the same eigenvalues, V diag(lam) V^-1 = L and
    V^-1 V = I to rounding, the same gap and the same evolution within its estimate; the global map's many blocks
    (not closed under the swap, conjugate partners apart) keep the complex path."""
    from symcoll.dynamics import spectrum

    ch, S = exact4
    if kind == "global":
        S = collision_map(ch, BATH, CP, kind="global", storage="dense")
    ref = Lindbladian(ch, S, 1.0)
    sp0 = ref.spectrum()
    calls = []
    real = spectrum._real_eig

    def spy(A, idx, d):
        out = real(A, idx, d)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(spectrum, "REAL_EIG_MIN", 8)
    monkeypatch.setattr(spectrum, "_real_eig", spy)
    g = Lindbladian(ch, S, 1.0)
    sp = g.spectrum()
    if kind == "exact":
        assert calls == [True]
    dist = np.abs(sp.lam[:, None] - sp0.lam[None, :])  # the same set (Hausdorff distance; order may differ)
    assert max(dist.min(axis=0).max(), dist.min(axis=1).max()) <= 1e-12
    A = g.superoperator_float()
    for bk in sp.blocks:
        B = A[np.ix_(bk.idx, bk.idx)]
        assert np.max(np.abs(bk.V @ (bk.lam[:, None] * bk.Vinv) - B)) <= 1e-11 * np.max(np.abs(B))
        assert np.max(np.abs(bk.Vinv @ bk.V - np.eye(len(bk.idx)))) <= 1e-10
        assert np.allclose(np.linalg.norm(bk.V, axis=0), 1.0, rtol=0, atol=1e-14)
    assert sp.condV == pytest.approx(sp0.condV, rel=1e-6)
    assert g.spectral_gap().value == pytest.approx(ref.spectral_gap().value, rel=1e-10)
    rho0 = np.zeros((16, 16))
    rho0[0, 0] = 1
    T = [0.0, 0.5, 10.0, 1e3, 1e5]
    e1, e0 = g.evolve(rho0, T), ref.evolve(rho0, T)
    diff = np.max(np.abs(np.asarray(e1.states) - np.asarray(e0.states)), axis=(1, 2))
    assert np.all(diff <= e1.error.total + e0.error.total) and diff.max() < 1e-11


def test_eigenvalue_only_gap_equals_dense_gap(exact4, monkeypatch):
    """Above LEAN_GAP_MIN_N (the exact map at N = 7) the gap comes from the eigenvalues of the real generator
    B^H L B built from the tensor, and kappa from inverse iteration: the same gap, eigenvalue and kappa as the dense
    spectrum (zgeev with vectors) on the N = 4 exact map, and no dense spectrum formed."""
    from symcoll.dynamics import lean_gap

    ch, S = exact4
    ref = Lindbladian(ch, S, 1.0).spectral_gap()
    monkeypatch.setattr(lean_gap, "LEAN_GAP_MIN_N", 16)
    g = Lindbladian(ch, S, 1.0)
    gap = g.spectral_gap()
    assert g._spectrum is None
    assert "real generator" in gap.diagnostics["method"]
    assert gap.value == pytest.approx(ref.value, rel=1e-10)
    assert abs(gap.eigenvalue.imag) == pytest.approx(abs(ref.eigenvalue.imag), rel=1e-10)
    assert gap.diagnostics["kappa"] == pytest.approx(ref.diagnostics["kappa"], rel=1e-6)
    assert gap.diagnostics["eigen_residual"] < 1e-10
    assert gap.error.total == pytest.approx(ref.error.total, rel=1e-3)


def test_real_generator_from_tensor(exact4):
    """B^H L B built row block by row block from the tensor equals the dense construction, and its imaginary part
    is at rounding level (Hermiticity preservation)."""
    import math

    from symcoll.dynamics import lean_gap

    ch, S = exact4
    g = Lindbladian(ch, S, 1.0)
    R, fro, im = lean_gap.real_generator(g)
    A = g.superoperator_float()
    assert fro == pytest.approx(np.linalg.norm(A), rel=1e-12)
    assert im <= math.sqrt(256) * 2.0 ** -52 * fro
    assert np.allclose(np.sort_complex(np.linalg.eigvals(R)).real, np.sort_complex(np.linalg.eigvals(A)).real,
                       atol=1e-9)
