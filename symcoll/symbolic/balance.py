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
from ..model import QubitChain
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


def _f(x, digits=35):
    """An mpmath number as a SymPy number (for the Check records)."""
    im = getattr(x, "imag", 0)
    return sp.Float(getattr(x, "real", x), digits) + (sp.I * sp.Float(im, digits) if im else 0)


def misprint_43_numeric(h="4", g="50", m="0.1", beta="0.1", sigma_p="0.5", dps=20):
    """The last term of (43) as printed and as corrected, on the exact map (38) of ONE qubit.

    j = 0 (energy 0), j' = 1 (energy h), Delta_{j'j} = h.  Returns SymPy numbers: ``lhs`` =
    S^{jj}_{j'j'} = S^{00}_{11}, ``printed`` = e^{-beta h} S^{j'j'}_{jj'} = e^{-beta h} S^{11}_{01} (a coherence
    output), ``corrected`` = e^{-beta h} S^{11}_{00}; entries by :class:`symcoll.oracles.quad38.Quad38`.
    """
    q = q38.Quad38(QubitChain(1, h, "0"), g, m, beta, sigma_p, dps)
    w = q.mp.exp(-q.beta * (q.e[1] - q.e[0]))
    lhs = q.entry(1, 1, 0, 0)[0]
    printed = w * q.entry(0, 1, 1, 1)[0]
    corrected = w * q.entry(0, 0, 1, 1)[0]
    return dict(lhs=_f(lhs), printed=_f(printed), corrected=_f(corrected), tol=q.mp.mpf(10) ** (6 - dps))


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
    d.compare("(43)", "integrand of (42) after p = sqrt(p'^2 + 2m Delta_{j'j}) (Jacobian included) vs the printed "
              "integrand of (43), arbitrary F = |s_{j'j}|^2 = |s_{jj'}|^2", r["transformed"], r["target43"],
              simplify=lambda e: sp.simplify(sp.powsimp(sp.expand(e), combine="exp")))
    for sign, (mapped, expected) in r["limits"].items():
        d.compare("(43)", f"lower limit: image of p^inf_{{j'j}} vs the printed p^inf_{{jj'}}, Delta_{{j'j}} "
                  f"{'>' if sign > 0 else '<'} 0", mapped, expected)
    d.step("with s_{j'j} = s_{jj'} the p'-integral is (42) with j <-> j', i.e. S^{j'j'}_{jj}; the printed "
           "last term of (43) reads S^{j'j'}_{jj'} (output jj', a coherence).")
    cf = detailed_balance_closed_form()
    for sign, (lhs, rhs) in cf.items():
        d.compare("(43)", f"closed form F = E e^(-aE), Delta {'>' if sign > 0 else '<'} 0: "
                  "S^{jj}_{j'j'} vs e^{-beta Delta} S^{j'j'}_{jj} (both integrated by SymPy)", lhs, rhs)
    m43 = misprint_43_numeric()
    d.compare("(43)", "last term, one qubit, exact map (38): S^{00}_{11} vs printed e^{-beta h} S^{j'j'}_{jj'} = "
              "e^{-beta h} S^{11}_{01}; correction e^{-beta h} S^{11}_{00}", m43["lhs"], m43["printed"],
              correction=m43["corrected"], tol=m43["tol"], method="numeric, 20 digits, mpmath.quad")
    # numeric: exact s-matrices of a 2-qubit chain, 30 digits
    num = q38.detailed_balance_numeric()
    d.check("(42)", "micro-reversibility max|s_{j'j} - s_{jj'}| on sample energies",
            num["symmetry"] < num["tol"], num["symmetry"], "numeric, 30 digits")
    d.check("(30)", f"max_jj' |S^jj_j'j' - e^(-beta Delta_j'j) S^j'j'_jj| / S over {num['pairs']} pairs "
            f"(N=2, eps={num['eps']}, alpha=+-)", num["residual"] < num["tol"], num["residual"],
            "numeric, 30 digits, mpmath.quad")
    d.step(f"numeric (30): largest relative residual {float(num['residual']):.2e} "
           f"(quad error estimate {float(num['quad_err']):.1e}).")
    return d


