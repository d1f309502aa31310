"""Certified dynamics and observables (symcoll.certified.dynamics / .observables, issue #12).

The certified map is the TEST DOUBLE of tests/_certified_double.py (balls of a declared radius
around an exactly trace- and Hermiticity-preserving reference tensor T*; NOT a certified map).
The independent computation is the mpmath path of symcoll.dynamics (``Lindbladian(...,
dps=40)``: eigen-decomposition refined at 40 digits, symcoll.dynamics.refine) on T* rounded
to 40 digits.  Every enclosure must contain it:

* at the float64 level (``enclosure()``: |ref - mid| <= rad), and
* at the ball level (the Arb ball contains the mpmath value; checked only where the mpmath
  result's own error estimate is 1000 times below the ball radius, so that the check is strict).

A deliberately wrong double (a centre moved by far more than its radius) must NOT be contained:
this test fails if the dynamics reported radii that were too large to notice the error.
"""
import time

import mpmath
import numpy as np
import pytest
from flint import acb, arb

from symcoll import Lindbladian, QubitChain, collision_map, EffusionBath, DeltaCoupling
from symcoll import observables as ob
from symcoll.dynamics import TensorMap
from symcoll.certified import observables as cob
from symcoll.certified.dynamics import CertifiedEvolution, CertifiedLindbladian, CertifiedSteadyState, ball_radius

from _certified_double import CertifiedMapDouble

H, BETA = 4.0, 0.1
TIMES = np.array([0.0, 1.0, 1e2, 1e4, 1e5])


def ground(d):
    r = np.zeros((d, d))
    r[0, 0] = 1
    return r


def _arb_of(x):
    """mpmath mpf (any context, no rounding) or float -> exact arb (sign, mantissa, exponent)."""
    if not hasattr(x, "_mpf_"):
        return arb(float(x))
    sign, man, exp, _ = x._mpf_
    return arb(0) if not man else arb((-int(man) if sign else int(man), int(exp)))


def ball_contains(z: acb, w) -> bool:
    if not hasattr(w, "real") or not hasattr(w.real, "_mpf_"):
        w = complex(w)
        return z.real.contains(arb(w.real)) and z.imag.contains(arb(w.imag))
    return z.real.contains(_arb_of(w.real)) and z.imag.contains(_arb_of(w.imag))


def reference(ch, dbl, Gamma=1.0, dps=40):
    return Lindbladian(ch, dbl.reference_map(dps), Gamma, dps=dps)


def check_contains(ball_mats, mid, rad, ref_states, ref_err):
    """Float-level and (where strict) ball-level containment of the mpmath states."""
    ref_c = np.array([[[complex(x) for x in row] for row in S] for S in ref_states])
    # the mpmath reference is itself accurate only to its (tiny, ~1e-40..1e-30) error estimate
    err = np.asarray(ref_err, dtype=float).reshape(-1, 1, 1)
    assert np.all(np.abs(ref_c - mid) <= rad + err), np.max(np.abs(ref_c - mid) - rad - err)
    strict = 0
    for M, S, e in zip(ball_mats, ref_states, np.atleast_1d(ref_err)):
        if e * 1e3 > ball_radius([M]):
            continue
        strict += 1
        d = M.nrows()
        for j in range(d):
            for k in range(d):
                assert ball_contains(M[j, k], S[j][k]), (j, k, M[j, k], S[j][k])
    return strict


@pytest.fixture(scope="module")
def n3_global():
    ch = QubitChain(3, H, 0.1)
    return ch, CertifiedMapDouble.build(ch, "global", radius=1e-30)


