"""Tests of the collision maps (38), (45), (54)-(56) and their error bounds.

Oracles used (none of them is the code under test at the same precision):
* the mpmath path of the same algorithm at 30-40 digits (a higher-precision reference);
* the one-qubit closed forms (C4)-(C8) integrated entry by entry with ``mpmath.quad``;
* structural identities: trace preservation, Hermiticity (39), detailed balance (30),
  the sum rule (66), covariance under a change of basis, CP of the global map;
* QuTiP's Choi matrix convention.
"""
import math

import mpmath
import numpy as np
import pytest

from symcoll import CollisionMap, DeltaCoupling, EffusionBath, QubitChain, System, collision_map
from symcoll.maps import MAX_BYTES, estimate_memory, exact_entries

BETA, M, G, SIGMA, H = 0.1, 0.1, 50.0, 0.5, 4.0


@pytest.fixture(scope="module")
def bath():
    return EffusionBath(BETA, M, SIGMA)


@pytest.fixture(scope="module")
def coupling():
    return DeltaCoupling(G)


_CACHE = {}


def cmap(N, eps, kind, dps=None, tol=1e-12):
    key = (N, eps, kind, dps, tol)
    if key not in _CACHE:
        _CACHE[key] = collision_map(QubitChain(N, H, eps), EffusionBath(BETA, M, SIGMA), DeltaCoupling(G),
                                    kind=kind, dps=dps, tol=tol)
    return _CACHE[key]


def as_complex(S):
    return S._float_tensor()


# ----------------------------------------------------------------------------- validation
def test_unknown_kind_raises(bath, coupling):
    with pytest.raises(ValueError, match="kind must be one of"):
        collision_map(QubitChain(1, H, 0), bath, coupling, kind="narrow")


@pytest.mark.parametrize("tol", [0.0, -1e-12, 2e-3])
def test_tol_out_of_range_raises(bath, coupling, tol):
    with pytest.raises(ValueError, match=r"tol must be in \(0, 1e-3\]"):
        collision_map(QubitChain(1, H, 0), bath, coupling, tol=tol)


def test_tol_type_and_precision_floor(bath, coupling):
    with pytest.raises(TypeError, match="tol must be a real number"):
        collision_map(QubitChain(1, H, 0), bath, coupling, tol="small")
    with pytest.raises(ValueError, match="below what float64"):
        collision_map(QubitChain(1, H, 0), bath, coupling, tol=1e-15)


def test_dps_too_small_raises(bath, coupling):
    with pytest.raises(ValueError, match="dps must be >= 15"):
        collision_map(QubitChain(1, H, 0), bath, coupling, dps=10)


def test_wrong_V_shape_raises(bath):
    sysm = System(np.diag([0.0, 1.0, 3.0]))
    with pytest.raises(ValueError, match=r"V must have shape \(3, 3\)"):
        collision_map(sysm, bath, DeltaCoupling(G, V=np.eye(2)), kind="exact")


def test_non_hermitian_H_raises():
    with pytest.raises(ValueError, match="H must be Hermitian"):
        System(np.array([[0.0, 1.0], [0.0, 1.0]]))


def test_wrong_input_types_raise(bath, coupling):
    with pytest.raises(TypeError, match="system must be"):
        collision_map(np.eye(2), bath, coupling)
    with pytest.raises(TypeError, match="bath must be an EffusionBath"):
        collision_map(QubitChain(1, H, 0), (BETA, M), coupling)
    with pytest.raises(TypeError, match="coupling must be a DeltaCoupling"):
        collision_map(QubitChain(1, H, 0), bath, G)


def test_local_needs_a_chain(bath):
    sysm = System(np.diag([0.0, 1.0]))
    with pytest.raises(ValueError, match="needs a QubitChain"):
        collision_map(sysm, bath, DeltaCoupling(G, V=[[0, 1], [1, 0]]), kind="local")