# ----------------------------------------------------------------------------- (39)
@lru_cache(maxsize=None)
def hermiticity_substitution():
    """(39) from (38): conj(S^{kj}_{k'j'}) after the change of variable p = pi(p') (Eq. (38), text after (39)).

    Symbols: ``delta = Delta_{j'j} - Delta_{k'k}``; undefined functions ``s1(E) = s^(alpha)_{j'j}(E)``,
    ``s2(E) = s^(alpha)_{k'k}(E)`` and a Hermitian ``rho_U(p, q)`` (``rho_U(p, q)^* = rho_U(q, p)``).

    Returns a dict: ``integrand38`` (of S^{jk}_{j'k'} in q), ``transformed`` (of conj(S^{kj}_{k'j'}) after
    p = sqrt(q^2 - 2 m delta), Jacobian included), ``limits`` (image of the lower limit of S^{kj}_{k'j'}
    vs p_inf of S^{jk}_{j'k'}, for a set of orderings of 0, Delta_{j'j}, delta).
    """
    p, q, m = sp.symbols("p q m", positive=True)
    Djj, Dkk, ej, ek = sp.symbols("Delta_j'j Delta_k'k epsilon_j epsilon_k", real=True)
    s1, s2, rho = sp.Function("s_j'j"), sp.Function("s_k'k"), sp.Function("rho_U")
    delta = Djj - Dkk
    ejp, ekp = ej + Djj, ek + Dkk

    def E(x):
        return x**2 / (2 * m)

    def pi(x, dl):
        return sp.sqrt(x**2 - 2 * m * dl)

    # (38) for S^{jk}_{j'k'} in the variable q
    integrand38 = rho(q, pi(q, delta)) * sp.sqrt(q / pi(q, delta)) * s1(E(q) + ej) * sp.conjugate(
        s2(E(q) - Djj + ekp))
    # (38) for S^{kj}_{k'j'} (j <-> k, j' <-> k'): delta -> -delta, first s is s_{k'k}
    integrand_kj = rho(p, pi(p, -delta)) * sp.sqrt(p / pi(p, -delta)) * s2(E(p) + ek) * sp.conjugate(
        s1(E(p) - Dkk + ejp))
    conj = sp.conjugate(integrand_kj)
    conj = conj.replace(lambda e: isinstance(e, sp.conjugate) and e.args[0].func == rho,
                        lambda e: rho(e.args[0].args[1], e.args[0].args[0]))  # Hermiticity of rho_U
    p_of_q = pi(q, delta)
    transformed = conj.subs(p, p_of_q) * sp.diff(p_of_q, q)
    transformed = transformed.subs(sp.sqrt(q**2 - 2 * m * delta) ** 2, q**2 - 2 * m * delta)
    # lower limits: p_inf^2 = 2m max{0, D, D - D'} for both tensors; q^2 = p^2 + 2 m delta
    limits = []
    for Dv, Dkv in ((1, 3), (3, 1), (-2, 1), (1, -2), (-1, -3), (2, 2)):
        pinf_kj2 = 2 * m * max(0, Dkv, Dkv - Dv)
        pinf_jk2 = 2 * m * max(0, Dv, Dv - Dkv)
        limits.append(((Dv, Dkv), sp.sqrt(pinf_kj2 + 2 * m * (Dv - Dkv)), sp.sqrt(pinf_jk2)))
    return dict(integrand38=integrand38, transformed=transformed, limits=limits,
                symbols=(p, q, m, Djj, Dkk, ej, ek, s1, s2, rho))


def hermiticity_numeric(h="4", g="50", m="0.1", beta="0.1", sigma_p="0.5", dps=20,
                        entries=((1, 0, 0, 1), (0, 1, 0, 1), (1, 1, 0, 1))):
    """(39) on the exact map (38) of one qubit: ``S^{jk}_{j'k'}`` and ``conj(S^{kj}_{k'j'})`` by
    :class:`symcoll.oracles.quad38.Quad38` for ``entries`` = (j', k', j, k).

    Returns a list of ``((j', k', j, k), S^{jk}_{j'k'}, conj(S^{kj}_{k'j'}), S^{kj}_{k'j'})`` (SymPy numbers)
    and the tolerance.
    """
    q = q38.Quad38(QubitChain(1, h, "0"), g, m, beta, sigma_p, dps)
    out = []
    for jp, kp, j, k in entries:
        a = q.entry(jp, kp, j, k)[0]
        b = q.entry(kp, jp, k, j)[0]
        out.append(((jp, kp, j, k), _f(a), _f(q.mp.conj(b)), _f(b)))
    return out, q.mp.mpf(10) ** (6 - dps)


@derivation("hermiticity_39", equations=["(37)", "(38)", "(39)", "(41)"],
            title="(39) S^{jk}_{j'k'} = conj(S^{kj}_{k'j'}) from (38) by the change of variable p' = pi(p)")
def derive_hermiticity(d):
    """(39) S^{jk}_{j'k'} = conj(S^{kj}_{k'j'}) from (38) by the change of variable p' = pi(p)."""
    r = hermiticity_substitution()
    d.step("(38) for S^{kj}_{k'j'} (exchange j <-> k, j' <-> k'): delta = Delta_{j'j} - Delta_{k'k} changes sign, "
           "pi_kj(p) = sqrt(p^2 + 2 m delta); conjugate it and use rho_U(p, q)^* = rho_U(q, p) (a density matrix "
           "is Hermitian; (41) is real and symmetric).")
    d.step("substitute p = pi(q) = sqrt(q^2 - 2 m delta): pi_kj(p) = q, dp = q dq / p, so sqrt(p/q) dp = sqrt(q/p) dq; "
           "E_p + eps_k = E_q - Delta_{j'j} + eps_k' and E_p - Delta_{k'k} + eps_j' = E_q + eps_j.")
    d.compare("(39)", "integrand of conj(S^{kj}_{k'j'}) after p = pi(q) vs the integrand (38) of S^{jk}_{j'k'} "
              "(arbitrary s-matrices and Hermitian rho_U)", r["transformed"], r["integrand38"],
              simplify=lambda e: sp.simplify(sp.expand(e)))
    for (Dv, Dkv), mapped, pinf in r["limits"]:
        d.compare("(39)", f"lower limit: image of p_inf of S^kj_k'j' vs p_inf of S^jk_j'k' for Delta_j'j = {Dv}, "
                  f"Delta_k'k = {Dkv} (units of the energy scale)", mapped, pinf)
    num, tol = hermiticity_numeric()
    for (jp, kp, j, k), a, cb, b in num:
        d.compare("(39)", f"one qubit, exact map (38): S^{{{j}{k}}}_{{{jp}{kp}}} vs conj(S^{{{k}{j}}}_{{{kp}{jp}}})",
                  a, cb, tol=tol, method="numeric, 20 digits, mpmath.quad")
    worst = max(abs(complex(a - b)) for _, a, _, b in num)
    d.check("(39)", "control: without the conjugation the entries differ (max |S^jk_j'k' - S^kj_k'j'| > 1e-6)",
            worst > 1e-6, worst, "numeric, 20 digits")
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
