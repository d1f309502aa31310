"""Detailed balance (42)-(43) and trace preservation of the collisional map (38).

Derivations registered here (run by ``symcoll verify``; scripts in ``derivations/``):

``detailed_balance``
    Eqs. (42)-(43) => (30): the substitution ``p' = sqrt(p^2 - 2 m Delta_{j'j})`` maps
    the integrand of ``S^{jj}_{j'j'}`` onto ``e^{-beta Delta_{j'j}}`` times the integrand of
    ``S^{j'j'}_{jj}``, for both signs of ``Delta_{j'j}`` (lower limits ``p^inf``), using
    only the symmetry ``s_{j'j} = s_{jj'}`` and ``rho_U(p, p) = mu_eff(p)`` (40).
    Checked symbolically for an arbitrary function ``F(E) = |s_{j'j}(E)|^2`` and
    numerically at 30 digits on a 2-qubit chain with the exact s-matrices (C1)-(C2).

The numeric checks evaluate the entries they need from Eq. (38) directly with
``mpmath.quad`` on the s-matrices of :class:`symcoll.scattering.Scattering` (an oracle
independent of the team's maps module).
"""
from __future__ import annotations

import sympy as sp

from ..derive import derivation
from . import _quad38 as q38

# Paper's parameters (Sec. VI E).
PAPER = dict(beta=sp.Rational(1, 10), m=sp.Rational(1, 10), g=50, h=4)


# ----------------------------------------------------------------------------- (42)-(43)
def detailed_balance_substitution():
    """Transform the integrand of (42) by ``p = sqrt(p'^2 + 2 m Delta)`` (Eq. (43)).

    Returns
    -------
    dict
        ``integrand42`` (in p), ``transformed`` (in p', Jacobian included),
        ``target43`` (the printed integrand of (43)), ``difference`` (simplified,
        0 if the substitution is right), ``limits`` ``{sign: (p'_lower_mapped,
        p^inf_{jj'})}`` for ``Delta > 0`` and ``Delta < 0``.

    References
    ----------
    Eqs. (40), (42), (43) of the paper.
    """
    p, pp, m, beta = sp.symbols("p p' m beta", positive=True)
    D = sp.Symbol("Delta", real=True)  # Delta_{j'j} = eps_j' - eps_j
    ej = sp.Symbol("epsilon_j", real=True)
    F = sp.Function("F")  # F(E) = |s_{j'j}(E)|^2 = |s_{jj'}(E)|^2 (micro-reversibility)
    integrand42 = beta / m * F(p**2 / (2 * m) + ej) * p * sp.exp(-beta * p**2 / (2 * m))
    p_of_pp = sp.sqrt(pp**2 + 2 * m * D)
    transformed = integrand42.subs(p, p_of_pp) * sp.diff(p_of_pp, pp)
    ejp = ej + D  # eps_j'
    target43 = beta / m * F(pp**2 / (2 * m) + ejp) * pp * sp.exp(-beta * (pp**2 / (2 * m) + D))
    difference = sp.simplify(sp.powsimp(sp.expand(transformed - target43), combine="exp"))
    limits = {}
    for sign in (+1, -1):
        Dv = sp.Symbol("Delta_abs", positive=True) * sign
        p_inf_jpj = sp.sqrt(2 * m * Dv) if sign > 0 else sp.Integer(0)  # below (42)
        p_inf_jjp = sp.sqrt(2 * m * (-Dv)) if sign < 0 else sp.Integer(0)  # Delta_{jj'} = -Delta
        mapped = sp.sqrt(sp.expand(p_inf_jpj**2 - 2 * m * Dv))
        limits[sign] = (sp.simplify(mapped), p_inf_jjp)
    return dict(integrand42=integrand42, transformed=transformed, target43=target43,
                difference=difference, limits=limits, symbols=(p, pp, m, beta, D, ej, F))