def test_exact_needs_finite_sigma_p(coupling):
    with pytest.raises(ValueError, match="narrow-packet limit"):
        collision_map(QubitChain(1, H, 0), EffusionBath(BETA, M, 0.0), coupling, kind="exact")


def test_memory_refusal_N7_and_N6_allowed(bath, coupling):
    with pytest.raises(ValueError, match=r"needs about [0-9.]+ GiB"):
        collision_map(QubitChain(7, H, 0.1), bath, coupling, kind="exact")
    assert estimate_memory(2**6, "exact") < MAX_BYTES
    assert estimate_memory(2**7, "exact") > MAX_BYTES


def test_global_ambiguous_bohr_frequencies_raise(bath):
    # Delta_10 = 1 and Delta_21 = 1 + 1e-11: between the equality tolerance and 1e3 times it
    H3 = np.diag([0.0, 1.0, 2.0 + 1e-11])
    V = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    with pytest.raises(ValueError, match="cannot decide"):
        collision_map(System(H3), bath, DeltaCoupling(G, V=V), kind="global")


# ----------------------------------------------------------------------------- structure
STRUCT_CASES = [(1, 0.0), (2, 0.1), (3, 0.1), (3, 5e-5)]


@pytest.mark.parametrize("N,eps", STRUCT_CASES)
@pytest.mark.parametrize("kind", ["exact", "global", "local", "exact_h0"])
def test_trace_hermiticity_detailed_balance(N, eps, kind):
    S = cmap(N, eps, kind)
    assert isinstance(S, CollisionMap)
    d = 2**N
    assert S.tensor.shape == (d, d, d, d)
    assert S.error_estimate <= 1e-12
    for name, part in S.error_parts.items():
        assert part["kind"] in ("bound", "estimate") and part["value"] >= 0 and part["note"]
    diag = S.diagnostics()
    eb = S.error_estimate
    assert diag["trace_preservation"]["value"] <= d * eb
    assert diag["hermiticity"]["value"] <= 1e-15
    # detailed balance (30) with the energies the map was built with (H(0) for local/exact_h0)
    assert diag["detailed_balance"]["value"] <= (1 + math.exp(BETA * N * H * 1.2)) * eb
    if kind in ("local", "exact_h0") and eps > 0:
        # ... and violated at O(beta eps) with the energies of H(eps): Fig. 4, no intra-band thermalisation
        assert diag["detailed_balance_eps"]["value"] > 1e-3 * eps


def test_trace_preservation_independent(bath, coupling):
    """sum_j' S^{jk}_{j'j'} = delta_jk computed directly from the tensor (not via diagnostics)."""
    S = cmap(3, 0.1, "exact")
    T = S.tensor
    tr = np.einsum("aajk->jk", T)
    assert np.max(np.abs(tr - np.eye(8))) <= 8 * S.error_estimate


def test_global_selection_rule_45():
    S = cmap(3, 0.1, "global")
    e = np.asarray(S.eigensystem.energies, dtype=float)
    D = e[:, None] - e[None, :]
    mism = np.abs(D[:, None, :, None] - D[None, :, None, :]) > 1e-9  # [j',k',j,k]: Delta_j'j vs Delta_k'k
    assert np.max(np.abs(S.tensor[mism])) == 0.0
    assert np.max(np.abs(S.tensor[~mism])) > 0.1


def test_global_map_is_cptp_and_exact_map_not_quite():
    Sg = cmap(3, 0.1, "global")
    assert Sg.diagnostics()["min_choi_eigenvalue"]["value"] >= -64 * Sg.error_estimate
    # exact (38): the Gaussian kernel (41) restricted to p > 0 is not a positive operator;
    # measured ~ -6e-9 with the paper's parameters (reported, not clipped)
    Se = cmap(3, 0.1, "exact")
    lam = Se.diagnostics()["min_choi_eigenvalue"]["value"]
    assert -1e-7 < lam < -1e-10
    assert abs(lam) > 1e3 * Se.error_estimate


