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
    the closed forms (C30)-(C32) (:class:`symcoll.oracles.local_map0.LocalMap0`, an oracle independent of the maps module).

Conventions: one-qubit matrices printed in Appendix C use the order (|1>, |0>); the code
uses (|0>, |1>) (:mod:`symcoll.conventions`) and says so where it matters.  ``hbar = 1``
in numerics; the symbolic layer keeps ``hbar``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ..derive import derivation
from ..oracles.local_map0 import _INTEGRAL_CACHE, LocalMap0, _mp_ctx, c_pm_mp  # noqa: F401  (re-exported)
from ..parameters import PAPER_PARAMETERS

# The paper's parameters (Sec. VI E; symcoll.parameters), as decimal strings for exact mpmath input.
PAPER_PARAMS = {name: repr(float(PAPER_PARAMETERS[name])) for name in ("beta", "m", "g", "h")}

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
@lru_cache(maxsize=None)
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


C33_TEST_FUNCTIONS = {
    "1/(1+c^2)": lambda mp, c2: 1 / (1 + c2),
    "c^2/(1+c^2)^2": lambda mp, c2: c2 / (1 + c2) ** 2,
    "c^4/(1+c^2)^2": lambda mp, c2: c2**2 / (1 + c2) ** 2,
    "exp(-c) cos(c)": lambda mp, c2: mp.exp(-mp.sqrt(c2)) * mp.cos(mp.sqrt(c2)),
    "c": lambda mp, c2: mp.sqrt(c2),
}
"""Test functions f(c) for (C33), written in terms of ``c^2`` (c > 0 on both sides)."""


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
        return C33_TEST_FUNCTIONS[fname](mp, c2)

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
    pp_of_p = sp.sqrt(p**2 + 2 * m * h)
    d.step("substitute p = sqrt(p'^2 - 2 m h) in the left side: p dp = p' dp', "
           "c_+(p) = g m/hbar [p sqrt(p^2 + 2mh)]^{-1/2} = g m/hbar [p' sqrt(p'^2 - 2mh)]^{-1/2} = c_-(p'), "
           "e^{-beta p^2/2m} = e^{+beta h} e^{-beta p'^2/2m}.")
    d.compare("(C33)", "c_+(p) at p = sqrt(p'^2 - 2mh) is c_-(p') (so f(c_+) -> f(c_-))",
              c_pm_sym(+1, sp.sqrt(pp**2 - 2 * m * h)), c_pm_sym(-1, pp))
    d.compare("(C33)", "Jacobian x mu_eff ratio: [mu_eff(p) dp/dp'] / mu_eff(p') is the printed factor e^{+beta h}",
              r["factor"], sp.exp(beta * h))
    d.compare("(C33)", "lower limit: image of p = 0 under p' = sqrt(p^2 + 2mh) (printed sqrt(2 m hbar); "
              "hbar is not an energy)", r["lower"][0], sp.sqrt(2 * m * hbar), correction=sp.sqrt(2 * m * h))
    d.compare("(C33)", "the change of variable named after (C33): p' = sqrt(p^2 + 2mh) inverts p = sqrt(p'^2 - 2mh) "
              "(printed sqrt(p^2 + 2 m hbar))", pp_of_p, sp.sqrt(p**2 + 2 * m * hbar), correction=pp_of_p)
    d.check("(C33)", f"upper limit: p -> oo maps to p' -> {r['upper']}", r["upper"] == sp.oo)
    tol = sp.Rational(1, 10**24)
    for fname in C33_TEST_FUNCTIONS:
        lhs, rhs, err = c33_numeric(fname)
        d.compare("(C33)", f"f = {fname}, beta = m = 0.1, g = 50, h = 4: int_0^oo mu f(c_+) vs "
                  "e^{+beta h} int_sqrt(2mh)^oo mu f(c_-)", sp.Float(str(lhs), 30), sp.Float(str(rhs), 30),
                  tol=tol * abs(lhs), method="numeric, 30 digits, mpmath.quad")
    lhs, rhs, _ = c33_numeric("1/(1+c^2)", sign=-1)
    wrong = abs(lhs - rhs) / abs(lhs)
    d.check("(C33)", "control: with e^{-beta h} instead the identity breaks (relative defect > 0.1)",
            wrong > 0.1, wrong, "numeric, 30 digits")
    return d