def detailed_balance_closed_form():
    """Both sides of (43) for the concrete ``F(E) = E^2 e^{-a E}``, integrated by SymPy.

    Returns ``(lhs, rhs)`` for ``Delta > 0`` and for ``Delta < 0`` with the printed limits,
    where lhs = (42) = ``S^{jj}_{j'j'}`` and rhs = ``e^{-beta Delta}`` times the same
    formula with j and j' exchanged (the corrected last term of (43), ``S^{j'j'}_{jj}``).
    """
    p, m, beta, a, Dabs, ej = sp.symbols("p m beta a Delta_abs epsilon_j", positive=True)
    out = {}
    for sign in (+1, -1):
        D = sign * Dabs

        def S(e_from, delta):  # (42): transition from energy e_from with Delta = e_to - e_from
            E = p**2 / (2 * m) + e_from
            lower = sp.sqrt(2 * m * delta) if (delta.is_positive) else 0
            f = E**2 * sp.exp(-a * E)
            return sp.integrate(beta / m * f * p * sp.exp(-beta * p**2 / (2 * m)), (p, lower, sp.oo))

        lhs = S(ej, D)
        rhs = sp.exp(-beta * D) * S(ej + D, -D)
        out[sign] = (sp.simplify(lhs), sp.simplify(rhs))
    return out


@derivation("detailed_balance", equations=["(40)", "(42)", "(43)", "(30)"],
            title="Detailed balance (42)-(43) => (30) from s_{j'j} = s_{jj'} and mu_eff (40)")
def derive_detailed_balance(d):
    """Detailed balance (42)-(43) => (30) from s_{j'j} = s_{jj'} and mu_eff (40)."""
    r = detailed_balance_substitution()
    d.step("(42): S^{jj}_{j'j'} = (beta/m) sum_alpha int_{p^inf_{j'j}}^oo dp F_alpha(p^2/2m + eps_j) p "
           "e^{-beta p^2/2m}, F_alpha = |s^(alpha)_{j'j}|^2; k=j, k'=j' gives pi(p) = p and "
           "rho_U(p, p) = mu_eff(p) (40): only the DIAGONAL of rho_U enters.")
    d.step("substitute p = sqrt(p'^2 + 2 m Delta_{j'j}), dp = p' dp'/p; "
           "p^2/2m + eps_j = p'^2/2m + eps_j'; e^{-beta p^2/2m} = e^{-beta(p'^2/2m + Delta_{j'j})}.")
    d.check("(43)", "transformed integrand of (42) == printed integrand of (43) for arbitrary F",
            r["difference"] == 0, r["difference"])
    for sign, (mapped, expected) in r["limits"].items():
        d.check("(43)", f"lower limit p^inf_{{j'j}} -> p^inf_{{jj'}} for Delta_{{j'j}} {'>' if sign > 0 else '<'} 0"
                f" ({mapped} == {expected})", sp.simplify(mapped - expected) == 0, 0)
    d.step("with s_{j'j} = s_{jj'} the p'-integral is (42) with j <-> j', i.e. S^{j'j'}_{jj}; the printed "
           "last term of (43) reads S^{j'j'}_{jj'} (subscript jj') where S^{j'j'}_{jj} is meant.")
    cf = detailed_balance_closed_form()
    for sign, (lhs, rhs) in cf.items():
        diff = sp.simplify(lhs - rhs)
        d.check("(43)", f"closed form F = E^2 e^(-aE), Delta {'>' if sign > 0 else '<'} 0: "
                "S^{jj}_{j'j'} == e^{-beta Delta} S^{j'j'}_{jj}", diff == 0, diff)
    # numeric: exact s-matrices of a 2-qubit chain, 30 digits
    num = q38.detailed_balance_numeric()
    d.check("(42)", "micro-reversibility max|s_{j'j} - s_{jj'}| on the quadrature nodes",
            num["symmetry"] < num["tol"], num["symmetry"], "numeric, 30 digits")
    d.check("(30)", f"max_jj' |S^jj_j'j' - e^(-beta Delta_j'j) S^j'j'_jj| / S over {num['pairs']} pairs "
            f"(N=2, eps={num['eps']}, alpha=+-)", num["residual"] < num["tol"], num["residual"],
            "numeric, 30 digits, mpmath.quad")
    d.step(f"numeric (30): largest relative residual {float(num['residual']):.2e} "
           f"(quad error estimate {float(num['quad_err']):.1e}).")
    return d