def test_sum_rule_66_for_local_map():
    for N, eps in [(2, 0.1), (3, 3e-3)]:
        S = cmap(N, eps, "local")
        dg = S.diagnostics()["sum_rule"]
        assert dg["applies"] is True
        assert dg["value"] <= 4 * 2**N * S.error_estimate


def test_local_vs_exact_h0_interband_terms():
    """(54)-(56) = (38) with H(0) minus the inter-band coherence terms that assumption (48) drops.

    On entries with equal band jumps (Delta^(0)_{j'j} = Delta^(0)_{k'k}) the two agree; the
    dropped terms are not small at the paper's parameters (measured max 0.104, entry
    S^{05}_{07}): |p - q| ~ sigma_p for a band jump at thermal momenta.
    """
    L, X = cmap(3, 0.1, "local"), cmap(3, 0.1, "exact_h0")
    n = np.asarray(L.eigensystem.bands)
    D0 = n[:, None] - n[None, :]
    same = D0[:, None, :, None] == D0[None, :, None, :]
    diff = np.abs(L.tensor - X.tensor)
    assert diff[same].max() <= L.error_estimate + X.error_estimate
    assert np.all(L.tensor[~same] == 0)
    assert 1e-2 < diff[~same].max() < 0.2


def test_exact_map_tends_to_exact_h0_as_eps_to_0():
    """(38) depends continuously on the spectrum: S(eps, sigma_p) -> S(0, sigma_p) as eps -> 0."""
    a = cmap(2, 1e-6, "exact").tensor
    b = collision_map(QubitChain(2, H, 1e-6), EffusionBath(BETA, M, SIGMA), DeltaCoupling(G), kind="exact_h0").tensor
    assert np.max(np.abs(a - b)) < 1e-4


def test_global_equals_exact_on_bohr_diagonal_populations():
    """Populations S^{jj}_{j'j'} have Delta_j'j = Delta_j'j: (38) and (45) coincide there."""
    Se, Sg = cmap(3, 0.1, "exact"), cmap(3, 0.1, "global")
    idx = np.arange(8)
    Pe = Se.tensor[idx[:, None], idx[:, None], idx[None, :], idx[None, :]]
    Pg = Sg.tensor[idx[:, None], idx[:, None], idx[None, :], idx[None, :]]
    assert np.max(np.abs(Pe - Pg)) <= Se.error_estimate + Sg.error_estimate


# ----------------------------------------------------------------------------- representations
def test_choi_matches_qutip_and_kraus_reproduces_map(rng):
    qutip = pytest.importorskip("qutip")
    S = cmap(2, 0.1, "global")
    d = 4
    sup = S.superoperator()
    Q = qutip.Qobj(sup, dims=[[[d], [d]], [[d], [d]]], superrep="super")
    J = qutip.to_choi(Q).full()
    assert np.max(np.abs(J - S.choi())) < 1e-14
    A = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = A @ A.conj().T
    rho /= np.trace(rho)
    out = S.apply(rho)
    via_sup = (sup @ rho.reshape(-1, order="F")).reshape(d, d, order="F")
    assert np.max(np.abs(out - via_sup)) < 1e-14
    K = S.kraus(tol=1e-14)
    via_kraus = sum(k @ rho @ k.conj().T for k in K)
    assert np.max(np.abs(out - via_kraus)) < 1e-12


def test_kraus_warns_when_not_cp():
    with pytest.warns(RuntimeWarning, match="not completely positive"):
        cmap(3, 0.1, "exact").kraus(tol=1e-12)


def test_apply_validates_shape():
    with pytest.raises(ValueError, match="rho must have shape"):
        cmap(1, 0.0, "global").apply(np.eye(3))


# ----------------------------------------------------------------------------- degenerate spectra
def _local_action(S, rho_loc):
    U = np.asarray(S.eigensystem.vectors, dtype=complex)
    return U @ S.apply(U.conj().T @ rho_loc @ U) @ U.conj().T


