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

from functools import lru_cache

import sympy as sp

from ..derive import derivation
from ..oracles import quad38 as q38



# ----------------------------------------------------------------------------- (42)-(43)
@lru_cache(maxsize=None)
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


@lru_cache(maxsize=None)
def detailed_balance_closed_form():
    """Both sides of (43) for the concrete ``F(E) = E e^{-a E}``, integrated by SymPy.

    Returns ``(lhs, rhs)`` for ``Delta > 0`` and for ``Delta < 0`` with the printed limits,
    where lhs = (42) = ``S^{jj}_{j'j'}`` and rhs = ``e^{-beta Delta}`` times the same
    formula with j and j' exchanged (the corrected last term of (43), ``S^{j'j'}_{jj}``).
    """
    beta, a, Dabs, ej = sp.symbols("beta a Delta_abs epsilon_j", positive=True)
    out = {}
    for sign in (+1, -1):
        D = sign * Dabs

        def S(e_from, delta):  # (42) with x = p^2/2m (p dp = m dx): beta int F(x + e_from) e^{-beta x} dx
            x = sp.Symbol("x", positive=True)
            lower = delta if delta.is_positive else 0  # x_inf = (p^inf)^2 / 2m
            f = (x + e_from) * sp.exp(-a * (x + e_from))
            return sp.integrate(beta * f * sp.exp(-beta * x), (x, lower, sp.oo), conds="none")

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
        d.check("(43)", f"closed form F = E e^(-aE), Delta {'>' if sign > 0 else '<'} 0: "
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


# ----------------------------------------------------------------------------- trace preservation
@lru_cache(maxsize=None)
def trace_preservation_structure():
    """Symbolic ingredients of ``sum_{j'} S^{jk}_{j'j'} = delta_{jk}`` (Eq. (38), k' = j').

    Returns
    -------
    dict
        ``energy_gap``: (second energy of (38) with k' = j') - (E_p + eps_j), simplified
        (0: both s-matrices are evaluated at the SAME total energy);
        ``delta_dep``: d/d eps_j' of ``Delta_{j'j} - Delta_{j'k}`` (0: pi(p) does not depend on j');
        ``flux_open``: ``s+^dag s+ + s-^dag s- - I`` for the one-qubit (C4)-(C5), real c;
        ``flux_closed``: ``|s+_00|^2 + |s-_00|^2 - 1`` for (C7) with ``c^2 = -i y`` (C8);
        ``norm``: ``int_0^oo mu_eff(p) dp`` (Eq. (40)).
    """
    p, m, beta, c, y = sp.symbols("p m beta c y", positive=True)
    ej, ek, ejp = sp.symbols("epsilon_j epsilon_k epsilon_jp", real=True)
    Ep = p**2 / (2 * m)
    second = Ep - (ejp - ej) + ejp  # E_p - Delta_{j'j} + eps_{k'} with k' = j'
    energy_gap = sp.simplify(second - (Ep + ej))
    delta = (ejp - ej) - (ejp - ek)
    delta_dep = sp.diff(delta, ejp)
    I2 = sp.eye(2)
    s_plus = sp.Matrix([[1, -sp.I * c], [-sp.I * c, 1]]) / (1 + c**2)  # (C4)
    s_minus = -c / (1 + c**2) * sp.Matrix([[c, sp.I], [sp.I, c]])  # (C5)
    flux_open = sp.simplify(s_plus.H * s_plus + s_minus.H * s_minus - I2)
    c2 = -sp.I * y  # (C8): c^2 purely imaginary below threshold
    t00, r00 = 1 / (1 + c2), -c2 / (1 + c2)  # (C7)
    flux_closed = sp.simplify(sp.expand_complex(t00 * sp.conjugate(t00) + r00 * sp.conjugate(r00) - 1))
    mu = beta * p / m * sp.exp(-beta * p**2 / (2 * m))
    norm = sp.simplify(sp.integrate(mu, (p, 0, sp.oo)))
    return dict(energy_gap=energy_gap, delta_dep=delta_dep, flux_open=flux_open,
                flux_closed=flux_closed, norm=norm, minus_is_plus_minus_I=sp.simplify(s_minus - (s_plus - I2)))


@derivation("trace_preservation", equations=["(38)", "(40)", "(41)", "(C1)", "(C2)"],
            title="Trace preservation sum_j' S^{jk}_{j'j'} = delta_jk of the collisional map (38)")
def derive_trace_preservation(d):
    """Trace preservation sum_j' S^{jk}_{j'j'} = delta_jk of the collisional map (38)."""
    r = trace_preservation_structure()
    d.step("(38) with k' = j': second energy E_p - Delta_{j'j} + eps_j' = E_p + eps_j, i.e. both s-matrices "
           "at the SAME total energy E = E_p + eps_j (the unit then enters with pi(p) in channel k: "
           "E_pi + eps_k = E); pi(p) = sqrt(p^2 - 2m(eps_k - eps_j)) does not depend on j'.")
    d.check("(38)", "k'=j': both s-matrices at the same energy E_p + eps_j", r["energy_gap"] == 0, r["energy_gap"])
    d.check("(38)", "k'=j': pi(p) independent of j' (Delta_j'j - Delta_j'k = eps_k - eps_j)", r["delta_dep"] == 0,
            r["delta_dep"])
    d.step("for p^2 < 2m Delta_{j'j} channel j' is closed and s_{j'j}(E) = 0, so each lower limit p_inf may be "
           "lowered to p_0 = sqrt(2m max(0, eps_k - eps_j)) and the sum over j' moved inside ONE integral: "
           "sum_j' S^{jk}_{j'j'} = int_{p_0}^oo dp rho_U(p, pi) sqrt(p/pi) [sum_alpha s^(alpha)dag(E) s^(alpha)(E)]_{kj}.")
    d.check("(C1)-(C2)", "flux unitarity s+^dag s+ + s-^dag s- = I for (C4)-(C5), real c (E > h)",
            r["flux_open"] == sp.zeros(2, 2), 0)
    d.check("(C7)-(C8)", "flux unitarity |s+_00|^2 + |s-_00|^2 = 1 below threshold needs c^2 purely imaginary",
            r["flux_closed"] == 0, r["flux_closed"])
    d.check("(C2)", "(C5) == (C4) - I", r["minus_is_plus_minus_I"] == sp.zeros(2, 2), 0)
    d.step("flux unitarity gives [.]_{kj} = delta_kj for open j, k: off-diagonal inputs (j != k) give 0 exactly, "
           "for ANY rho_U (the Gaussian factor of (41) never matters); for j = k, pi(p) = p and the sum is "
           "int_0^oo rho_U(p, p) dp.  Needed property of (41): only its diagonal rho_U(p, p) = mu_eff(p) (40) "
           "normalised to 1.")
    d.check("(40)", "int_0^oo mu_eff(p) dp = 1", r["norm"] == 1, r["norm"] - 1)
    num = q38.trace_preservation_numeric(inputs=((1, 1), (0, 1)))
    d.check("(C1)", "flux defect of the exact N=2 s-matrices (Scattering, 30 digits)", num["flux"] < num["tol"],
            num["flux"], "numeric, 30 digits")
    for (j, k), v in num["sums"].items():
        d.check("(38)", f"sum_j' S^{{{j}{k}}}_{{j'j'}} = {1 if j == k else 0} on the exact map (N=2, eps=0.5, "
                "sigma_p=0.5; inter-band input, pi != p)" if j != k else
                f"sum_j' S^{{{j}{k}}}_{{j'j'}} = 1 on the exact map (N=2, eps=0.5)",
                abs(v - (1 if j == k else 0)) < num["tol"], abs(v - (1 if j == k else 0)),
                "numeric, 30 digits, mpmath.quad per entry")
    return d
