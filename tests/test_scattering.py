"""Numeric s-matrices (C1)-(C2): closed forms (C4)-(C8), flux unitarity, symmetry, precision."""
import numpy as np
import pytest

from symcoll import DeltaCoupling, QubitChain, Scattering, System

M, G, H = 0.1, 50.0, 4.0


def one_qubit_closed_form(E, h=H, m=M, g=G):
    """(C4)-(C8) written out by hand (order of channels: |0>, |1>)."""
    if E > h:
        c = g * np.sqrt(m / 2) / (E * (E - h)) ** 0.25  # (C6)
        sp = np.array([[1, -1j * c], [-1j * c, 1]]) / (1 + c**2)  # (C4)
        sm = -c / (1 + c**2) * np.array([[c, 1j], [1j, c]])  # (C5)
        return sp, sm
    c2 = -1j * g**2 * m / (2 * np.sqrt(E * (h - E)))  # (C8)
    return np.array([[1 / (1 + c2)]]), np.array([[-c2 / (1 + c2)]])  # (C7)


@pytest.mark.parametrize("E", [0.3, 2.0, 3.999, 4.001, 5.0, 40.0])
def test_one_qubit_closed_forms_C4_C8(E):
    S = Scattering(QubitChain(1, H, 0.0), DeltaCoupling(G), M)
    sp_ref, sm_ref = one_qubit_closed_form(E)
    sp, ch = S.open_block(E, +1)
    sm, _ = S.open_block(E, -1)
    assert list(ch) == ([0, 1] if E > H else [0])
    assert np.allclose(sp, sp_ref, rtol=0, atol=1e-14)
    assert np.allclose(sm, sm_ref, rtol=0, atol=1e-14)


def test_block_structure_eps0_N3():
    """At eps = 0, V = sigma_x^(1) only couples |0 r> and |1 r>: s is a sum of one-qubit blocks."""
    chain = QubitChain(3, H, 0.0)
    S = Scattering(chain, DeltaCoupling(G), M)
    es = chain.eigensystem()
    E = 9.3
    s, is_open = S.s_plus(E)
    s = s[0]
    # eigenbasis at eps = 0 is the local basis (up to order): map eigen-index -> local index
    loc = [int(np.argmax(np.abs(es.vectors[:, j]))) for j in range(8)]
    for j in range(8):
        for k in range(8):
            a, b = loc[j], loc[k]
            rest_a, rest_b = a & 0b011, b & 0b011
            if rest_a != rest_b:
                assert abs(s[j, k]) < 1e-15
    # block of rest r = |01> (energy h): one-qubit s at E - h
    r = 0b001
    j0, j1 = loc.index(r), loc.index(0b100 | r)
    ref, _ = one_qubit_closed_form(E - H)
    assert np.allclose(s[np.ix_([j0, j1], [j0, j1])], ref, atol=1e-14)


@pytest.mark.parametrize("eps", [0.0, 5e-5, 0.1, 0.7])
def test_flux_unitarity_and_symmetry(eps, rng):
    S = Scattering(QubitChain(3, H, eps), DeltaCoupling(G), M)
    E = np.concatenate([rng.uniform(0, 14, 40), [4.0, 8.0, 12.0]])
    assert S.flux_defect(E) < 1e-13
    sp, _ = S.s_plus(E)
    assert np.max(np.abs(sp - np.swapaxes(sp, 1, 2))) < 1e-14


def test_generic_system_and_coupling(rng):
    d = 4
    A = rng.normal(size=(d, d))
    Hs = (A + A.T) / 2
    B = rng.normal(size=(d, d))
    V = (B + B.T) / 2
    S = Scattering(System(Hs), DeltaCoupling(1.3, V=V), 0.7)
    E = rng.uniform(-3, 5, 30)
    assert S.flux_defect(E) < 1e-12
    # literal (C1) with K^{-1} where all channels are open
    E0 = np.max(np.linalg.eigvalsh(Hs)) + 1.0
    w, U = np.linalg.eigh(Hs)
    K = np.sqrt(2 * 0.7 * (E0 - w))
    Ve = U.T @ V @ U
    lit = np.diag(np.sqrt(K)) @ np.linalg.inv(np.eye(d) + 1j * 0.7 * 1.3 * np.diag(1 / K) @ Ve) @ np.diag(1 / np.sqrt(K))
    es = System(Hs).eigensystem()
    P = es.vectors.T @ U  # relate symcoll's eigenbasis (phases) to numpy's
    sp, _ = S.open_block(E0)
    assert np.allclose(P @ lit @ P.T, sp, atol=1e-12)