def test_degenerate_generic_system_covariance(rng, bath):
    """A doubly degenerate level: the map acts the same in any eigenbasis (covariance).

    System A is given in one basis, system B = O A O^T in a rotated one; the canonical
    eigenbases differ by a non-trivial rotation inside the degenerate level.  The maps must
    agree as superoperators: S_A(rho) = O^T S_B(O rho O^T) O.
    """
    Hd = np.diag([0.0, 1.5, 1.5, 4.0])
    Vd = rng.normal(size=(4, 4))
    Vd = (Vd + Vd.T) / 2
    O, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    A = System(Hd)
    B = System(O @ Hd @ O.T)
    assert A.eigensystem().degenerate_groups == [(1, 2)]
    for kind in ("exact", "global"):
        SA = collision_map(A, bath, DeltaCoupling(3.0, V=Vd), kind=kind)
        SB = collision_map(B, bath, DeltaCoupling(3.0, V=O @ Vd @ O.T), kind=kind)
        X = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        rho = X @ X.conj().T
        rho /= np.trace(rho)
        lhs = _local_action(SA, rho)
        rhs = O.T @ _local_action(SB, O @ rho @ O.T) @ O
        assert np.max(np.abs(lhs - rhs)) <= 10 * (SA.error_estimate + SB.error_estimate) + 1e-13
        assert SA.diagnostics()["trace_preservation"]["value"] <= 4 * SA.error_estimate


def test_chain_N4_degenerate_level():
    ch = QubitChain(4, H, 0.1)
    assert ch.eigensystem().degenerate_groups  # the double level at 2h
    for kind in ("exact", "global"):
        S = cmap(4, 0.1, kind)
        dg = S.diagnostics()
        assert dg["trace_preservation"]["value"] <= 16 * S.error_estimate
        assert dg["hermiticity"]["value"] <= 1e-15
        assert dg["detailed_balance"]["value"] <= 10 * S.error_estimate


# ----------------------------------------------------------------------------- accuracy vs mpmath
@pytest.mark.parametrize("kind", ["exact", "global"])
def test_float_vs_mpmath_N1_full_tensor(kind):
    Sf = cmap(1, 0.0, kind)
    Sm = cmap(1, 0.0, kind, dps=30, tol=1e-16)
    true_err = np.max(np.abs(Sf.tensor - as_complex(Sm)))
    assert true_err <= Sf.error_estimate
    assert Sf.error_estimate <= 1e-12
    assert true_err <= 1e-12


def test_float_vs_mpmath_N2_entries():
    Sf = cmap(2, 0.1, "exact")
    pairs = [(0, 0), (1, 1), (1, 0), (2, 3), (2, 1)]
    B, eb, parts = exact_entries(QubitChain(2, H, 0.1), EffusionBath(BETA, M, SIGMA), DeltaCoupling(G), pairs,
                                 dps=30, tol=1e-16)
    Bf = np.array([[complex(x) for x in row] for row in B])
    ref = np.array([[Sf.tensor[a[0], b[0], a[1], b[1]] for b in pairs] for a in pairs])
    true_err = np.max(np.abs(ref - Bf))
    assert eb <= 1e-15
    assert true_err <= Sf.error_estimate
    assert true_err <= 1e-12


@pytest.mark.parametrize("eps", [5e-5])
def test_float_vs_mpmath_N3_small_eps_entries(eps):
    """N = 3 at eps = 5e-5 (clustered thresholds): a row block of the tensor at 30 digits."""
    Sf = cmap(3, eps, "exact")
    pairs = [(1, 1), (1, 0), (1, 2), (1, 4)]
    B, eb, parts = exact_entries(QubitChain(3, H, eps), EffusionBath(BETA, M, SIGMA), DeltaCoupling(G), pairs,
                                 dps=30, tol=1e-15)
    Bf = np.array([[complex(x) for x in row] for row in B])
    ref = np.array([[Sf.tensor[a[0], b[0], a[1], b[1]] for b in pairs] for a in pairs])
    true_err = np.max(np.abs(ref - Bf))
    assert true_err <= Sf.error_estimate + eb
    assert true_err <= 1e-12


