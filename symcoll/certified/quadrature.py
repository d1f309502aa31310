"""Gauss-Legendre quadrature with a rigorous remainder: nodes in balls, Bernstein-ellipse bounds.

**Theorem** (Trefethen, *Approximation Theory and Approximation Practice*, SIAM 2013,
Theorem 19.3; Trefethen, SIAM Review 50 (2008) 67, Theorem 4.5).  If f is analytic in the open
Bernstein ellipse ``E_rho`` (foci -1, 1, semi-axes ``(rho + 1/rho)/2`` and ``(rho - 1/rho)/2``,
``rho > 1``) and ``|f| <= M`` there, the n-point Gauss-Legendre rule satisfies

    |int_{-1}^{1} f dt - sum_k w_k f(t_k)| <= (64/15) M rho^(-2n) / (rho^2 - 1).

Here f is the integrand after the change of variables of a panel (its Jacobian included), so
no length factor appears.  ``M`` is obtained by evaluating f in ball arithmetic on boxes that
cover the closed ellipse (:func:`ellipse_cover`): a finite ball result on a box proves that f is
analytic there (Arb's ``sqrt(analytic=True)`` refuses boxes that touch a branch cut; a ball
linear solve refuses boxes that may contain a singular matrix, i.e. a pole of the s-matrix) and
bounds ``|f|`` on it.  Nodes and weights are Arb balls (``arb.legendre_p_root``), so the rule
itself is applied in ball arithmetic and its rounding is enclosed.
"""
from __future__ import annotations

import functools
import math

import flint

from ._arb import acb, arb

__all__ = ["gauss_legendre", "ellipse_cover", "remainder_coefficient", "nodes_needed"]


@functools.lru_cache(maxsize=256)
def _gl(n, prec):
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        out = [arb.legendre_p_root(n, k, weight=True) for k in range(n)]
    finally:
        flint.ctx.prec = old
    return tuple(out)


def gauss_legendre(n):
    """``[(t_k, w_k)]`` of the n-point Gauss-Legendre rule on [-1, 1] as balls (current precision)."""
    if n < 1:
        raise ValueError(f"n must be >= 1 (got {n})")
    return _gl(int(n), flint.ctx.prec)


def ellipse_cover(rho, strips=16):
    """Boxes (acb balls) whose union contains the closed Bernstein ellipse ``E_rho`` (filled).

    Vertical strips ``[x0, x1] x [-Y, Y]`` over ``[-a, a]`` with ``Y = b sqrt(1 - x_in^2 / a^2)``, ``x_in`` the
    abscissa of the strip closest to 0 (a = (rho + 1/rho)/2, b = (rho - 1/rho)/2); the radii are
    taken 1e-9 larger than computed, which only enlarges the boxes.  Symmetric under conjugation.
    """
    a = (rho + 1 / rho) / 2
    b = (rho - 1 / rho) / 2
    out = []
    for i in range(strips):
        x0 = -a + 2 * a * i / strips
        x1 = -a + 2 * a * (i + 1) / strips
        xin = 0.0 if x0 <= 0.0 <= x1 else min(abs(x0), abs(x1))
        Y = b * math.sqrt(max(0.0, 1.0 - (xin / a) ** 2))
        rx = (x1 - x0) / 2 * (1 + 1e-9) + 1e-300
        ry = Y * (1 + 1e-9) + 1e-300
        out.append(acb(arb((x0 + x1) / 2, rx), arb(0, ry)))
    return out


def remainder_coefficient(rho, n) -> float:
    """``(64/15) rho^(-2n) / (rho^2 - 1)`` rounded up (float64 with a relative margin 1e-12).

    The formula has a handful of float operations, each with relative error <= 2^-53; the margin
    1e-12 exceeds their sum, so the result is an upper bound of the exact coefficient.
    """
    if not rho > 1:
        raise ValueError(f"rho must be > 1 (got {rho})")
    c = (64.0 / 15.0) * rho ** (-2.0 * n) / (rho * rho - 1.0)
    return c * (1 + 1e-12) + 1e-300


def nodes_needed(rho, M, target, nmax):
    """Smallest n <= nmax with ``remainder_coefficient(rho, n) * M <= target``, or None."""
    if not math.isfinite(M):
        return None
    if M == 0.0:
        return 2
    n = max(2, int(math.ceil(math.log((64.0 / 15.0) * M / ((rho * rho - 1.0) * target)) / (2 * math.log(rho)))))
    while n <= nmax and remainder_coefficient(rho, n) * M > target:
        n += 1
    return n if n <= nmax else None
