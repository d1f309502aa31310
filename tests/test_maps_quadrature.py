"""Tests of the panel quadrature behind the collision maps (symcoll.quadrature)."""
import math

import mpmath
import numpy as np
import pytest

from symcoll.numeric import get_context
from symcoll.quadrature import gauss_legendre01, graded_panels, map_rule, rule_pair, tail_bound


def test_gauss_legendre_mp_exact_for_polynomials():
    ctx = get_context(40)
    t, w = gauss_legendre01(10, ctx)
    for k in (0, 7, 19):  # exact up to degree 2n - 1
        val = sum(wi * ti**k for ti, wi in zip(t, w))
        assert abs(val - ctx.mpf(1) / (k + 1)) < ctx.mpf(10) ** -38


def test_rule_pairs_integrate_constants():
    for ctx in (get_context(None), get_context(30)):
        t, W = rule_pair(ctx, 0)
        assert abs(float(sum(W[:, 0])) - 1) < 1e-15 and abs(float(sum(W[:, 1])) - 1) < 1e-15
    assert rule_pair(get_context(None), 1) is None


@pytest.mark.parametrize("left,right", [(True, True), (True, False), (False, True)])
def test_square_root_endpoint_map_converges(left, right):
    """int_a^b sqrt(E - a) sqrt(b - E) dE = pi (b - a)^2 / 8: kinks at the ends become analytic."""
    ctx = get_context(None)
    a, b = 1.5, 4.0
    t, W = rule_pair(ctx, 0)
    u, Wn = map_rule(a, b, t, W, ctx, True, True)
    f = np.sqrt(u) * np.sqrt((b - a) - u)
    exact = math.pi * (b - a) ** 2 / 8
    assert abs(Wn[:, 0] @ f - exact) < 1e-14
    # without the map the K21 rule converges only algebraically
    u0, W0 = map_rule(a, b, t, W, ctx, False, False)
    f0 = np.sqrt(u0) * np.sqrt((b - a) - u0)
    assert abs(W0[:, 0] @ f0 - exact) > 1e-6


def test_graded_panels_respect_distance_ratio():
    pts = [0.0, 3.99, 4.0, 4.01, 8.0]
    panels = graded_panels(pts, 40.0)
    sing = set(pts)
    for a, b, sl, sr in panels:
        assert b > a
        outside = [p for p in sing if p < a or p > b]
        dist = min(min(abs(a - p), abs(b - p)) for p in outside)
        # ratio 2 from the nearest singular point outside the original panel (allow the middle cut)
        assert (b - a) <= 4.0 * dist + 1e-12
        assert sl == (a in sing) and sr == (b in sing and b != 40.0)
    edges = sorted({a for a, *_ in panels} | {b for _, b, *_ in panels})
    assert edges[0] == 0.0 and edges[-1] == 40.0


def test_tail_bound_is_a_bound():
    """Numerical check of the analytic tail bound for the exact-map weight (38)-(41)."""
    beta, m, s, W = 0.1, 0.1, 0.5, 12.0
    mp = mpmath.mp

    def w(E, D1, D2):
        p, q = mp.sqrt(2 * m * (E + D1)), mp.sqrt(2 * m * (E + D2))
        return beta * (p + q) / (2 * mp.sqrt(p * q)) * mp.exp(-beta * (p + q) ** 2 / (8 * m) - (p - q) ** 2 / (2 * s * s))

    for e_max in (20.0, 60.0, 200.0):
        worst = max(mpmath.quad(lambda E: w(E, D1, D2), [e_max, mp.inf]) for D1, D2 in [(-W, W), (-W, -W), (W, W), (0, -W)])
        assert worst <= tail_bound(e_max, beta, W)
        assert worst >= 1e-3 * tail_bound(e_max, beta, W)  # and not absurdly loose


def test_gauss_kronrod_21_table_against_independent_computations():
    """The written (G10, K21) table of the float64 rule: G10 nodes and weights equal numpy's
    Gauss-Legendre rule, and K21 (Kronrod: degree 3n + 1 = 31) integrates x^k on [0, 1]
    exactly for k <= 31, G10 for k <= 19 (sums in mpmath at 40 digits)."""
    t, W = rule_pair(get_context(None), 0)
    assert len(t) == 21 and rule_pair(get_context(None), 1) is None
    gauss = W[:, 1] != 0
    xg, wg = np.polynomial.legendre.leggauss(10)
    order = np.argsort(t[gauss])
    assert np.max(np.abs(t[gauss][order] - (xg + 1) / 2)) <= 2e-16
    assert np.max(np.abs(W[gauss, 1][order] - wg / 2)) <= 2e-16
    mp = mpmath.MPContext()
    mp.dps = 40
    for col, degree in ((0, 31), (1, 19)):
        for k in range(degree + 1):
            val = mp.fsum(mp.mpf(float(w)) * mp.mpf(float(x)) ** k for w, x in zip(W[:, col], t))
            assert abs(val - mp.mpf(1) / (k + 1)) <= 2e-16, (col, k)