# --------------------------------------------------------------------------- dispatch and bad input
def test_lindbladian_dispatches_certified_maps():
    ch = QubitChain(2, H, 0.1)
    dbl = CertifiedMapDouble.build(ch, "global", radius=1e-30)
    L = Lindbladian(ch, dbl, 1.0)
    assert type(L) is CertifiedLindbladian and isinstance(L, Lindbladian)
    ev = L.evolve(ground(4), [0.0, 1.0])
    assert isinstance(ev, CertifiedEvolution) and ev.error.rigorous
    assert all(p.kind == "bound" for p in ev.error.parts.values())
    assert ev.error_bound.shape == (2,) and np.all(ev.error_bound > 0)
    mid, rad = ev.enclosure()
    assert mid.shape == rad.shape == (2, 4, 4) and mid.dtype == complex and rad.dtype == float
    # a float map still gets the float64 Lindbladian
    fm = collision_map(ch, EffusionBath(BETA, 0.1, 0.5), DeltaCoupling(50.0), kind="global")
    assert type(Lindbladian(ch, fm, 1.0)) is Lindbladian


def test_bad_input_is_refused():
    ch = QubitChain(2, H, 0.1)
    fm = collision_map(ch, EffusionBath(BETA, 0.1, 0.5), DeltaCoupling(50.0), kind="global")
    with pytest.raises(TypeError, match="certified"):
        CertifiedLindbladian(ch, fm, 1.0)
    dbl = CertifiedMapDouble.build(ch, "global", radius=1e-30)
    with pytest.raises(ValueError, match="built for"):
        Lindbladian(QubitChain(2, H, 0.2), dbl, 1.0)
    L = Lindbladian(ch, dbl, 1.0)
    with pytest.raises(ValueError, match="target"):
        L.steady_state(target=0.0)
    with pytest.raises(ValueError, match="target"):
        L.evolve(ground(4), [1.0], target=2.0)
    with pytest.raises(ValueError, match="basis"):
        L.evolve(ground(4), [1.0], basis="local")
    with pytest.raises(ValueError, match="times"):
        L.evolve(ground(4), [-1.0])
    with pytest.raises(ValueError, match="Gamma"):
        Lindbladian(ch, dbl, -1.0)


def test_unreachable_target_names_what_to_change():
    """The double cannot go below radius 1e-30 (its min_radius): a 1e-33 target fails clearly,
    and so does a target below what max_prec allows."""
    ch = QubitChain(2, H, 0.1)
    dbl = CertifiedMapDouble.build(ch, "exact", radius=1e-20)
    L = Lindbladian(ch, dbl, 1.0)
    with pytest.raises(ValueError, match="does not shrink|max_rebuilds"):
        L.steady_state(target=1e-33)
    L2 = Lindbladian(ch, CertifiedMapDouble.build(ch, "exact", radius=0.0), 1.0)
    with pytest.raises(ValueError, match="max_prec"):
        L2.steady_state(target=1e-90, max_prec=256)


# --------------------------------------------------------------------------- evolution vs mpmath
@pytest.mark.parametrize("N, eps, kind", [(2, 0.1, "exact"), (2, 5e-5, "exact"), (2, 5e-5, "global"),
                                          (3, 0.1, "global"), (3, 5e-5, "local")])
def test_evolution_contains_mpmath(N, eps, kind):
    ch = QubitChain(N, H, eps)
    dbl = CertifiedMapDouble.build(ch, kind, radius=1e-30)
    d = ch.dim
    ev = Lindbladian(ch, dbl, 1.0).evolve(ground(d), TIMES)
    ref = reference(ch, dbl).evolve(ground(d), TIMES)
    mid, rad = ev.enclosure()
    strict = check_contains(ev.balls, mid, rad, ref.states, ref.error_estimate)
    assert strict >= 3  # the ball-level check ran at most times, incl. t = 1e5 (radii ~1e-25 >> 1e-30)
    assert np.all(ev.error_bound < 1e-9)
    assert ev.error_bound[0] < 1e-15  # t = 0: rho0 itself (up to the float64 midpoint)


