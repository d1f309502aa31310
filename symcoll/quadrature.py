"""Panel quadrature for the collision-map integrals (Appendix B variable E_out).

The map integrals (38), (45), (54)-(56), written over the outgoing kinetic energy
``E`` (Appendix B, Eq. (B3)), have square-root kinks at every channel threshold and
an integrable ``(E - E_min)^{-1/4}`` singularity where one incoming momentum
vanishes.  All of them sit at *breakpoints* known in advance.  On every panel
``[a, b]`` between consecutive breakpoints the substitution

    E = a + (b - a) (3 t^2 - 2 t^3),      t in [0, 1]

(or ``t^2``, ``2t - t^2`` when only one end is singular) makes ``E - a ~ t^2`` and
``b - E ~ (1 - t)^2``, so that functions of ``sqrt(E - a)`` and ``sqrt(b - E)`` become
analytic in t and Gauss-Legendre converges exponentially.  (The weight of (38) has a
``(E - E_min)^{-1/4}`` singularity, but in the integrand it always multiplies the flux
factors ``K^{1/2}`` of the s-matrix rows and the quarter powers cancel; only square
roots remain.)  Clusters of breakpoints (spacing ~eps
next to panels of width ~h) are handled by geometric grading: a panel is cut so
that no sub-panel is wider than twice its distance to the nearest breakpoint
outside it.  Near-real poles of the integrand (resonances of the s-matrix) are
handled the same way: a panel edge at the pole's real part c and cuts graded geometrically
from the pole's distance gamma to the axis (``graded_panels(..., poles=...)``).

Everything is written against a number-type context (:mod:`symcoll.numeric`) so
the float64 and the mpmath paths run the same code.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["gauss_legendre01", "rule_pair", "map_rule", "graded_panels", "tail_bound", "MIN_REL_WIDTH",
           "POLE_REL_WIDTH"]


@lru_cache(maxsize=None)
def _gl_float(n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


_GL_MP_CACHE: dict = {}


def _legendre(mp, n, x):
    """``(P_{n-1}(x), P_n(x), P_n'(x))`` by the three-term recurrence (mpmath numbers)."""
    p0, p1 = mp.mpf(1), x
    for k in range(2, n + 1):
        p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
    if n == 1:
        p1, p0 = x, mp.mpf(1)
    return p0, p1, n * (x * p1 - p0) / (x * x - 1)


def gauss_legendre01(n: int, ctx):
    """Gauss-Legendre nodes and weights of order ``n`` on ``[0, 1]`` in the context's numbers.

    For mpmath contexts the float64 roots are refined by Newton's method on the
    three-term recurrence of ``P_n`` at ``dps + 10`` digits and cached by ``(n, dps)``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1 (got {n})")
    if not ctx.is_mp:
        return _gl_float(n)
    key = (n, ctx.dps)
    if key in _GL_MP_CACHE:
        return _GL_MP_CACHE[key]
    mp = ctx.mp
    x0, _ = np.polynomial.legendre.leggauss(n)
    xs, ws = [], []
    with mp.workdps(ctx.dps + 10):
        for xf in x0:
            x = mp.mpf(float(xf))
            for _ in range(100):
                _, p1, dp = _legendre(mp, n, x)
                dx = p1 / dp
                x = x - dx
                if abs(dx) < mp.mpf(10) ** (-(ctx.dps + 8)):
                    break
            _, _, dp = _legendre(mp, n, x)
            w = 2 / ((1 - x * x) * dp * dp)
            xs.append((x + 1) / 2)
            ws.append(w / 2)
    t = np.array([+v for v in xs], dtype=object)
    w = np.array([+v for v in ws], dtype=object)
    _GL_MP_CACHE[key] = (t, w)
    return t, w


def graded_panels(breakpoints, e_max, ratio: float = 2.0, n_singular=None, poles=()):
    """Panels between sorted breakpoints, graded geometrically toward nearby breakpoints and poles.

    Parameters
    ----------
    breakpoints : sequence of float, sorted ascending, first one 0
        Points where the integrand may be non-analytic (the first ``n_singular`` of
        them are; later ones, e.g. tail subdivision points, are regular).
    e_max : float
        Truncation point of the integral (larger than the last breakpoint).
    ratio : float
        No sub-panel is wider than ``ratio`` times its distance to the nearest
        singular breakpoint outside the original panel.
    poles : sequence of ``(c, gamma)``
        Poles of the integrand at ``c -/+ i gamma`` next to the real axis (resonances of the
        s-matrix, :func:`symcoll.interpolation.resonance_poles`): the integrand is analytic
        on the axis but varies on the scale gamma around c.  Every c inside ``(0, e_max)``
        becomes a (regular) panel edge, and its panel is cut at ``c -/+ o_k``,
        ``o_0 = gamma``, ``o_{k+1} = (1 + ratio) o_k``: a sub-panel is then no wider than
        ``ratio`` times its distance to c (and the two next to c are gamma wide), so that its
        Bernstein ellipse stays clear of the pole and Gauss rules converge geometrically.
        ``gamma`` below ``POLE_REL_WIDTH * max(1, |c|)`` is raised to it (narrower panels would
        have Gauss nodes within a few ulps of c); ``gamma = inf`` (width unknown) cuts at c only;
        ``gamma`` at the rounding level (``<= 16 eps max(1, |c|)``: a bound state decoupled from
        the open channels, whose pole on the real axis has no residue in the rows that enter the
        maps) cuts nothing, so that no panel end (a Chebyshev node of
        :mod:`symcoll.interpolation`) sits on it.

    Returns
    -------
    list of ``(a, b, left_singular, right_singular)``.
    """
    pts = list(breakpoints) + [e_max]
    ns = len(breakpoints) if n_singular is None else n_singular
    sing = [i < ns for i in range(len(pts))]
    out = []
    for i in range(len(pts) - 1):
        a, b = pts[i], pts[i + 1]
        left = pts[i - 1] if i >= 1 and sing[i - 1] else None
        right = pts[i + 2] if i + 2 < len(pts) and sing[i + 2] else None
        cuts = []
        mid = (a + b) / 2
        if left is not None:
            dist = a - left
            x = a + ratio * dist
            while x < mid:
                cuts.append(x)
                dist = x - left
                x = x + ratio * dist
        if right is not None:
            dist = right - b
            x = b - ratio * dist
            while x > mid:
                cuts.append(x)
                dist = right - x
                x = x - ratio * dist
        cuts = sorted(set(cuts))
        edges = [a] + cuts + [b]
        for k in range(len(edges) - 1):
            if edges[k + 1] > edges[k]:
                out.append((edges[k], edges[k + 1], k == 0 and sing[i], k == len(edges) - 2 and sing[i + 1]))
    for c, gamma in sorted(poles):
        out = _cut_at_pole(out, float(c), float(gamma), ratio)
    return out


MIN_REL_WIDTH = 1e-13
"""Narrowest panel, relative to ``max(1, |E|)``: the adaptive quadrature does not bisect below it
(float64 numbers are spaced ~2.2e-16 |E|: the outermost Gauss-Kronrod nodes of such a panel are
about one ulp from its ends)."""

POLE_REL_WIDTH = 1e-11
"""Narrowest panel :func:`graded_panels` puts next to a pole, relative to ``max(1, |c|)`` (its
outermost Gauss-Kronrod node, at 0.2 % of the width, stays ~10 ulps away from c)."""


def _cut_at_pole(panels, c, gamma, ratio):
    """Split the panel containing c at c and at ``c -/+ o_k`` (see :func:`graded_panels`)."""
    scale = max(1.0, abs(c))
    floor = POLE_REL_WIDTH * scale
    if gamma <= 16 * np.finfo(float).eps * scale:
        return panels
    graded = math.isfinite(gamma)
    out = []
    for a, b, sl, sr in panels:
        if not (a + floor < c < b - floor):
            out.append((a, b, sl, sr))
            continue
        cuts = []
        for side, room in ((-1.0, c - a), (1.0, b - c)) if graded else ():
            o = max(gamma, floor)
            # add c + side o_k while it is inside; stop once the rest of the side is <= ratio o_k wide
            while o < room - floor:
                cuts.append(c + side * o)
                if (1 + ratio) * o >= room:
                    break
                o *= 1 + ratio
        edges = [a] + sorted(cuts + [c]) + [b]
        for k in range(len(edges) - 1):
            out.append((edges[k], edges[k + 1], k == 0 and sl, k == len(edges) - 2 and sr))
    return out


def tail_bound(e_max: float, beta: float, spread: float) -> float:
    """Rigorous bound on the Gaussian tail ``int_{E_max}^inf w(p, q) dE`` of Eq. (38).

    With ``p^2 = 2m(E + D1)``, ``q^2 = 2m(E + D2)``, ``|D1|, |D2| <= W`` (spectral
    width ``spread``) and ``E >= E_max > W``:
    ``(p + q)/(2 sqrt(pq)) <= max(p, q)/min(p, q) <= sqrt((E_max + W)/(E_max - W)) = R`` and
    ``exp(-beta (p+q)^2/(8m)) <= exp(-beta (E - W))`` (since ``p, q >= sqrt(2m(E - W))``);
    the sigma_p factor is ``<= 1``.  Hence ``int w dE <= R exp(-beta (E_max - W))``.
    Multiplied by ``|sum_alpha a^alpha b^alpha*| <= 1`` (Cauchy-Schwarz with flux
    unitarity ``sum_{alpha, j'} |s^alpha_{j'j}|^2 = 1``) this bounds every tensor entry.
    The narrow-packet weight ``beta exp(-beta (E + D))`` of (45) obeys the same bound with R = 1.
    """
    if e_max <= spread:
        return math.inf
    R = math.sqrt((e_max + spread) / (e_max - spread))
    return R * math.exp(-beta * (e_max - spread))


# Gauss-Kronrod (G10, K21) on [-1, 1]: QUADPACK's qk21 table (R. Piessens, E. de Doncker-Kapenga,
# C. W. Ueberhuber, D. K. Kahaner, "QUADPACK", Springer 1983; the data of routine dqk21).
# Abscissae of K21 (xgk, descending, >= 0; the odd-indexed ones are the G10 nodes) with their K21
# weights (wgk) and the G10 weights (wg) of the Gauss nodes.  tests/test_maps_quadrature.py
# checks them against numpy's Gauss-Legendre rule and the exactness of K21 up to degree 31.
_XGK21 = (
    0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
    0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
    0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
    0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
    0.294392862701460198131126603103866, 0.148874338981631210884826001129720,
    0.0,
)
_WGK21 = (
    0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
    0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
    0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
    0.123491976262065851077982418064178, 0.134709217311473325928054001771707,
    0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
    0.149445554002916905664936468389821,
)
_WG10 = (
    0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
    0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
    0.295524224714752870173892994651338,
)


def _gk21_01():
    """Gauss-Kronrod (G10, K21) nodes and weights mapped to [0, 1] (float64, QUADPACK's table).

    Returns ``(t, wk, wg)``: the 21 nodes (descending), their K21 weights, and the G10 weights
    (zero on the 11 Kronrod-only nodes).
    """
    xh = np.array(_XGK21)
    x = np.concatenate([xh, -xh[-2::-1]])
    wk = np.concatenate([_WGK21, _WGK21[-2::-1]])
    wgh = np.zeros(11)
    wgh[1::2] = _WG10
    wg = np.concatenate([wgh, wgh[-2::-1]])
    return (x + 1) / 2, wk / 2, wg / 2


_GK21 = None


def rule_pair(ctx, level: int):
    """Nested pair of rules on [0, 1] for one refinement level, or None when exhausted.

    Returns ``(t, W)`` with ``W[:, 0]`` the weights of the finer rule (the value returned)
    and ``W[:, 1]`` those of the coarser rule (zero on nodes it does not use); the
    difference of the two integrals is the error *estimate*.

    * float64: level 0 is Gauss-Kronrod (G10, K21) (21 nodes); no further level (the caller
      bisects).
    * mpmath: level k compares Gauss-Legendre of orders ``n = n0 * 2^k`` and ``2n``
      (``3n`` nodes; ``n0 = 8`` up to 32 digits, 12 above), for k = 0..3; then the caller
      bisects.
    """
    global _GK21
    if not ctx.is_mp:
        if level > 0:
            return None
        if _GK21 is None:
            t, wk, wg = _gk21_01()
            _GK21 = (t, np.stack([wk, wg], axis=1))
        return _GK21
    if level > 3:
        return None
    n = (8 if ctx.dps <= 32 else 12) * 2**level
    t1, w1 = gauss_legendre01(n, ctx)
    t2, w2 = gauss_legendre01(2 * n, ctx)
    zero = ctx.mpf(0)
    t = np.concatenate([t2, t1])
    W = np.empty((3 * n, 2), dtype=object)
    W[: 2 * n, 0] = w2
    W[: 2 * n, 1] = zero
    W[2 * n:, 0] = zero
    W[2 * n:, 1] = w1
    return t, W


def map_rule(a, b, t, W, ctx, left=True, right=True):
    """Map a rule ``(t, W)`` on [0, 1] onto the panel ``[a, b]``.

    ``E = a + (b - a) phi(t)`` with ``phi(t) = 3t^2 - 2t^3`` (both ends singular), ``t^2``
    (left only), ``2t - t^2`` (right only) or ``t``: near a singular end ``E - a ~ t^2`` (or
    ``b - E ~ (1 - t)^2``) so functions of ``sqrt(E - a)`` become analytic in t.

    Returns offsets ``u = E - a`` (kept separate from ``a`` so that ``E - a`` is exact to
    rounding near the left end) and weights ``W * (b - a) phi'(t)``.
    """
    # arrays on the left: ``mpf * ndarray`` makes mpmath try (slowly) to convert the array
    L = b - a
    if left and right:
        u = t * t * (3 - 2 * t) * L
        jac = t * (1 - t) * (6 * L)
    elif left:
        u = t * t * L
        jac = t * (2 * L)
    elif right:
        u = t * (2 - t) * L
        jac = (1 - t) * (2 * L)
    else:
        u = t * L
        jac = 0 * t + L
    return u, W * jac[:, None]
