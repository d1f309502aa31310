"""The real-form eigen-decomposition of a large single-block generator (dynamics/lean_spectrum.py; issue 16: the
exact map at N = 6, 7), exercised on the N = 4 exact map with the size thresholds lowered.

Oracles: the complex dense path (zgeev, explicit V and V^-1, LAPACK's SVD for cond(V)) on the same generator;
scipy's expm of the dense L (scaling and squaring, no eigenvectors); the LU steady state; and the first-order error
budget of the dense path forced onto the same mode-wise bound.
"""
import numpy as np
import pytest
import scipy.linalg as sla

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map
from symcoll import conventions as cv
from symcoll.dynamics import error_budget, lean_spectrum
from symcoll.dynamics.lean_spectrum import LeanSpectrum
from symcoll.maps import memory

BATH, CP = EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0)
T = np.array([0.0, 0.05, 0.5, 10.0, 300.0, 1e3, 1e5])


@pytest.fixture(scope="module")
def exact4():
    ch = QubitChain(4, 4.0, 0.1)
    return ch, collision_map(ch, BATH, CP, kind="exact")


def _states():
    rng = np.random.default_rng(11)
    A = rng.normal(size=(16, 16)) + 1j * rng.normal(size=(16, 16))
    mixed = A @ A.conj().T
    ground = np.zeros((16, 16))
    ground[0, 0] = 1
    return [ground, mixed / np.trace(mixed)]


def _lean(monkeypatch):
    monkeypatch.setattr(lean_spectrum, "LEAN_SPECTRUM_MIN_N", 16)


def test_applies_to_a_single_block_only(exact4, monkeypatch):
    """The exact map's generator is one block: it gets the real form; the global map's (many blocks) does not."""
    ch, S = exact4
    _lean(monkeypatch)
    assert isinstance(Lindbladian(ch, S, 1.0).spectrum(), LeanSpectrum)
    G = collision_map(ch, BATH, CP, kind="global", storage="dense")
    assert not isinstance(Lindbladian(ch, G, 1.0).spectrum(), LeanSpectrum)


def test_decomposition_against_dense_spectrum(exact4, monkeypatch):
    """Eigenvalues, cond_2(V) (SVD of the explicit V) and the eigenvalue condition numbers (row norms of V^-1) equal
    those of the complex dense path; modes() and combine() invert each other; L = V diag(lam) V^-1 applied to a
    vector equals the dense L."""
    ch, S = exact4
    ref = Lindbladian(ch, S, 1.0)
    sp0 = ref.spectrum()
    _lean(monkeypatch)
    g = Lindbladian(ch, S, 1.0)
    sp = g.spectrum()
    dist = np.abs(sp.lam[:, None] - sp0.lam[None, :])
    assert max(dist.min(axis=0).max(), dist.min(axis=1).max()) <= 1e-12
    V = sp0.blocks[0].V
    sv = np.linalg.svd(V, compute_uv=False)
    assert sp.condV == pytest.approx(sv[0] / sv[-1], rel=1e-6)
    k0 = np.linalg.norm(sp0.blocks[0].Vinv, axis=1)
    match = np.argmin(dist, axis=1)  # lean eigenvalue i <-> dense eigenvalue match[i]
    assert np.allclose(sp.kappa, k0[match], rtol=1e-8, atol=0)
    rng = np.random.default_rng(2)
    x = rng.normal(size=256) + 1j * rng.normal(size=256)
    gam = sp.modes(x)
    assert np.max(np.abs(sp.combine(gam[None, :])[0] - x)) <= 1e-12 * np.max(np.abs(x))
    Lx = sp.combine((sp.lam * gam)[None, :])[0]
    want = ref.superoperator_float() @ x
    assert np.max(np.abs(Lx - want)) <= 1e-11 * np.max(np.abs(want))