def sum_rule_numeric(N, dps=30, **params):
    """``max_{j'k'} |sum_j S^{jj}_{j'k'} e^{-beta eps_j^(0)} - delta_{j'k'} e^{-beta eps_j'^(0)}|``
    (Eq. (66)) in the eigenbasis of H(eps -> 0), plus the same residual for the transmitted-only
    and reflected-only sums against the printed (C37)/(C38) diagonals (N = 1 printed values).

    Returns a dict: ``residual`` (66), ``max_abs`` of the entries, ``quad_error``, ``map``.
    """
    L = LocalMap0(N, dps=dps, **params)
    mp = L.mp
    U, n = L.eigenbasis()
    w = [mp.exp(-L.beta * L.h * int(nj)) for nj in n]
    tot = np.zeros((L.d, L.d), dtype=object)
    tot[...] = mp.mpf(0)
    for j in range(L.d):
        tot = tot + w[j] * L.tensor_entry_matrix(U, j, j)
    res = 0
    for a in range(L.d):
        for b in range(L.d):
            res = max(res, abs(tot[a, b] - (w[a] if a == b else 0)))
    return dict(residual=res, quad_error=L.quad_error, map=L, sums=tot, weights=w)


def _f(x):
    """An mpmath number as a 30-digit SymPy number (for the Check records)."""
    if hasattr(x, "imag") and x.imag != 0:
        return sp.Float(str(x.real), 30) + sp.I * sp.Float(str(x.imag), 30)
    return sp.Float(str(getattr(x, "real", x)), 30)


def _fm(M):
    """A numpy object array of mpmath numbers as a SymPy matrix."""
    return sp.Matrix(M.shape[0], M.shape[1], lambda a, b: _f(M[a, b]))


def printed_63_numeric(N=2, dps=30):
    """Both readings of (63) on the eps -> 0 local map of N qubits, eigenbasis of H(eps -> 0).

    Returns a dict of SymPy matrices over (j', k'): ``printed`` = sum_j S^{j'k'}_{jj} rho_jj (printed indices:
    input j'k', output jj), ``corrected`` = sum_j S^{jj}_{j'k'} rho_jj ((66)), ``rhs`` = delta_j'k' e^{-beta eps_j'}/Z.
    """
    r = sum_rule_numeric(N, dps=dps)
    L, w = r["map"], r["weights"]
    U, _ = L.eigenbasis()
    Z = sum(w)
    printed = np.zeros((L.d, L.d), dtype=object)
    for a in range(L.d):
        for b in range(L.d):
            M = L.tensor_entry_matrix(U, a, b)  # output matrix for the input (a, b)
            printed[a, b] = sum(M[j, j] * w[j] for j in range(L.d)) / Z
    return dict(printed=_fm(printed), corrected=_fm(r["sums"] / Z),
                rhs=sp.diag(*[_f(x / Z) for x in w]))


# ----------------------------------------------------------------------------- (C34)-(C39) ledger
def _appc_amplitudes(cp, cm, cm2):
    """Transmission matrix (C30) in Appendix C order (|1>, |0>) with c_+ = cp, c_- = cm, c_-^2 = cm2."""
    return sp.Matrix([[1 / (1 + cp**2), -sp.I * cm / (1 + cm2)], [-sp.I * cp / (1 + cp**2), 1 / (1 + cm2)]])