def test_expm_fallback_contains_mpmath():
    ch = QubitChain(2, H, 0.1)
    dbl = CertifiedMapDouble.build(ch, "exact", radius=1e-30)
    t = [0.5, 3.0]
    ev = Lindbladian(ch, dbl, 1.0).evolve(ground(4), t, method="expm")
    assert ev.method == "certified-expm"
    ref = reference(ch, dbl).evolve(ground(4), t)
    mid, rad = ev.enclosure()
    assert check_contains(ev.balls, mid, rad, ref.states, ref.error_estimate) == 2
    # long times by binary powers of exp(L tau): still an enclosure of the 40-digit reference
    ev = Lindbladian(ch, dbl, 1.0).evolve(ground(4), [1e3, 1e5], method="expm")
    ref = reference(ch, dbl).evolve(ground(4), [1e3, 1e5])
    mid, rad = ev.enclosure()
    assert ball_radius(ev.balls) < 1e-20
    assert check_contains(ev.balls, mid, rad, ref.states, ref.error_estimate) >= 1


def test_wide_map_is_rebuilt_until_the_target_is_met():
    """A 1e-12 map at eps = 0.1 (N = 2): the radius at t = 1e5 exceeds the 1e-9 target, the map
    is rebuilt; the result meets the target and contains the mpmath states at t = 1e5."""
    ch = QubitChain(2, H, 0.1)
    dbl = CertifiedMapDouble.build(ch, "exact", radius=1e-12)
    ev = Lindbladian(ch, dbl, 1.0).evolve(ground(4), [1.0, 1e5], target=1e-9)
    assert ev.metadata["map_rebuilds"] >= 1
    assert ball_radius(ev.balls) <= 1e-9
    ref = reference(ch, dbl).evolve(ground(4), [1.0, 1e5])
    mid, rad = ev.enclosure()
    check_contains(ev.balls, mid, rad, ref.states, ref.error_estimate)
    with pytest.raises(ValueError, match="max_rebuilds"):
        Lindbladian(ch, dbl, 1.0).evolve(ground(4), [1e5], target=1e-9, max_rebuilds=0)


def test_wrong_map_is_caught():
    """Centres moved by 1e-12 (radius 1e-30): on a coherence row the enclosure must miss the
    mpmath states of the true T*; on a population row the stationary eigenvalue leaves 0 and
    the trace-preservation check refuses the map."""
    ch = QubitChain(2, H, 0.1)
    dbl = CertifiedMapDouble.build(ch, "exact", radius=1e-30)
    d = 4
    ref = reference(ch, dbl).evolve(ground(d), TIMES)
    wrong = dbl.perturbed((1 + d * 0, 0), 1e-12)   # row of rho_10, column of rho_00
    ev = Lindbladian(ch, wrong, 1.0).evolve(ground(d), TIMES)
    mid, rad = ev.enclosure()
    ref_c = ref.states_float()
    assert np.any(np.abs(ref_c - mid) > rad)
    with pytest.raises(ValueError, match="trace"):
        Lindbladian(ch, dbl.perturbed((0, 0), 1e-12), 1.0).evolve(ground(d), TIMES)


# --------------------------------------------------------------------------- steady states
def test_steady_state_eps_5e5_certified():
    """The paper point eps = 5e-5 (N = 3, exact map), where float64 methods disagree by ~1e-8:
    a 1e-12 map does not reach the 1e-10 target (conditioning ~1e9), is rebuilt, and the
    enclosure contains the 40-digit mpmath steady state."""
    ch = QubitChain(3, H, 5e-5)
    dbl = CertifiedMapDouble.build(ch, "exact", radius=1e-12)
    t0 = time.perf_counter()
    ss = Lindbladian(ch, dbl, 1.0).steady_state(target=1e-10)
    assert time.perf_counter() - t0 < 20
    assert isinstance(ss, CertifiedSteadyState) and ss.error.rigorous
    assert ss.metadata["map_rebuilds"] >= 1 and ss.history[0][2] > 1e-10
    assert ball_radius([ss.balls]) <= 1e-10
    ssr = reference(ch, dbl).steady_state()
    mid, rad = ss.enclosure()
    S = np.array(ssr.state)
    check_contains([ss.balls], mid[None], rad[None], [S.tolist()], [ssr.error_estimate])
    # a tighter target resolves the float64 LU solve's error (~1e-11 here): radius 1000x below it
    ss2 = Lindbladian(ch, dbl, 1.0).steady_state(target=1e-15)
    mid, rad = ss2.enclosure()
    ref40 = dbl.reference_map(40)
    T64 = np.array([complex(z) for z in ref40.tensor.reshape(-1)]).reshape(ref40.tensor.shape)
    fm = Lindbladian(ch, TensorMap(T64, ch, 0.0, "exact"), 1.0).steady_state()  # float64 LU
    assert np.max(rad) < 1e-3 * np.max(np.abs(np.array(fm) - np.array(ssr, dtype=complex)))
    assert np.all(np.abs(np.array(ssr, dtype=complex) - mid) <= rad + ssr.error_estimate)