def test_threshold_is_finite():
    S = Scattering(QubitChain(2, H, 0.1), DeltaCoupling(G), M)
    e = S.energies
    sp, is_open = S.s_plus(e)  # exactly at every threshold
    assert np.all(np.isfinite(sp.astype(complex)))


def test_mpmath_path_agrees_with_float(rng):
    chain = QubitChain(2, H, 0.1)
    E = rng.uniform(0, 9, 6)
    Sf = Scattering(chain, DeltaCoupling(G), M)
    Sm = Scattering(chain, DeltaCoupling(G), M, dps=40)
    sf, of = Sf.s_plus(E)
    sm, om = Sm.s_plus(E)
    assert np.array_equal(of, om)
    assert np.max(np.abs(np.array(sm.tolist(), dtype=complex) - sf)) < 1e-13
    assert Sm.flux_defect(E) < 1e-35


def test_bad_mass_and_dps():
    chain = QubitChain(1, H, 0.0)
    with pytest.raises(ValueError, match="m must be > 0"):
        Scattering(chain, DeltaCoupling(G), -1.0)
    with pytest.raises(ValueError, match="dps must be >= 15"):
        Scattering(chain, DeltaCoupling(G), M, dps=10)


def _random_c1_system(rng, n, d):
    """Energies-batch of K (evanescent and open channels) and a real symmetric V, as in (C1)."""
    X = rng.uniform(-3.0, 3.0, size=(n, d))
    V = rng.normal(size=(d, d))
    V = V + V.T
    return X, V


@pytest.mark.parametrize("dps", [None, 30])
def test_c1_rows_are_rows_of_the_inverse(dps):
    """c1_rows(ctx, K, (i m g V)^T, rows) = rows of (K + i m g V)^{-1} (Eq. (C1)), float64 and mpmath,
    against numpy's inverse; several rows per energy and one row per (energy, channel)."""
    from symcoll.numeric import get_context
    from symcoll.scattering import c1_rows, channel_wave_numbers

    rng = np.random.default_rng(7)
    ctx = get_context(dps)
    X, V = _random_c1_system(rng, 3, 4)
    mg = 2.5
    K, ReK, Kh = channel_wave_numbers(ctx, ctx.array(X), 1.0)
    iVT = (ctx.array(V) * ctx.mpc(0, mg)).T
    Kf = np.sqrt(np.abs(X)) * np.where(X >= 0, 1.0, 1j)  # evanescent branch +i sqrt(|X|)
    inv = np.linalg.inv(np.stack([np.diag(k) + 1j * mg * V for k in Kf]))
    assert np.allclose(ctx.to_complex128(K), Kf, rtol=0, atol=1e-14)
    assert np.allclose(ctx.float_array(ReK), np.where(X > 0, np.sqrt(np.abs(X)), 0.0), rtol=0, atol=1e-14)
    rows = np.array([2, 0])
    x = ctx.to_complex128(c1_rows(ctx, K, iVT, rows))
    assert x.shape == (3, 2, 4)
    assert np.max(np.abs(x - inv[:, rows, :])) <= 1e-12
    # one row per (energy, channel): K broadcast over channels, row j for channel j
    Kb = np.broadcast_to(K[:, None, :], (3, 4, 4))
    y = ctx.to_complex128(c1_rows(ctx, Kb, iVT, np.arange(4)[:, None]))[..., 0, :]
    assert np.max(np.abs(y - inv)) <= 1e-12


def test_mp_solve_batched_multiple_rhs_and_vector():
    """MPContext.solve (Gaussian elimination on lists) against numpy: a batch with several
    right-hand sides, and one matrix with a vector right-hand side."""
    from symcoll.numeric import get_context

    rng = np.random.default_rng(11)
    ctx = get_context(30)
    A = rng.normal(size=(2, 5, 5)) + 1j * rng.normal(size=(2, 5, 5))
    B = rng.normal(size=(2, 5, 3))
    X = ctx.to_complex128(ctx.solve(ctx.array(A), ctx.array(B)))
    assert np.max(np.abs(X - np.linalg.solve(A, B))) <= 1e-12
    x = ctx.to_complex128(ctx.solve(ctx.array(A[0]), ctx.array(B[0, :, 0])))
    assert x.shape == (5,)
    assert np.max(np.abs(x - np.linalg.solve(A[0], B[0, :, 0]))) <= 1e-12
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        ctx.solve(ctx.array(np.zeros((2, 2))), ctx.array(np.ones(2)))