@pytest.mark.parametrize("which", [0, 1])
def test_evolution_against_expm_and_dense_path(exact4, monkeypatch, which):
    """rho(t) on the real form equals scipy's expm of the dense L (no eigenvectors) within the reported estimate, and
    the complex dense path to rounding; at t = 1e5 (400 relaxation times) it is the LU steady state."""
    ch, S = exact4
    rho0 = _states()[which]
    ref = Lindbladian(ch, S, 1.0)
    e0 = ref.evolve(rho0, T)
    A = ref.superoperator_float()
    _lean(monkeypatch)
    g = Lindbladian(ch, S, 1.0)
    ev = g.evolve(rho0, T)
    assert ev.diagnostics["spectrum"].startswith("real form") and ev.diagnostics["zero_mode_snapped"]
    x0 = cv.vec(rho0.astype(complex))
    for a, t in enumerate(T[:5]):
        want = cv.unvec(sla.expm(A * t) @ x0, 16)
        diff = np.max(np.abs(np.asarray(ev.states[a]) - want))
        assert diff <= ev.error.total[a], (t, diff, ev.error.total[a])
    diff = np.max(np.abs(np.asarray(ev.states) - np.asarray(e0.states)), axis=(1, 2))
    assert diff.max() < 1e-12
    ss = np.asarray(g.steady_state().state)
    assert np.max(np.abs(np.asarray(ev.states[-1]) - ss)) <= ev.error.total[-1] + g.steady_state().error_estimate


def test_error_budget_equals_dense_modewise_bound(exact4, monkeypatch):
    """The lean first-order map and energies shares are the dense path's mode-wise bound (the one used for blocks
    beyond RESPONSE_FLOP_BUDGET), computed from chunks of |V| and |V^-1|: equal to rounding; and never below the
    dense path's exact first-order response; the rounding estimate equals the dense one."""
    ch, S = exact4
    rho0 = _states()[1]
    exact_resp = Lindbladian(ch, S, 1.0).evolve(rho0, T)
    monkeypatch.setattr(error_budget, "RESPONSE_FLOP_BUDGET", 0.0)
    modewise = Lindbladian(ch, S, 1.0).evolve(rho0, T)
    _lean(monkeypatch)
    monkeypatch.setattr(lean_spectrum, "CHUNK", 6)  # several chunks, pairs across chunk borders
    ev = Lindbladian(ch, S, 1.0).evolve(rho0, T)
    for part in ("map", "energies", "rounding"):
        a, b = np.asarray(ev.error[part].value), np.asarray(modewise.error[part].value)
        assert np.allclose(a, b, rtol=1e-9, atol=0), part
    for part in ("map", "energies"):
        assert np.all(np.asarray(ev.error[part].value) >= np.asarray(exact_resp.error[part].value) * (1 - 1e-12))
    assert ev.error["map"].kind == "estimate"


def test_gap_from_the_real_form(exact4, monkeypatch):
    """The gap, its eigenvalue and kappa from the real-form spectrum equal the dense path's."""
    ch, S = exact4
    ref = Lindbladian(ch, S, 1.0).spectral_gap()
    _lean(monkeypatch)
    g = Lindbladian(ch, S, 1.0)
    g.spectrum()
    gap = g.spectral_gap()
    assert "dgeev with vectors" in gap.diagnostics["method"]
    assert gap.value == pytest.approx(ref.value, rel=1e-10)
    assert gap.diagnostics["kappa"] == pytest.approx(ref.diagnostics["kappa"], rel=1e-8)
    assert gap.error.total == pytest.approx(ref.error.total, rel=1e-3)


def test_memory_refused_with_the_number(exact4, monkeypatch):
    ch, S = exact4
    _lean(monkeypatch)
    g = Lindbladian(ch, S, 1.0)
    monkeypatch.setattr(memory, "MAX_BYTES", 1000)
    with pytest.raises(ValueError, match=r"GiB.*real eigenvectors"):
        LeanSpectrum.of(g)