def test_steady_state_contains_mpmath_n2():
    ch = QubitChain(2, H, 1e-3)
    dbl = CertifiedMapDouble.build(ch, "exact", radius=1e-30)
    ss = Lindbladian(ch, dbl, 1.0).steady_state()
    ssr = reference(ch, dbl).steady_state()
    mid, rad = ss.enclosure()
    assert check_contains([ss.balls], mid[None], rad[None], [np.array(ssr.state).tolist()],
                          [ssr.error_estimate]) == 1


# --------------------------------------------------------------------------- observables
def _contains_interval(x: arb, v):
    lo, hi = cob.interval(x)
    return lo <= float(v) <= hi and x.contains(_arb_of(v))


def test_observables_contain_mpmath(n3_global):
    ch, dbl = n3_global
    d = ch.dim
    t = [1.0, 1e2, 1e5]
    L = Lindbladian(ch, dbl, 1.0)
    ev, ss = L.evolve(ground(d), t), L.steady_state()
    ref = reference(ch, dbl)
    evr, ssr = ref.evolve(ground(d), t), ref.steady_state()
    for x, v in zip(cob.band_ratio(ev, ch), ob.band_ratio(evr.states, ch)):
        assert _contains_interval(x, v)
    assert _contains_interval(cob.band_ratio(ss, ch), ob.band_ratio(np.array(ssr.state), ch))
    for x, v in zip(cob.beta_eff(ev, 0, 2), ob.beta_eff(evr.states, ch, 0, 2)):
        assert _contains_interval(x, v)
    for x, v in zip(cob.coherence_abs(ev, 2, 3), ob.coherence(evr.states, 2, 3)):
        assert x.contains(_arb_of(abs(v)))
    g = ob.gibbs_state(ch, BETA, dps=40)
    for x, S in zip(cob.trace_distance_to_gibbs(ev, BETA), evr.states):
        # independent: eigenvalues of rho - gibbs at 40 digits (mpmath eigh)
        ctx40 = mpmath.MPContext()
        ctx40.dps = 40
        Dm = ctx40.matrix([[S[j][k] - g[j][k] for k in range(d)] for j in range(d)])
        Dm = (Dm + Dm.H) / 2
        v = sum(abs(e) for e in ctx40.eigh(Dm, eigvals_only=True)) / 2
        assert _contains_interval(x, v), (x, v)
    # the band-ratio interval at t = 1e5 is tight (a bound, not a vacuous interval)
    lo, hi = cob.interval(cob.band_ratio(ev, ch)[-1])
    assert hi - lo < 1e-12


def test_observables_bad_input(n3_global):
    ch, dbl = n3_global
    L = Lindbladian(ch, dbl, 1.0)
    ev = L.evolve(ground(8), [0.0])
    with pytest.raises(ValueError, match="rho_22|positive"):
        cob.beta_eff(ev, 0, 2)          # rho_22 = 0 at t = 0: log undefined
    with pytest.raises(TypeError):
        cob.band_ratio(np.eye(8), ch)    # a bare float matrix is not an enclosure
    with pytest.raises(ValueError, match="beta"):
        cob.gibbs_state(dbl, -1.0)
    with pytest.raises(ValueError, match="0\\.\\.7"):
        cob.coherence(ev, 2, 8)
