"""Issue 10, item 5: the map quadrature near s-matrix resonances (Eqs. (38), (45), (C1)).

For N = 2, m = beta = 0.1, g = 50 and h >~ 88.4 the closed channels of (C1) have a bound state
above the ground level: a Feshbach resonance, i.e. a pole of ``(K(T) + i m g V)^{-1}`` at
``T_r - i gamma`` with gamma ~ 6.6e-5 (eps = 0.1) or 6.6e-9 (eps = 1e-3).  The float64 solves are
ill-conditioned next to it; their rounding noise exceeded the acceptance floor of the adaptive
quadrature, whose per-panel tolerance halves with the width, so the panels there were bisected
down to 1e-13 (h = 90: 200,002 panels, 338 s).  The panels are now graded toward the located
poles (:func:`symcoll.interpolation.resonance_poles`) and the bisection has a work limit.

References: an independent 30-digit root of ``det(K + i m g V)`` (mpmath ``findroot``) and the
independent 30-digit quadrature of (38) in :mod:`symcoll.symbolic._quad38` (tanh-sinh), split at
that root.
"""
import mpmath
import numpy as np
import pytest

import symcoll.maps.integrate as maps_mod  # PANEL_BUDGET is read there
from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.quadrature import graded_panels
from symcoll.oracles import quad38 as q38

BETA, M, G, SIGMA = 0.1, 0.1, 50.0, 0.5
BATH = EffusionBath(BETA, M, SIGMA)
COUPLING = DeltaCoupling(G)
TOL = 1e-12
PANEL_CAP = 500  # the maps below need 25-80 panels; the runaway reached 200,002

H_SWEEP = sorted(set(range(80, 131, 5)) | {90, 92, 100})


def reported_error(S):
    """The map's reported total entry error, ``S.error_estimate`` (the sum of its parts)."""
    assert S.error_estimate == pytest.approx(sum(p["value"] for p in S.error_parts.values()))
    return S.error_estimate


def chain(h, eps):
    return QubitChain(2, h, eps)


# ----------------------------------------------------------------------------- the pole itself
def _pole_30_digits(h, eps):
    """Pole of (C1) between the two lowest levels: mpmath findroot of det(K + i m g V / hbar^2)
    from the minimum of |det| on a coarse real grid; open channels continued to Im T < 0."""
    q = q38.Quad38(chain(h, eps), G, M, BETA, SIGMA)
    sc, mp = q.sc, q.mp
    e = list(sc.energies)
    d = len(e)

    def det(T):
        A = mp.matrix(d, d)
        for r in range(d):
            for c in range(d):
                A[r, c] = mp.mpc(0, 1) * sc.mg * sc.V_eig[r, c]
            x = 2 * sc.m * (T - e[r])
            A[r, r] += (mp.sqrt(x) if mp.re(T) > e[r] else mp.mpc(0, 1) * mp.sqrt(-x)) / sc.hbar
        return mp.det(A)

    grid = [e[0] + (e[1] - e[0]) * (k + mp.mpf(1) / 2) / 400 for k in range(400)]
    start = min(grid, key=lambda T: abs(det(T)))
    Tp = mp.findroot(det, mp.mpc(start, -1e-6))
    assert abs(det(Tp)) < mp.mpf(10) ** -25
    return q, Tp


@pytest.mark.parametrize("eps", [0.1, 1e-3])
def test_resonance_pole_of_C1_matches_30_digit_root(eps):
    """The located pole (in ``info["resonances"]``) is the root of det(K + i m g V) (C1)."""
    S = collision_map(chain(90, eps), BATH, COUPLING, kind="exact")
    _, Tp = _pole_30_digits(90, eps)
    assert len(S.info["resonances"]) == 1
    t_r, gamma = S.info["resonances"][0]
    ref_r, ref_gamma = float(mpmath.re(Tp)), -float(mpmath.im(Tp))
    assert ref_gamma > 0
    assert abs(t_r - ref_r) <= 1e-12 * abs(ref_r)
    # the panels need gamma to a factor ~2; float64 Newton gets it to ~2e-7 (eps = 1e-3)
    assert abs(gamma - ref_gamma) <= 1e-5 * ref_gamma


def test_graded_panels_grade_toward_a_pole():
    """A pole at c - i gamma: c is an edge, the two panels next to it are gamma wide, and no
    panel is wider than twice its distance to c (plus the unchanged threshold panels)."""
    c, gamma = 2.146385, 6.6e-5
    pts = [0.0, 0.8, 89.6, 90.4, 180.0]
    plain = graded_panels(pts, 200.0)
    panels = graded_panels(pts, 200.0, poles=[(c, gamma)])
    edges = sorted({a for a, *_ in panels} | {b for _, b, *_ in panels})
    assert c in edges
    inner = [(a, b) for a, b, *_ in panels if a == c or b == c]
    assert all(abs((b - a) - gamma) <= 1e-12 for a, b in inner)
    host = next((a, b) for a, b, *_ in plain if a < c < b)
    for a, b, sl, sr in panels:
        if host[0] <= a and b <= host[1] and (a, b) not in inner:
            assert (b - a) <= 2.0 * min(abs(a - c), abs(b - c)) * (1 + 1e-9)
            assert not sl or a == host[0]
    # outside the host panel nothing changed
    assert [p for p in panels if p[1] <= host[0] or p[0] >= host[1]] == \
        [p for p in plain if p[1] <= host[0] or p[0] >= host[1]]
    # a decoupled bound state (gamma at the rounding level) adds no edge
    assert graded_panels(pts, 200.0, poles=[(c, 0.0)]) == plain