def test_map_without_real_form_takes_the_dense_path(exact4, monkeypatch):
    """A user's map that does not preserve Hermiticity has no real form: below NO_DENSE_L_N the dense complex path
    runs (the same eigenvalues as zgeev of the dense L), beyond it the error names Hermiticity."""
    from symcoll.dynamics import TensorMap

    ch, S = exact4
    T = np.array(S.tensor, dtype=complex)
    T[0, 1, 2, 3] += 1e-3j  # its partner T[1, 0, 3, 2] is not conjugated along: not Hermiticity preserving
    user = TensorMap(T, ch)
    _lean(monkeypatch)
    g = Lindbladian(ch, user, 1.0)
    sp = g.spectrum()
    assert not isinstance(sp, LeanSpectrum)
    want = np.linalg.eigvals(g.superoperator_float())
    dist = np.abs(sp.lam[:, None] - want[None, :])
    assert dist.min(axis=1).max() <= 1e-10
    monkeypatch.setattr(lean_spectrum, "NO_DENSE_L_N", 16)
    with pytest.raises(ValueError, match="Hermiticity"):
        Lindbladian(ch, user, 1.0).spectrum()


@pytest.mark.parametrize("chunk", [3, 5, 7])
def test_first_order_response_every_branch(monkeypatch, chunk):
    """The chunked response against the dense path's mode-wise bound on the zgeev spectrum, term by term: with and
    without the trace-defect term, stationary eigenvalue snapped or not, chunk sizes that split pairs (N = 3)."""
    from symcoll.dynamics.spectrum import FloatSpectrum

    ch = QubitChain(3, 4.0, 0.1)
    S = collision_map(ch, BATH, CP, kind="exact")
    _lean(monkeypatch)
    g = Lindbladian(ch, S, 1.0)
    sp = g.spectrum()
    dense = FloatSpectrum.of(g.superoperator_float(), [np.arange(64)])
    monkeypatch.setattr(error_budget, "RESPONSE_FLOP_BUDGET", 0.0)
    monkeypatch.setattr(lean_spectrum, "CHUNK", chunk)
    offdiag = error_budget.vec_float(~np.eye(8, dtype=bool))
    rng = np.random.default_rng(chunk)
    x = rng.normal(size=64) + 1j * rng.normal(size=64)
    for tau in (None, rng.random(64) * 1e-9):
        for snapped in (False, True):
            want = error_budget.first_order_response(dense, x, T, 3e-10, 2e-14, tau, snapped, offdiag)
            got = sp.first_order_response(x, T, 3e-10, 2e-14, tau, snapped, offdiag)
            for a, b in zip(got, want):
                assert np.allclose(a, b, rtol=1e-8, atol=0), (tau is None, snapped)


def test_exactly_defective_generator_gives_infinite_cond():
    """An exactly defective L (a nilpotent Jordan block in the real form, d = 2): Y^-1 overflows (pivot ~1e-292), so
    cond(V) is infinite (the propagator's 'auto' then takes expm, the budget the norm chain), not a Lanczos failure."""
    import types

    from symcoll.dynamics.spectrum import hermitian_pairs

    d, n = 2, 4
    dg, p, q = hermitian_pairs(np.arange(n), d)
    B = np.zeros((n, n), dtype=complex)  # the Hermitian basis: E_jj, then (E_jk + E_kj)/sqrt 2, i (E_jk - E_kj)/sqrt 2
    B[dg, np.arange(len(dg))] = 1
    B[p, len(dg)] = B[q, len(dg)] = 1 / np.sqrt(2)
    B[p, len(dg) + 1], B[q, len(dg) + 1] = 1j / np.sqrt(2), -1j / np.sqrt(2)
    R = np.zeros((n, n))
    R[1, 2] = 1.0
    L = B @ R @ B.conj().T
    tensor = (L + np.eye(n)).reshape(d, d, d, d).transpose(1, 0, 3, 2).copy()  # Gamma (T - I) = L, energies 0
    g = types.SimpleNamespace(d=d, tensor=tensor, energies=np.zeros(d), Gamma_param=1.0)
    sp = LeanSpectrum.of(g)
    assert sp.condV == np.inf