def test_generic_system_float_vs_mpmath(rng, bath):
    Hs = np.diag([0.0, 1.0, 2.5]) + 0.3 * np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    Vs = np.array([[0.2, 1, 0.3], [1, -0.1, 0.5], [0.3, 0.5, 0.0]])
    sysm, cp = System(Hs), DeltaCoupling(2.0, V=Vs)
    Sf = collision_map(sysm, bath, cp, kind="exact")
    pairs = [(1, 1), (1, 0), (1, 2)]
    B, eb, _ = exact_entries(sysm, bath, cp, pairs, dps=30, tol=1e-15)
    ref = np.array([[Sf.tensor[a[0], b[0], a[1], b[1]] for b in pairs] for a in pairs])
    assert np.max(np.abs(ref - np.array([[complex(x) for x in r] for r in B]))) <= Sf.error_estimate + eb
    dg = Sf.diagnostics()
    assert dg["trace_preservation"]["value"] <= 3 * Sf.error_estimate
    assert dg["detailed_balance"]["value"] <= 20 * Sf.error_estimate


# ----------------------------------------------------------------------------- closed forms (C4)-(C8)
def _oracle_N1(dps):
    """One qubit, eps = 0: three entries from (C4)-(C8) and (42)/(45) with mpmath.quad (independent)."""
    mp = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.MPContext()
    mp.dps = dps
    b, m, g, h = mp.mpf(BETA), mp.mpf(M), mp.mpf(G), mp.mpf(H)

    def c_of(E):  # (C6) for E > h, (C8) (imaginary c^2) for E < h  (returns c^2)
        if E <= 0 or E == h:
            return mp.inf  # threshold: s^+ -> 0, s^- -> -1 (the integrands below stay finite)
        if E > h:
            c = g * mp.sqrt(m / 2) / (E * (E - h)) ** mp.mpf(0.25)
            return c * c
        return -1j * g * g * m / (2 * mp.sqrt(E * (h - E)))

    def mu(p):
        return b * p / m * mp.exp(-b * p * p / (2 * m))

    ph = mp.sqrt(2 * m * h)
    # (42): excitation 0 -> 1, |s^+_10|^2 + |s^-_10|^2 = 2 c^2/(1+c^2)^2 at E = E_p > h
    def ratio(c2):  # 2 c^2 / (1 + c^2)^2, -> 0 at thresholds
        return 0 if c2 == mp.inf else 2 * c2 / (1 + c2) ** 2

    f_up = lambda p: mu(p) * ratio(c_of(p * p / (2 * m)))
    up = mp.quad(f_up, [ph, 2 * ph, 8 * ph, mp.inf])
    # de-excitation 1 -> 0 at E = E_p + h
    f_dn = lambda p: mu(p) * ratio(c_of(p * p / (2 * m) + h))
    dn = mp.quad(f_dn, [0, ph, 8 * ph, mp.inf])

    # (45) coherence S^{01}_{01}: s_00(E_p) s_11(E_p + h)^*, s^+ = 1/(1+c^2), s^- = -c^2/(1+c^2)
    def f_coh(p):
        E = p * p / (2 * m)
        if p == 0:
            return mp.mpf(0)
        c0 = c_of(E)  # channel 0 at total energy E_p (closed 1-channel below h)
        c1 = c_of(E + h)
        sp0, sm0 = (0, -1) if c0 == mp.inf else (1 / (1 + c0), -c0 / (1 + c0))
        sp1, sm1 = (0, -1) if c1 == mp.inf else (1 / (1 + c1), -c1 / (1 + c1))
        return mu(p) * (sp0 * mp.conj(sp1) + sm0 * mp.conj(sm1))

    coh = mp.quad(f_coh, [0, ph, 2 * ph, 8 * ph, mp.inf])
    return up, dn, coh