def _band_sum(A, B, kets_in, weights=None):
    """``sum_j w_j <j'|A|j> <k'|B|j>^*`` as the matrix over (j', k'): ``A (sum_j w_j |j><j|) B^dag``."""
    d = A.shape[0]
    P = sp.zeros(d, d)
    for i, v in enumerate(kets_in):
        P += (1 if weights is None else weights[i]) * v * v.H
    return sp.simplify(A * P * B.H)


#: Boltzmann weight of the output band, e^{-beta eps_j'} (eps -> 0); (C37)-(C38) set the zero of energy there.
eps_jp = sp.Symbol("epsilon_j'", positive=True)
W_OUT = sp.exp(-beta * eps_jp)
ZERO_AT_EPS_JP = ("(C37)-(C38) 'set the zero energy at eps_j' = eps_k'': the printed left side means "
                  "e^{+beta eps_j'} sum_j S^{jj}_{j'k'} e^{-beta eps_j}; derived = e^{-beta eps_j'} x printed")


@lru_cache(maxsize=None)
def appendix_c_ledger():
    """Derive every line of (C34)-(C39) and pair it with the printed form.

    Regimes: ``p > sqrt(2mh)`` (``c_+ = cp``, ``c_- = cm`` real) and ``p < sqrt(2mh)``
    (``c_-^2 = -i y``, y > 0, (C8); no excitation channel).  Sums over j are done with the
    explicit eigenvectors of the N = 2 chain (64) (band 1: ``(|01> -+ |10>)/sqrt 2``), i.e.
    through completeness inside each band, as Appendix C does.  Appendix C's (|1>, |0>) order
    of qubit 1 is used for the printed 2x2 matrices; the 4x4 operators are ``M (x) I``.
    (C37)-(C38) are derived with the absolute Boltzmann weights ``e^{-beta eps_j}`` of the input
    bands (same band e^{-beta eps_j'}, band below e^{-beta (eps_j' - h)}, band above
    e^{-beta (eps_j' + h)}) and the factors of (C33) as derived by :func:`c33_substitution`.

    Returns
    -------
    list of dict
        ``equation, statement, derived, printed`` and optionally ``correction`` /
        ``convention`` + ``to_convention``: the arguments of :meth:`symcoll.derive.Derivation.compare`.
        No verdict is decided here.
    """
    cp, cm, y = sp.symbols("c_p c_m y", positive=True)
    I2 = sp.eye(2)
    kron = sp.kronecker_product

    # N = 2 states |s1 s2>, qubit-1 order (|1>, |0>), qubit-2 order (|0>, |1>): index = 2*(1 - s1) + s2
    def ket(s1, s2):
        v = sp.zeros(4, 1)
        v[2 * (1 - s1) + s2] = 1
        return v

    band0 = [ket(0, 0)]
    band1 = [(ket(0, 1) - ket(1, 0)) / sp.sqrt(2), (ket(0, 1) + ket(1, 0)) / sp.sqrt(2)]
    band2 = [ket(1, 1)]
    proj1 = band1[0] * band1[0].H + band1[1] * band1[1].H  # outputs j', k' in band 1
    out, rows = [], []

    def row(eq, statement, derived, printed, **kw):
        out.append(dict(equation=eq, statement=statement, derived=derived, printed=printed, **kw))

    for regime in ("above", "below"):
        cm2 = cm**2 if regime == "above" else -sp.I * y
        cmv = cm if regime == "above" else sp.sqrt(-sp.I * y)
        T = _appc_amplitudes(cp, cmv, cm2)  # (C30)
        Dg = sp.diag(T[0, 0], T[1, 1])
        X = sp.Matrix([[0, T[0, 1]], [0, 0]]) if regime == "above" else sp.zeros(2, 2)
        Y = sp.Matrix([[0, 0], [T[1, 0], 0]])
        for alpha in (+1, -1):
            Dga = Dg if alpha == +1 else Dg - I2  # (C31): reflected = transmitted - I
            c34 = _band_sum(kron(Dga, I2), kron(Dga, I2), band1)
            c35 = _band_sum(kron(X, I2), kron(X, I2), band0)
            c36 = _band_sum(kron(Y, I2), kron(Y, I2), band2)
            rows.append((regime, alpha, c34, c35, c36))
            if alpha == +1:
                printed34 = sp.diag(1 / (1 + cp**2) ** 2, 1 / ((1 + cm2) * sp.conjugate(1 + cm2)))
                row("(C34)", f"transmitted, same band, p {regime} sqrt(2mh): sum_j <j'|D|j><k'|D|j>^*",
                    proj1 * c34 * proj1, proj1 * kron(printed34, I2) * proj1)
                if regime == "above":
                    printed35 = sp.diag(cm**2 / (1 + cm**2) ** 2, 0)
                    row("(C35)", "lines 1-3: eps_j' = eps_j + h (excitation from the band below), p > sqrt(2mh)",
                        proj1 * c35 * proj1, proj1 * kron(printed35, I2) * proj1)
                printed36 = sp.diag(0, cp**2 / (1 + cp**2) ** 2)
                row("(C36)", f"lines 1-3: eps_j' = eps_j - h (decay from the band above), p {regime} sqrt(2mh)",
                    proj1 * c36 * proj1, proj1 * kron(printed36, I2) * proj1)
    # (C35)/(C36) last lines: the factors from (C33)
    fac = c33_substitution()["factor"]  # int_0^oo mu f(c_+) = fac * int_{p0}^oo mu f(c_-)
    row("(C35)", "line 4: int_{sqrt(2mh)}^oo mu f(c_-) = [factor] int_0^oo mu f(c_+), factor from (C33)",
        1 / fac, sp.exp(-beta * h))
    row("(C36)", "line 4: int_0^oo mu f(c_+) = [factor] int_{sqrt(2mh)}^oo mu f(c_-), factor from (C33)",
        fac, sp.exp(beta * h))
    # (C37)/(C38): entries of sum_j S^{jj}_{j'k'} e^{-beta eps_j} (absolute weights), each written in the
    # variable where the printed line writes it; (C33) moves band-below/above terms between c_- and c_+.
    i1, i0 = 0, 3  # |1 0> (s1 = 1) and |0 1> (s1 = 0) of band 1 in this 4x4 basis
    w_same, w_below, w_above = W_OUT, W_OUT * sp.exp(beta * h), W_OUT * sp.exp(-beta * h)
    pieces = {}
    for alpha, label, printed_11, printed_00_above, printed_00_below in (
        (+1, "(C37)", 1 / (1 + cp**2), 1 / (1 + cm**2), 1 / ((1 - sp.I * y) * (1 + sp.I * y))),
        (-1, "(C38)", (cp**2 + cp**4) / (1 + cp**2) ** 2, (cm**2 + cm**4) / (1 + cm**2) ** 2,
         y**2 / ((1 - sp.I * y) * (1 + sp.I * y))),  # |c_-|^4 / |1 + c_-^2|^2 with c_-^2 = -iy
    ):
        ra = [r for r in rows if r[0] == "above" and r[1] == alpha][0]
        rb = [r for r in rows if r[0] == "below" and r[1] == alpha][0]
        kind = "transmitted" if alpha == +1 else "reflected"
        # |1>: same band (c_+ world) + band below (C35, c_- world) -> c_+ world by (C33): x 1/fac
        e11 = sp.simplify(w_same * ra[2][i1, i1] + w_below / fac * ra[3][i1, i1].subs(cm, cp))
        # |0>, p > p0: same band (c_- world) + band above (C36, c_+ world) -> c_- world by (C33): x fac
        e00a = sp.simplify(w_same * ra[2][i0, i0] + w_above * fac * ra[4][i0, i0].subs(cp, cm))
        # |0>, p < p0: same band only (|1 + c_-^2|^2 with c_-^2 = -iy)
        e00b = sp.simplify(sp.expand_complex(w_same * rb[2][i0, i0]))
        pieces[alpha] = (e11, e00a, e00b)
        conv = dict(convention=ZERO_AT_EPS_JP, to_convention=lambda x: W_OUT * x)
        row(label, f"{kind}: |1><1| entry, integrand of int_0^oo", e11, printed_11, **conv)
        row(label, f"{kind}: |0><0| entry, integrand of int_sqrt(2mh)^oo", e00a, printed_00_above, **conv)
        row(label, f"{kind}: |0><0| entry, integrand of int_0^sqrt(2mh) (c_-^2 = -iy)", e00b,
            printed_00_below, **conv)
    # (C39): (C37) + (C38) on each piece, and int_0^oo mu_eff = 1
    tot = sp.Matrix([sp.simplify(a + b) for a, b in zip(pieces[+1], pieces[-1])])
    row("(C39)", "(C37) + (C38) integrands on the three pieces = e^{-beta eps_j'} (1, 1, 1)", tot,
        W_OUT * sp.Matrix([1, 1, 1]))
    row("(C39)", "int_0^oo mu_eff(p) dp = 1, hence sum_j S^{jj}_{j'k'} e^{-beta eps_j} = delta_j'k' e^{-beta eps_j'}",
        sp.integrate(mu_eff_sym(p), (p, 0, sp.oo)), sp.Integer(1))
    return out