# ----------------------------------------------------------------------------- the sweep
@pytest.mark.parametrize("kind", ["exact", "global"])
@pytest.mark.parametrize("h", H_SWEEP)
def test_h_sweep_panels_bounded_and_error_within_tol(kind, h):
    """N = 2, eps = 0.1, h in [80, 130]: at h = 90 this needed 200,002 panels (338 s)."""
    S = collision_map(chain(h, 0.1), BATH, COUPLING, kind=kind, tol=TOL)
    assert S.info["panels"] < PANEL_CAP
    assert S.info["unresolved_panels"] == 0
    assert reported_error(S) <= TOL
    if h >= 90:  # the closed-channel bound state lies above the ground level from h ~ 89 on
        assert len(S.info["resonances"]) == 1


@pytest.mark.parametrize("kind", ["exact", "global"])
@pytest.mark.parametrize("h", [90, 100, 130])
def test_small_eps_panels_bounded_and_error_within_tol(kind, h):
    """eps = 1e-3: the resonance is 1e4 times narrower (gamma ~ eps^2)."""
    S = collision_map(chain(h, 1e-3), BATH, COUPLING, kind=kind, tol=TOL)
    assert S.info["panels"] < PANEL_CAP
    assert S.info["unresolved_panels"] == 0
    assert reported_error(S) <= TOL


@pytest.mark.parametrize("h", [90, 100])
def test_interpolated_rows_near_resonance_finish_and_agree(h):
    """The Chebyshev tables of (C1) (smatrix="interpolate") bisected the noisy panels next to
    the pole down to depth 30; now they stop at the conditioning-driven rounding floor."""
    ch = chain(h, 0.1)
    Si = collision_map(ch, BATH, COUPLING, kind="global", smatrix="interpolate", tol=1e-10)
    Ss = collision_map(ch, BATH, COUPLING, kind="global", smatrix="solve", tol=TOL)
    assert Si.info["interp_bisections"] < PANEL_CAP
    assert Si.info["interp_unresolved"] == 0
    assert reported_error(Si) <= 1e-10
    assert np.max(np.abs(Si.tensor - Ss.tensor)) <= reported_error(Si) + reported_error(Ss)


# ----------------------------------------------------------------------------- the work limit
def test_work_limit_without_pole_grading_reports_an_honest_larger_error(monkeypatch):
    """With the poles hidden from the panel construction, the quadrature stops at
    PANEL_BUDGET panels per initial panel, warns naming the unresolved panels, and its
    reported error still covers the true error (against the graded map)."""
    ch = chain(90, 0.1)
    good = collision_map(ch, BATH, COUPLING, kind="exact", tol=TOL)
    monkeypatch.setattr(maps_mod, "_resonances", lambda engine: [])
    monkeypatch.setattr(maps_mod, "PANEL_BUDGET", 8)
    with pytest.warns(RuntimeWarning, match="exceeds tol.*accepted unresolved"):
        bad = collision_map(ch, BATH, COUPLING, kind="exact", tol=TOL)
    assert bad.info["panels"] <= 8 * bad.info["initial_panels"]
    assert bad.info["unresolved_panels"] > 0
    true_err = np.max(np.abs(bad.tensor - good.tensor))
    assert true_err > 1e3 * reported_error(good)  # the ungraded map really is off
    assert true_err <= reported_error(bad) + reported_error(good)


# ----------------------------------------------------------------------------- honesty at 30 digits
class _SplitQuad:
    """The mpmath context of a Quad38 with extra breakpoints for every ``quad`` call."""

    def __init__(self, ctx, points):
        self._ctx, self._points = ctx, points

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    def quad(self, f, pts, **kw):
        lo, hi = pts[0], pts[-1]
        return self._ctx.quad(f, sorted(set(pts) | {x for x in self._points if lo < x < hi}), **kw)


@pytest.mark.slow
@pytest.mark.parametrize("eps", [0.1, 1e-3])
def test_float_map_within_its_error_of_30_digit_quad38_at_former_runaway(eps):
    """h = 90: the coherence entry S^{01}_{01} = tensor[0, 1, 0, 1] (a_00 a_11^*, linear in the
    resonant phase of s_00; the entry the ungraded quadrature got most wrong, 2e-8 at eps = 0.1)
    by tanh-sinh at 30 digits, split at the independent root of det(C1) and at
    ``T_r -/+ 10^k gamma`` (in the momentum of channel 0)."""
    S = collision_map(chain(90, eps), BATH, COUPLING, kind="exact", tol=TOL)
    q, Tp = _pole_30_digits(90, eps)
    mp, e = q.mp, q.e
    t_r, gamma = mpmath.re(Tp), -mpmath.im(Tp)
    Ts = [t_r] + [t_r + s * gamma * 10**k for k in range(20) for s in (-1, 1)]
    q.mp = _SplitQuad(mp, sorted(mp.sqrt(2 * q.m * (T - e[0])) for T in Ts if e[0] < T < e[1]))
    ref, ref_err = q.entry(0, 1, 0, 1)
    assert ref_err < 1e-20
    assert abs(complex(ref) - S.tensor[0, 1, 0, 1]) <= reported_error(S)
    assert reported_error(S) <= TOL


def test_progress_reports_the_integration_range():
    """Long builds can show progress (the CLI draws a tqdm bar): fractions rise to 1."""
    seen = []
    collision_map(chain(90.0, 0.1), EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0), kind="global",
                  progress=seen.append)
    assert seen and seen[-1] == pytest.approx(1.0) and all(b >= a for a, b in zip(seen, seen[1:]))
    with pytest.raises(TypeError, match="progress must be None, True or a callable"):
        collision_map(chain(90.0, 0.1), EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0), kind="global",
                      progress="yes")
