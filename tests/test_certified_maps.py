"""Certified collision maps (Arb balls, issue #12): enclosures contain independent high-precision results.

References are symcoll's mpmath path at 25-30 digits (adaptive Gauss-Kronrod in mpmath, a different
quadrature and number type from the certified Gauss-Legendre-on-ellipses path), so a containment failure
means a wrong radius or a wrong integrand.  Radii are asserted small, so containment is not vacuous.
"""
import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, System, collision_map

BATH = EffusionBath(0.1, 0.1, 0.5)
CP = DeltaCoupling(50)


def _c(a):
    return np.vectorize(complex, otypes=[complex])(a)


def _contained(cm, ref):
    mid, rad = cm.enclosure()
    return np.abs(mid - ref) <= rad


@pytest.mark.parametrize("kind", ["exact", "global", "local"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_single_qubit_and_pair_contain_mp_reference(kind, eps):
    N = 1 if kind == "exact" else 2
    ch = QubitChain(N, 4, eps)
    cm = collision_map(ch, BATH, CP, kind, certified=True)
    ref = _c(collision_map(ch, BATH, CP, kind, dps=30).tensor)
    assert cm.error.rigorous and cm.error_bound is not None
    mid, rad = cm.enclosure()
    assert mid.shape == rad.shape == (ch.dim,) * 4 and mid.dtype == complex
    assert rad.max() < 1e-14  # small enough for containment to mean something
    assert np.all(_contained(cm, ref)), np.abs(mid - ref).max()
    assert cm.error_bound >= rad.max()


def test_pair_exact_both_ladders_contain_mp_entries():
    """N = 2 exact map, both ladder conventions: a block of entries against a 25-digit exact_entries."""
    from symcoll.maps import exact_entries

    for ladder in ("paper", "unit"):
        ch = QubitChain(2, 4, 0.1, ladder=ladder)
        cm = collision_map(ch, BATH, CP, "exact", certified=True)
        pairs = [(0, 0), (1, 0), (2, 1), (1, 2), (3, 3)]
        blk, _, _ = exact_entries(ch, BATH, CP, pairs, dps=25)
        mid, rad = cm.enclosure()
        for a, (jp, j) in enumerate(pairs):
            for b, (kp, k) in enumerate(pairs):
                assert abs(mid[jp, kp, j, k] - complex(blk[a, b])) <= rad[jp, kp, j, k], (ladder, jp, kp, j, k)


def test_user_system_contains_mp_reference():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(3, 3))
    H = np.diag([0.0, 2.5, 6.0]) + 0.3 * (A + A.T)
    B = rng.normal(size=(3, 3))
    V = B + B.T
    sys_ = System(H)
    cp = DeltaCoupling(20, V=V)
    cm = collision_map(sys_, BATH, cp, "exact", certified=True)
    ref = _c(collision_map(sys_, BATH, cp, "exact", dps=30).tensor)
    assert cm.enclosure()[1].max() < 1e-13
    assert np.all(_contained(cm, ref))


def test_containment_can_fail():
    """A reference perturbed by 10x the radius is not contained: the check is not vacuous."""
    ch = QubitChain(1, 4, 0.0)
    cm = collision_map(ch, BATH, CP, "global", certified=True)
    mid, rad = cm.enclosure()
    bad = mid + 10 * rad.max() + 1e-300
    assert not np.all(np.abs(mid - bad) <= rad)


@pytest.mark.parametrize("kind", ["exact", "global", "local"])
@pytest.mark.parametrize("eps", [0.1, 5e-5, 0.0])
def test_float64_map_estimates_are_honest(kind, eps):
    """The float64 map lies within its reported error estimate of the certified midpoint (issue #12)."""
    ch = QubitChain(2, 4, eps)
    cm = collision_map(ch, BATH, CP, kind, certified=True)
    fm = collision_map(ch, BATH, CP, kind)
    mid, rad = cm.enclosure()
    true_err = float(np.max(np.abs(fm.tensor - mid) - rad, initial=0.0))
    assert true_err <= fm.error_estimate, (true_err, fm.error_estimate)


def test_paper_chain_exact_map_radius(tmp_path):
    """N = 3 at the paper's point: the certified exact map has a radius <= 1e-12 and holds the float64 map."""
    ch = QubitChain(3, 4, 0.1)
    cm = collision_map(ch, BATH, CP, "global", certified=True)
    fm = collision_map(ch, BATH, CP, "global")
    mid, rad = cm.enclosure()
    assert rad.max() <= 1e-12
    assert np.max(np.abs(fm.tensor - mid) - rad) <= fm.error_estimate


def test_bad_inputs_are_refused_clearly():
    ch = QubitChain(2, 4, 0.1)
    with pytest.raises(ValueError, match="storage"):
        collision_map(ch, BATH, CP, "global", certified=True, storage="compact")
    with pytest.raises(ValueError, match="kind"):
        collision_map(ch, BATH, CP, "exact_h0", certified=True)
    with pytest.raises(ValueError, match="smatrix"):
        collision_map(ch, BATH, CP, "global", certified=True, smatrix="interpolate")
    with pytest.raises(ValueError, match="dps"):
        collision_map(ch, BATH, CP, "global", certified=True, dps=16, tol=1e-20)
    with pytest.raises(ValueError, match="dps"):
        collision_map(ch, BATH, CP, "global", certified=True, dps=5)
    with pytest.raises(TypeError, match="certified"):
        collision_map(ch, BATH, CP, "global", certified="yes")
    # N = 4 has a double level in the two-excitation band at every eps: not certifiable yet
    with pytest.raises(ValueError, match="degenerate|isolate"):
        collision_map(QubitChain(4, 4, 0.1), BATH, CP, "global", certified=True)


def test_map_rows_agree_with_the_ball_s_matrix_solve():
    """The rows of x used inside the certified quadrature give the s-matrix of certified.scattering (C1)."""
    from symcoll.certified._arb import acb, arb, precision
    from symcoll.certified.eigen import ball_eigensystem
    from symcoll.certified.maps import _Panel, _Problem, _to_eigenbasis
    from symcoll.certified.scattering import s_matrices_ball

    ch = QubitChain(2, 4, 0.1)
    with precision(30):
        es = ball_eigensystem(ch)
        Vb = _to_eigenbasis(np.asarray(CP.operator(ch), dtype=float), es.vectors)
        m, g = arb(0.1), arb(50.0)
        prob = _Problem(es.energies, es.exact_energies, Vb, m, g, arb(0.1), arb(0.5), narrow=False)
        bps = prob.thr.breakpoints()
        pan = _Panel(bps[1][0], bps[2][0], bps[1][1], bps[2][1], 1e-10)
        modes = prob.modes(pan)
        t = arb(0.3)
        X, K, f1, f2 = prob.rows_at(pan, modes, acb(t))
        u = pan.a + (pan.b - pan.a) * ((t + 1) * arb.pi() / 4).sin() ** 2
        d = ch.dim
        for jp in range(d):
            sp, sm, is_open = s_matrices_ball(es.energies, Vb, m, g, u + es.energies[jp])
            for l in range(d):
                if is_open[l]:
                    ours = K[jp][jp].sqrt() * X[jp][l] * K[jp][l].sqrt()
                    assert ours.overlaps(sp[jp, l]), (jp, l)
                    assert ours.rad() < 1e-20 if hasattr(ours, "rad") else True


def test_feshbach_resonance_is_certified_and_float64_is_honest():
    """h = 90 puts a pole of (C1) at T = 2.1464 - 6.6e-5 i next to the real axis (README_derivations, 'Quadrature
    near s-matrix resonances'): the ball evaluation refuses the ellipses that contain it, the panels are bisected
    around it, and the float64 map lies within its estimate of the certified midpoint."""
    ch = QubitChain(2, 90, 0.1)
    cm = collision_map(ch, BATH, CP, "global", certified=True)
    fm = collision_map(ch, BATH, CP, "global")
    mid, rad = cm.enclosure()
    assert rad.max() < 1e-14
    assert cm.info["panels"] > cm.info["initial_panels"]  # bisected near the pole
    assert np.max(np.abs(fm.tensor - mid) - rad) <= fm.error_estimate