def printed_c37_c38_numeric(dps=30):
    """N = 1: the transmitted-only and reflected-only sums of the local map against the printed
    diagonal integrals of (C37) and (C38), evaluated independently by ``mpmath.quad``.

    Returns ``{label: (derived, printed, w)}``: the alpha-resolved sum with absolute weights, the printed
    integral and the weight ``e^{-beta eps_j'}`` of the output (the printed zero of energy).
    """
    L = LocalMap0(1, dps=dps)
    mp = L.mp
    w = [mp.mpf(1), mp.exp(-L.beta * L.h)]  # e^{-beta eps_j}, local order (|0>, |1>)
    res = {}
    for alpha, name in ((+1, "(C37)"), (-1, "(C38)")):
        tot = w[0] * L.tensor_entry_matrix(np.array([[mp.mpf(1), 0], [0, mp.mpf(1)]], dtype=object), 0, 0, (alpha,))
        tot = tot + w[1] * L.tensor_entry_matrix(np.array([[mp.mpf(1), 0], [0, mp.mpf(1)]], dtype=object), 1, 1, (alpha,))

        def cp2(p_):
            return c_pm_mp(mp, +1, p_, L.g, L.m, L.h)

        def cm2(p_, x2):
            return c_pm_mp(mp, -1, p_, L.g, L.m, L.h, x=x2)

        if alpha == +1:
            f11 = L._quad(lambda p_, x2: L.mu(p_) / (1 + cp2(p_)), True, True)
            f00 = (L._quad(lambda p_, x2: L.mu(p_) / (1 + cm2(p_, x2)), False, True)
                   + L._quad(lambda p_, x2: L.mu(p_) / abs(1 + cm2(p_, x2)) ** 2, True, False))
        else:
            f11 = L._quad(lambda p_, x2: L.mu(p_) * (cp2(p_) + cp2(p_) ** 2) / (1 + cp2(p_)) ** 2, True, True)
            f00 = (L._quad(lambda p_, x2: L.mu(p_) * (cm2(p_, x2) + cm2(p_, x2) ** 2) / (1 + cm2(p_, x2)) ** 2,
                           False, True)
                   + L._quad(lambda p_, x2: L.mu(p_) * abs(cm2(p_, x2)) ** 2 / abs(1 + cm2(p_, x2)) ** 2, True, False))
        # absolute weights e^{-beta eps_j}: the printed lines set the zero of energy at eps_j'
        res[f"{name} |1><1|"] = (tot[1, 1], f11, w[1])
        res[f"{name} |0><0|"] = (tot[0, 0], f00, w[0])
    return res