def test_closed_forms_C4_C8_one_qubit_float():
    up, dn, coh = _oracle_N1(30)
    for kind in ("exact", "global"):
        S = cmap(1, 0.0, kind)
        T = S.tensor
        assert abs(T[1, 1, 0, 0] - complex(up)) <= S.error_estimate
        assert abs(T[0, 0, 1, 1] - complex(dn)) <= S.error_estimate
        assert abs(T[0, 1, 0, 1] - complex(coh)) <= S.error_estimate
    # detailed balance (43) in the oracle itself: up = e^{-beta h} dn
    with mpmath.workdps(30):
        assert abs(up - mpmath.exp(-mpmath.mpf(BETA) * H) * dn) < 1e-25


def test_mpmath_path_reaches_1e_30_at_40_digits():
    up, dn, coh = _oracle_N1(45)
    S = cmap(1, 0.0, "exact", dps=40, tol=1e-30)
    assert S.error_estimate <= 1e-30
    T = S.tensor
    errs = [abs(T[1, 1, 0, 0] - up), abs(T[0, 0, 1, 1] - dn), abs(T[0, 1, 0, 1] - coh)]
    assert max(float(e) for e in errs) <= max(S.error_estimate, 1e-30)
    dg = S.diagnostics()
    assert dg["trace_preservation"]["value"] <= 4 * S.error_estimate + 1e-30


@pytest.mark.parametrize("N,eps", [(2, 0.1), (3, 5e-5)])
@pytest.mark.parametrize("tol", [1e-4, 1e-7, 1e-10])
def test_error_bound_honest_at_loose_tolerances(N, eps, tol):
    """A map built at a loose tol differs from the 1e-12 map by less than the sum of their bounds.

    Exercises the tail bound (E_max shrinks with tol) and the quadrature estimate when the
    panels are barely resolved.
    """
    S = cmap(N, eps, "exact", tol=tol)
    ref = cmap(N, eps, "exact")
    assert S.error_estimate <= tol
    assert np.max(np.abs(S.tensor - ref.tensor)) <= S.error_estimate + ref.error_estimate
    assert S.error_parts["tail"]["kind"] == "bound"
    assert S.error_parts["quadrature"]["kind"] == "estimate"


def test_narrow_packet_limit_44_exact_tends_to_global():
    """sigma_p -> 0 in (41) gives (44): the exact map (38) becomes the global map (45)."""
    ch = QubitChain(2, H, 0.1)
    narrow = EffusionBath(BETA, M, 1e-3)
    Se = collision_map(ch, narrow, DeltaCoupling(G), kind="exact")
    Sg = collision_map(ch, narrow, DeltaCoupling(G), kind="global")
    assert np.max(np.abs(Se.tensor - Sg.tensor)) <= Se.error_estimate + Sg.error_estimate
    # while at the paper's sigma_p = 0.5 the two differ at order 1e-2 (coherence transfer)
    assert np.max(np.abs(cmap(2, 0.1, "exact").tensor - cmap(2, 0.1, "global").tensor)) > 1e-3


def test_local_map_float_vs_mpmath_N2():
    """(54)-(56) (scattering of H(0), rotated into the eigenbasis of H(eps)) at 30 digits."""
    Sf = cmap(2, 0.1, "local")
    Sm = cmap(2, 0.1, "local", dps=30, tol=1e-15)
    assert np.max(np.abs(Sf.tensor - as_complex(Sm))) <= Sf.error_estimate + Sm.error_estimate


def test_eps_zero_kinds_coincide():
    """At eps = 0, H(eps) = H(0): local (54)-(56) = global (45) and exact_h0 = exact (38)."""
    np.testing.assert_allclose(cmap(2, 0.0, "local").tensor, cmap(2, 0.0, "global").tensor, atol=1e-15, rtol=0)
    np.testing.assert_allclose(cmap(2, 0.0, "exact_h0").tensor, cmap(2, 0.0, "exact").tensor, atol=1e-15, rtol=0)
