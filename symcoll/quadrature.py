"""Panel quadrature for the collision-map integrals (Appendix B variable E_out).

The map integrals (38), (45), (54)-(56), written over the outgoing kinetic energy
``E`` (Appendix B, Eq. (B3)), have square-root kinks at every channel threshold and
an integrable ``(E - E_min)^{-1/4}`` singularity where one incoming momentum
vanishes.  All of them sit at *breakpoints* known in advance.  On every panel
``[a, b]`` between consecutive breakpoints the substitution

    E = a + (b - a) sin^4(pi t / 2),      t in [0, 1]

makes ``E - a ~ t^4`` at the left end and ``b - E ~ (1 - t)^2`` at the right end,
so that functions of ``(E - a)^{1/4}`` and of ``(b - E)^{1/2}`` become analytic in t
and Gauss-Legendre converges exponentially.  Clusters of breakpoints (spacing ~eps
next to panels of width ~h) are handled by geometric grading: a panel is cut so
that no sub-panel is wider than twice its distance to the nearest breakpoint
outside it.

Everything is written against a number-type context (:mod:`symcoll.numeric`) so
the float64 and the mpmath paths run the same code.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["gauss_legendre01", "sin4_panel_nodes", "graded_panels", "tail_bound"]


@lru_cache(maxsize=None)
def _gl_float(n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1) / 2, w / 2


_GL_MP_CACHE: dict = {}


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
                p0, p1 = mp.mpf(1), x
                for k in range(2, n + 1):
                    p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
                if n == 1:
                    p1, p0 = x, mp.mpf(1)
                dp = n * (x * p1 - p0) / (x * x - 1)
                dx = p1 / dp
                x = x - dx
                if abs(dx) < mp.mpf(10) ** (-(ctx.dps + 8)):
                    break
            p0, p1 = mp.mpf(1), x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            if n == 1:
                p1, p0 = x, mp.mpf(1)
            dp = n * (x * p1 - p0) / (x * x - 1)
            w = 2 / ((1 - x * x) * dp * dp)
            xs.append((x + 1) / 2)
            ws.append(w / 2)
    t = np.array([+v for v in xs], dtype=object)
    w = np.array([+v for v in ws], dtype=object)
    _GL_MP_CACHE[key] = (t, w)
    return t, w


def sin4_panel_nodes(a, b, n, ctx):
    """Nodes on the panel ``[a, b]`` under ``E = a + (b - a) sin^4(pi t/2)``.

    Returns
    -------
    u : array (n,)
        Offsets ``E - a`` (kept separate from ``a`` so that ``E - a`` is exact to
        rounding near the left end, where the integrand varies like ``(E - a)^{1/4}``).
    weights : array (n,)
        ``w_t (b - a) dE/dt`` so that ``int_a^b f(E) dE ~ sum weights f(a + u)``.
    """
    t, w = gauss_legendre01(n, ctx)
    L = b - a
    x = ctx.pi * t / 2
    s, c = ctx.sin(x), ctx.cos(x)
    s2 = s * s
    u = L * s2 * s2
    jac = L * 2 * ctx.pi * s2 * s * c
    return u, w * jac


def graded_panels(breakpoints, e_max, ratio: float = 2.0):
    """Panels between sorted breakpoints, graded geometrically toward nearby breakpoints.

    Parameters
    ----------
    breakpoints : sequence of float, sorted ascending, first one 0
        Points where the integrand is non-analytic.
    e_max : float
        Truncation point of the integral (larger than the last breakpoint).
    ratio : float
        No sub-panel is wider than ``ratio`` times its distance to the nearest
        breakpoint outside the original panel.

    Returns
    -------
    list of (a, b, i) with ``i`` the index of the original (ungraded) panel.
    """
    pts = list(breakpoints) + [e_max]
    out = []
    for i in range(len(pts) - 1):
        a, b = pts[i], pts[i + 1]
        left = pts[i - 1] if i >= 1 else None
        right = pts[i + 2] if i + 2 < len(pts) - 1 else None  # e_max is not a singularity
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
            rc = []
            while x > mid:
                rc.append(x)
                dist = right - x
                x = x - ratio * dist
            cuts.extend(rc)
        cuts = sorted(set(cuts))
        if cuts and (left is not None and right is not None):
            cuts.append(mid)
            cuts = sorted(set(cuts))
        edges = [a] + cuts + [b]
        for k in range(len(edges) - 1):
            if edges[k + 1] > edges[k]:
                out.append((edges[k], edges[k + 1], i))
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