@derivation("sum_rule_C39", equations=["(C34)", "(C35)", "(C36)", "(C37)", "(C38)", "(C39)", "(63)", "(66)"],
            title="Appendix C sum rule sum_j S^{jj}_{j'k'} e^{-beta eps_j} = delta_j'k' e^{-beta eps_j'} (66)")
def derive_sum_rule(d):
    """Appendix C sum rule sum_j S^{jj}_{j'k'} e^{-beta eps_j} = delta_j'k' e^{-beta eps_j'} (66)."""
    d.step("eps -> 0: the s-matrix is (C30)-(C31) (x) I with c_pm(p) of (C32) depending on p only, so the local "
           "map (54)-(56) is S(rho) = sum_ab G_ab P_a rho P_b + U R rho R^dag + D L rho L^dag on qubit 1.")
    d.step("contributions to sum_j S^{jj}_{j'k'} e^{-beta eps_j} for j', k' in one band: same band (C34) with "
           "weight e^{-beta eps_j'}, band below (C35) weight e^{-beta eps_j'} e^{+beta h}, band above (C36) weight "
           "e^{-beta eps_j'} e^{-beta h}; each for alpha = + and -, and for p below/above sqrt(2mh) where c_-^2 "
           "is imaginary (C8) and the excitation channel is closed.")
    for row in appendix_c_ledger():
        d.compare(**row)
    d.step("(C37)-(C38) are written 'with the zero energy at eps_j' = eps_k'': the derived entries carry the "
           "absolute weight e^{-beta eps_j'}; (C39) then follows because the (C37) + (C38) integrands add to 1 on "
           "every piece (below threshold since |1 + c_-^2|^2 = 1 + |c_-|^4 for imaginary c_-^2) and mu_eff is "
           "normalised.")
    tol = 10.0 ** -24
    for name, (der, pri, w) in printed_c37_c38_numeric().items():
        eq, entry = name.split(" ")
        d.compare(eq, f"N = 1 local map, alpha-resolved sum_j S^jj e^(-beta eps_j) vs the printed integral, entry "
                  f"{entry}", _f(der), _f(pri), convention=ZERO_AT_EPS_JP, to_convention=lambda x, w=w: _f(w) * x,
                  tol=tol, method="numeric, 30 digits, mpmath.quad")
    for N in (2, 3):
        r = sum_rule_numeric(N)
        d.compare("(66)", f"N = {N}: sum_j S^jj_j'k' e^(-beta eps_j) (matrix over j'k', eigenbasis of H(eps -> 0), local "
                  "map (54)-(56) from closed forms) vs printed diag(e^(-beta eps_j'))",
                  _fm(r["sums"]), sp.diag(*[_f(x) for x in r["weights"]]), tol=tol,
                  method="numeric, 30 digits, mpmath.quad")
    d.step(f"quad error estimate of the one-qubit integrals: {float(r['quad_error']):.1e}")
    d.step("(63) prints S_{jj}^{j'k'} (input j'k', output jj) and weights rho^(0)_jj = e^{-beta eps_j}/Z; (35) sums "
           "over the input population, and Appendix C proves (66), S^{jj}_{j'k'}. Both readings are evaluated "
           "on the N = 2 local map.")
    r63 = printed_63_numeric(2)
    d.compare("(63)", "N = 2: printed sum_j S_{jj}^{j'k'} rho_jj (input j'k', output jj) vs e^(-beta eps_j')/Z "
              "delta_j'k'; correction sum_j S^{jj}_{j'k'} rho_jj as in (66)", r63["rhs"], r63["printed"],
              correction=r63["corrected"], tol=tol, method="numeric, 30 digits, mpmath.quad")
    return d
