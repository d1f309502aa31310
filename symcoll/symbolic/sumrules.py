"""The identity (C33) and the Appendix C sum rule (C34)-(C39) = (63)/(66) for the eps -> 0 map.

Registered derivations (``symcoll verify``; scripts in ``derivations/``):

``identity_C33``
    ``int_0^oo mu_eff f(c_+) dp = e^{+beta h} int_{sqrt(2mh)}^oo mu_eff f(c_-) dp`` for any f,
    by ``p' = sqrt(p^2 + 2 m h)``: symbolic for an undefined function f, numeric at 30 digits
    for several f with beta = m = 0.1, g = 50, h = 4 (and the wrong sign e^{-beta h} fails).
``sum_rule_C39``
    Every contribution to ``sum_j S^{jj}_{j'k'} e^{-beta eps_j}`` (transmitted/reflected, same
    band and bands +-h, p below/above sqrt(2mh)) is assembled and each printed line
    (C34)-(C39) is compared with the derived one; the identity is then checked at 30 digits
    in the eigenbasis of H(eps -> 0) for N = 2, 3 with the local map (54)-(56) built here from
    the closed forms (C30)-(C32) (:class:`LocalMap0`, an oracle independent of the maps module).

Conventions: one-qubit matrices printed in Appendix C use the order (|1>, |0>); the code
uses (|0>, |1>) (:mod:`symcoll.conventions`) and says so where it matters.  ``hbar = 1``
in numerics; the symbolic layer keeps ``hbar``.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..derive import derivation
from ..numeric import get_context

# Paper's parameters (Sec. VI E).
PAPER_PARAMS = dict(beta="0.1", m="0.1", g="50", h="4")

p, pp, m, beta, h, g, hbar = sp.symbols("p p' m beta h g hbar", positive=True)


def mu_eff_sym(p_=p):
    """Effusion distribution (40) for p > 0 (plain expression, no Piecewise)."""
    return beta * p_ / m * sp.exp(-beta * p_**2 / (2 * m))


def c_pm_sym(sign, p_=p):
    """``c_pm(p) = (g m / hbar) [p sqrt(p^2 pm 2 m h)]^{-1/2}``, Eq. (C32) (h, not hbar, inside).

    Valid as written for ``p^2 > 2 m h`` when ``sign = -1`` (c_- real there).
    """
    return g * m / hbar / sp.sqrt(p_ * sp.sqrt(p_**2 + sign * 2 * m * h))


# ----------------------------------------------------------------------------- (C33)
def c33_substitution():
    """Transform ``mu_eff(p) f(c_+(p)) dp`` by ``p = sqrt(p'^2 - 2 m h)`` (Eq. (C33)).

    Returns
    -------
    dict
        ``factor``: (transformed integrand) / (mu_eff(p') f(c_-(p'))), simplified -- the sign
        of the exponential in (C33) (``exp(beta h)``); ``c_map``: ``c_+(p(p')) - c_-(p')``
        (0); ``lower``: image of p = 0 (``sqrt(2 m h)``); ``upper``: image of p -> oo.
    """
    f = sp.Function("f")
    p_of_pp = sp.sqrt(pp**2 - 2 * m * h)
    lhs = mu_eff_sym(p) * f(c_pm_sym(+1, p))
    transformed = lhs.subs(p, p_of_pp) * sp.diff(p_of_pp, pp)
    cmap = sp.simplify(c_pm_sym(+1, p_of_pp) - c_pm_sym(-1, pp))
    transformed = transformed.subs(c_pm_sym(+1, p_of_pp), c_pm_sym(-1, pp))
    factor = sp.simplify(sp.powsimp(transformed / (mu_eff_sym(pp) * f(c_pm_sym(-1, pp))), combine="exp"))
    lower = sp.solve(sp.Eq(p_of_pp, 0), pp)
    upper = sp.limit(p_of_pp, pp, sp.oo)
    return dict(factor=factor, c_map=cmap, lower=lower, upper=upper)


def _mp_ctx(dps):
    return get_context(dps).mp


def c_pm_mp(mp, sign, p_, g_, m_, h_, hbar_=1, x=None):
    """``c_pm(p)^2`` (Eq. (C32)) at mpmath precision; for ``p^2 < 2mh`` the minus sign gives
    the imaginary ``c_-^2 = -i (g m/hbar)^2 / (p sqrt(2mh - p^2))`` of (C8) (evanescent branch
    ``sqrt(x) = +i sqrt(-x)``).  ``x = p^2 pm 2 m h`` may be passed precomputed (to avoid
    cancellation next to the threshold)."""
    if x is None:
        x = p_ * p_ + sign * 2 * m_ * h_
    root = mp.sqrt(x) if x >= 0 else mp.mpc(0, mp.sqrt(-x))
    return (g_ * m_ / hbar_) ** 2 / (p_ * root)


C33_TEST_FUNCTIONS = {
    "1/(1+c^2)": lambda c2, c: 1 / (1 + c2),
    "c^2/(1+c^2)^2": lambda c2, c: c2 / (1 + c2) ** 2,
    "c^4/(1+c^2)^2": lambda c2, c: c2**2 / (1 + c2) ** 2,
    "exp(-c) cos(c)": lambda c2, c: _EXPCOS(c),
    "c": lambda c2, c: c,
}
_EXPCOS = None


def c33_numeric(fname, beta_="0.1", m_="0.1", g_="50", h_="4", dps=30, sign=+1):
    """Both sides of (C33) at ``dps`` digits for one test function (``sign=-1``: the wrong
    factor ``e^{-beta h}`` on the right).

    Returns ``(lhs, rhs, error_estimate)``; the error is mpmath's quad estimate (heuristic).
    """
    if fname not in C33_TEST_FUNCTIONS:
        raise ValueError(f"fname must be one of {sorted(C33_TEST_FUNCTIONS)} (got {fname!r})")
    mp = _mp_ctx(dps)
    b, mm, gg, hh = (mp.mpf(x) for x in (beta_, m_, g_, h_))

    def mu(x):
        return b * x / mm * mp.exp(-b * x * x / (2 * mm))

    def F(c2):
        c = mp.sqrt(c2)
        if fname == "exp(-c) cos(c)":
            return mp.exp(-c) * mp.cos(c)
        return C33_TEST_FUNCTIONS[fname](c2, c)

    p0 = mp.sqrt(2 * mm * hh)
    lhs, e1 = mp.quad(lambda x: mu(x) * F(c_pm_mp(mp, +1, x, gg, mm, hh)), [0, 1, p0, 4, mp.inf], error=True)
    # right side in p = sqrt(2mh) + s^4: p^2 - 2mh = s^4 (s^4 + 2 p0) has no cancellation and the
    # endpoint behaviour (p - p0)^{-1/4} of c_- becomes analytic (dp = 4 s^3 ds)
    def rhs_integrand(s_):
        t = s_**4
        return 4 * s_**3 * mu(p0 + t) * F(c_pm_mp(mp, -1, p0 + t, gg, mm, hh, x=t * (t + 2 * p0)))

    rhs, e2 = mp.quad(rhs_integrand, [0, 1, mp.inf], error=True)
    return lhs, mp.exp(sign * b * hh) * rhs, max(e1, e2)


@derivation("identity_C33", equations=["(C32)", "(C33)"],
            title="(C33): int_0^oo mu f(c_+) = e^{+beta h} int_sqrt(2mh)^oo mu f(c_-) for any f")
def derive_c33(d):
    """(C33): int_0^oo mu f(c_+) = e^{+beta h} int_sqrt(2mh)^oo mu f(c_-) for any f."""
    r = c33_substitution()
    d.step("substitute p = sqrt(p'^2 - 2 m h) in the left side: p dp = p' dp', "
           "c_+(p) = g m/hbar [p sqrt(p^2 + 2mh)]^{-1/2} = g m/hbar [p' sqrt(p'^2 - 2mh)]^{-1/2} = c_-(p'), "
           "e^{-beta p^2/2m} = e^{+beta h} e^{-beta p'^2/2m}.")
    d.check("(C33)", "c_+(sqrt(p'^2 - 2mh)) == c_-(p')", r["c_map"] == 0, r["c_map"])
    d.check("(C33)", f"Jacobian x mu_eff ratio == exp(+beta h) (derived factor: {r['factor']})",
            sp.simplify(r["factor"] - sp.exp(beta * h)) == 0, sp.simplify(r["factor"] - sp.exp(beta * h)))
    d.check("(C33)", f"limits: p = 0 -> p' = {r['lower']} (printed sqrt(2 m hbar): hbar is a misprint for h), "
            f"p -> oo -> p' -> {r['upper']}", r["lower"] == [sp.sqrt(2 * m * h)] and r["upper"] == sp.oo, 0)
    d.step("verdict: the printed e^{+beta h} is correct; the lower limit is sqrt(2 m h) (printed sqrt(2 m hbar)).")
    tol = sp.Rational(1, 10**24)
    for fname in C33_TEST_FUNCTIONS:
        lhs, rhs, err = c33_numeric(fname)
        res = abs(lhs - rhs) / abs(lhs)
        d.check("(C33)", f"f = {fname}, beta = m = 0.1, g = 50, h = 4: relative |lhs - rhs|",
                res < tol, res, "numeric, 30 digits, mpmath.quad")
    lhs, rhs, _ = c33_numeric("1/(1+c^2)", sign=-1)
    wrong = abs(lhs - rhs) / abs(lhs)
    d.check("(C33)", "control: with e^{-beta h} instead the identity FAILS (relative defect shown)",
            wrong > 0.1, wrong, "numeric, 30 digits")
    return d
