"""Energy conservation of the scattering: the heat ``Q = Gamma Tr[H_scatt (S - I) rho]`` (issue 14).

Derivation registered here (run by ``symcoll verify``; script ``derivations/energy_conservation.py``):

``energy_conservation``
    The particles lose, per collision and averaged over the effusion flux (40), exactly
    ``Tr[H_scatt (S - I) rho]``, where ``H_scatt`` is the Hamiltonian whose levels are the
    channels of the scattering problem: ``H(eps)`` for the exact map (38) and the global map
    (45), ``H(0)`` for the local map (54)-(56) (whose s-matrices are those of (C9)-(C28), eps = 0).

Proof (hbar = 1; channels ``l`` with levels ``eps_l`` of ``H_scatt``):

1. (C1) (``K = sqrt(2m(E - H))``) and (B3): at total energy E the wave number of channel l is ``k_l = sqrt(2m(E - eps_l))``,
   so ``k_l^2/2m + eps_l = E`` in every open channel: a particle entering channel j with
   momentum p (``E = E_p + eps_j``) leaves channel j' with kinetic energy
   ``E_out = E_p + eps_j - eps_j'``; closed channels carry no outgoing flux (s = 0).
2. (B2)-(B3)/(38): the outgoing particle of the collision with input ``|j><k|`` has, in
   channel j' (output ``k' = j'``), the energy density given by the integrand of
   ``S^{jk}_{j'j'}``: ``A_j'(p) = rho_U(p, pi) sqrt(p/pi) sum_alpha s_j'j(E) s_j'k(E)^*`` with
   BOTH s-matrices at ``E = E_p + eps_j = E_pi + eps_k`` (``trace_preservation``).  The particle's
   outgoing kinetic energy is ``sum_j' int dp A_j'(p) (E - eps_j')``; the incoming one is
   ``Tr_S[|j><k|] int mu_eff E_p = delta_jk / beta`` (K is diagonal in momentum, so only
   ``rho_U(p, p) = mu_eff(p)`` enters).
3. Flux unitarity ``sum_{j', alpha} s_j'j(E) s_j'k(E)^* = delta_jk`` pointwise in p ((C1)-(C2),
   ``flux_unitarity_symmetry``) removes the ``E`` term: for j != k it is 0; for j = k it is
   ``int mu_eff E_p + eps_j``, the incoming energy plus eps_j.  Hence the energy the particles
   lose is ``sum_j' eps_j' S^{jk}_{j'j'} - eps_j delta_jk = Tr[H_scatt (S - I)|j><k|]`` (H_scatt
   diagonal in the channel basis), and by linearity ``Tr[H_scatt (S - I) rho]`` for any rho.
   The trace is basis independent, so the local map, stored in the eigenbasis of H(eps), uses
   ``U^dagger H(0) U``.  Nothing about the Gaussian factor of (41) (nor the narrow-packet limit
   (44) that gives (45)) enters: the statement holds for any rho_U with diagonal mu_eff.

The numeric checks integrate the outgoing kinetic energy directly (weight ``E - eps_j'`` from
the channel wave numbers of the (C1) solve of :class:`symcoll.oracles.quad38.Quad38`) and compare
with ``sum_j' eps_j' S^{jk}_{j'j'} - eps_j delta_jk`` built from Quad38's entries of (38).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..derive import derivation
from ..model import QubitChain
from ..oracles import quad38 as q38

__all__ = ["channel_energies", "population_identity", "coherence_identity", "kinetic_energy_loss",
           "energy_conservation_numeric"]


@lru_cache(maxsize=None)
def channel_energies(d=3):
    """(C1)/(B3): ``k_l^2/2m + eps_l - E`` for ``k_l = sqrt(2m(E - eps_l))`` (open channels) and the
    kinetic energy lost in ``j -> j'``, ``E_p - E_out`` with ``E_out = k_j'^2/2m`` at ``E = E_p + eps_j``.

    Returns ``dict(residuals=[...], loss={(j', j): expr}, Delta={(j', j): eps_j' - eps_j})``.
    """
    m, Ep = sp.symbols("m E_p", positive=True)
    eps = sp.symbols(f"epsilon_0:{d}", real=True)
    E = sp.Symbol("E", real=True)
    x = sp.symbols(f"x_0:{d}", positive=True)  # x_l = E - eps_l > 0 (open channel)
    k = [sp.sqrt(2 * m * xl) for xl in x]
    residuals = [sp.simplify((k[l] ** 2 / (2 * m) + eps[l] - E).subs(x[l], E - eps[l])) for l in range(d)]
    loss, Delta = {}, {}
    for j in range(d):
        Etot = Ep + eps[j]
        for jp in range(d):
            Eout = (k[jp] ** 2 / (2 * m)).subs(x[jp], Etot - eps[jp])
            loss[(jp, j)] = sp.simplify(Ep - Eout)
            Delta[(jp, j)] = eps[jp] - eps[j]
    return dict(residuals=residuals, loss=loss, Delta=Delta, eps=eps)


@lru_cache(maxsize=None)
def population_identity(d=3, j=1):
    """Input ``|j><j|``: particle's loss ``sum_j' Delta_j'j P_j'`` (P_j' = S^{jj}_{j'j'}, Eq. (42)) vs
    ``Tr[H (S - I)|j><j|] = sum_j' eps_j' P_j' - eps_j``, with trace preservation
    ``sum_j' P_j' = 1`` imposed (``P_{d-1} = 1 - sum of the others``).  Returns ``(derived, target)``.
    """
    ce = channel_energies(d)
    eps = ce["eps"]
    P = list(sp.symbols(f"P_0:{d}", real=True))
    P[d - 1] = 1 - sum(P[: d - 1])
    derived = sum(ce["loss"][(jp, j)] * P[jp] for jp in range(d))
    target = sum(eps[jp] * P[jp] for jp in range(d)) - eps[j]
    return sp.expand(derived), sp.expand(target)


@lru_cache(maxsize=None)
def coherence_identity(d=3):
    """Input ``|j><k|``, j != k: pointwise in p, the outgoing kinetic energy density
    ``sum_j' X_j' (E - eps_j')`` (``X_j' = sum_alpha s_j'j(E) s_j'k(E)^*`` times the common factor
    ``rho_U(p, pi) sqrt(p/pi)``) with flux unitarity ``sum_j' X_j' = 0`` imposed, vs ``-sum_j' eps_j' X_j'``.

    Returns ``(outgoing, target)``; the loss is ``0 - outgoing = sum_j' eps_j' S^{jk}_{j'j'} =
    Tr[H (S - I)|j><k|]`` after integration over p.
    """
    eps = sp.symbols(f"epsilon_0:{d}", real=True)
    E = sp.Symbol("E", real=True)
    X = list(sp.symbols(f"X_0:{d}"))
    X[d - 1] = -sum(X[: d - 1])
    outgoing = sum(X[jp] * (E - eps[jp]) for jp in range(d))
    target = -sum(eps[jp] * X[jp] for jp in range(d))
    return sp.expand(outgoing), sp.expand(target)


@lru_cache(maxsize=None)
def mean_incoming_energy():
    """``int_0^oo mu_eff(p) p^2/2m dp`` for the effusion flux (40): ``1/beta``."""
    p, m, beta = sp.symbols("p m beta", positive=True)
    mu = beta * p / m * sp.exp(-beta * p**2 / (2 * m))
    return sp.simplify(sp.integrate(mu * p**2 / (2 * m), (p, 0, sp.oo)))


def kinetic_energy_loss(q, j, k):
    """The particle's mean kinetic-energy loss per collision for the system input ``|j><k|``.

    ``<K_in> - <K_out>`` with ``<K_in> = delta_jk int mu_eff E_p dp`` (by quadrature, not 1/beta) and
    ``<K_out> = int dp rho_U(p, pi) sqrt(p/pi) sum_{j', alpha} s_j'j(E) s_j'k(E)^* (E - eps_j')``,
    ``E = E_p + eps_j``, ``pi = sqrt(p^2 - 2m(eps_k - eps_j))`` ((38) with k' = j', weighted by the
    outgoing kinetic energy of channel j' from (C1)/(B3)); s-matrix columns from ``q.s_col``.

    Parameters
    ----------
    q : Quad38
    j, k : int
        Eigen-indices of the input ``|j><k|``.

    Returns
    -------
    (value, error_estimate) : mpmath numbers (mpmath.quad's estimate plus the tail bound)
    """
    mp, m, e = q.mp, q.m, q.e
    delta = e[k] - e[j]

    def weighted(p, pi):
        E = p * p / (2 * m) + e[j]
        sj, sk = q.s_col(E, j), q.s_col(E, k)
        tot = mp.mpc(0)
        for jp in range(q.d):
            Eout = E - e[jp]
            if Eout < 0:
                continue  # closed channel: no outgoing particle (s = 0)
            w = sum(sj[i][jp] * mp.conj(sk[i][jp]) for i in (0, 1))
            tot += w * Eout
        return q.rho_U(p, pi) * tot

    thresholds = [2 * m * (el - e[j]) for el in e]  # p^2 at which channel l opens
    X = max(mp.sqrt(2 * m / q.beta * (mp.dps + 12) * mp.log(10)), mp.sqrt(m / q.beta))
    if delta > 0:  # u = pi(p): sqrt(p/pi) dp = sqrt(u/p) du
        pts = sorted({mp.sqrt(t - 2 * m * delta) for t in thresholds if t - 2 * m * delta > 0})

        def f(u):
            p = mp.sqrt(u * u + 2 * m * delta)
            return weighted(p, u) * mp.sqrt(u / p)
    else:  # pi(p) >= p >= 0: no singularity
        pts = sorted({mp.sqrt(t) for t in thresholds if t > 0})

        def f(p):
            pi = mp.sqrt(p * p - 2 * m * delta)
            return weighted(p, pi) * mp.sqrt(p / pi)
    lo = mp.mpf(0)
    pts = [x for x in pts if lo < x < X]
    out, err = mp.quad(f, [lo] + pts + [X], error=True)
    kin_in, err_in = mp.mpf(0), mp.mpf(0)
    if j == k:
        kin_in, err_in = mp.quad(lambda p: q.mu_eff(p) * p * p / (2 * m), [0, X], error=True)
    # tail beyond X: |weight| <= E + |eps| grows polynomially; mu_eff's Gaussian makes it < 10^-(dps+5)
    tail = (X * X / m + 1 + max(abs(x) for x in e)) * 2 * mp.exp(-q.beta * X * X / (2 * m))
    return kin_in - out, err + err_in + tail


def energy_conservation_numeric(N=2, h="4", eps="0.5", g="50", m="0.1", beta="0.1", sigma_p="0.5", dps=20,
                                inputs=((0, 0), (1, 1), (1, 2), (0, 1))):
    """``kinetic_energy_loss`` vs ``sum_j' eps_j' S^{jk}_{j'j'} - eps_j delta_jk`` (entries from Quad38).

    Returns ``dict(rows=[((j, k), loss, trace_form)], residual, tol, N, eps)``.
    """
    q = q38.Quad38(QubitChain(N, h, eps), g, m, beta, sigma_p, dps)
    mp = q.mp
    rows, res, emax = [], 0, 0
    for j, k in inputs:
        loss, el = kinetic_energy_loss(q, j, k)
        tr = -q.e[j] if j == k else mp.mpc(0)
        for jp in range(q.d):
            v, er = q.entry(jp, jp, j, k)
            tr += q.e[jp] * v
            emax = max(emax, er)
        rows.append(((j, k), loss, tr))
        res = max(res, abs(loss - tr))
        emax = max(emax, el)
    return dict(rows=rows, residual=res, quad_err=emax, tol=mp.mpf(10) ** (6 - dps), N=N, eps=eps)


def _f(x, digits=25):
    im = getattr(x, "imag", 0)
    return sp.Float(getattr(x, "real", x), digits) + (sp.I * sp.Float(im, digits) if im else 0)


@derivation("energy_conservation", equations=["(C1)", "(C2)", "(B3)", "(38)", "(40)", "(42)", "(45)"],
            title="Scattering conserves kinetic energy + H_scatt: the particles lose Tr[H_scatt (S - I) rho]")
def derive_energy_conservation(d):
    """Scattering conserves kinetic energy + H_scatt: the particles lose Tr[H_scatt (S - I) rho]."""
    ce = channel_energies(3)
    d.step("(C1): at total energy E channel l has k_l = sqrt(2m(E - eps_l)) (K = sqrt(2m(E - H)) of (C1)), i.e. "
           "k_l^2/2m + eps_l = E in every open channel; eps_l are the levels of H_scatt (H(eps) for (38), (45); "
           "H(0) for (54)-(56), whose s-matrices are the eps = 0 ones of (C9)-(C28)); (B3) evaluates s_j'j at "
           "E_out + eps_j' with E_out the outgoing kinetic energy, the same statement.")
    for l, r in enumerate(ce["residuals"]):
        d.check("(C1)", f"channel {l}: k_{l}^2/2m + eps_{l} - E = 0 with k_{l} = sqrt(2m(E - eps_{l}))", r == 0, r)
    worst = sp.simplify(sum(abs(sp.simplify(ce["loss"][key] - ce["Delta"][key])) for key in ce["loss"]))
    d.compare("(B3)", "kinetic energy lost in j -> j' at E = E_p + eps_j: E_p - k_j'^2/2m = Delta_j'j = eps_j' - "
              "eps_j (all 9 pairs, d = 3)", sp.Matrix([ce["loss"][(jp, j)] for j in range(3) for jp in range(3)]),
              sp.Matrix([ce["Delta"][(jp, j)] for j in range(3) for jp in range(3)]))
    d.step(f"(sum of |differences| above: {worst})")
    kin = mean_incoming_energy()
    d.compare("(40)", "mean kinetic energy of the effusion flux int mu_eff p^2/2m dp", kin, 1 / sp.Symbol(
        "beta", positive=True))
    d.step("(B2)-(B3)/(38): for the input |j><k| the outgoing particle in channel j' (output k' = j') has the energy "
           "density A_j'(p) = rho_U(p, pi) sqrt(p/pi) sum_alpha s_j'j(E) s_j'k(E)^* with both s at E = E_p + eps_j; "
           "its kinetic energy is E - eps_j'.  Incoming: Tr_S|j><k| int mu_eff E_p = delta_jk / beta.")
    for j in (0, 1, 2):
        der, tgt = population_identity(3, j)
        d.compare("(42)", f"input |{j}><{j}|: particle's loss sum_j' Delta_j'{j} S^{{{j}{j}}}_{{j'j'}} vs "
                  f"Tr[H (S - I)|{j}><{j}|] = sum_j' eps_j' S^{{{j}{j}}}_{{j'j'}} - eps_{j} (trace preservation "
                  "imposed)", der, tgt)
    out, tgt = coherence_identity(3)
    d.compare("(C2)", "input |j><k|, j != k: outgoing kinetic energy density sum_j' X_j' (E - eps_j') with flux "
              "unitarity sum_j' X_j' = (s^dag s)_kj = 0 vs -sum_j' eps_j' X_j' (so the loss is Tr[H (S - I)|j><k|])",
              out, tgt)
    d.step("by linearity in rho the particles lose Tr[H_scatt (S - I) rho] per collision; times the collision rate "
           "Gamma this is Q = Gamma Tr[H_scatt (S - I) rho] (symcoll.transport).  Only flux unitarity, the channel "
           "energies and rho_U(p,p) = mu_eff enter, so the statement holds for (38) at any sigma_p, for its "
           "narrow-packet limit (45), and for (54)-(56) with H(0); the trace is basis independent (U^dag H(0) U).")
    for N, eps, inputs in ((1, "0", ((0, 0), (1, 1), (0, 1))), (2, "0.5", ((1, 1), (1, 2), (0, 1)))):
        num = energy_conservation_numeric(N=N, eps=eps, inputs=inputs)
        for (j, k), loss, tr in num["rows"]:
            d.compare("(38)", f"exact map, N = {N}, eps = {eps}: particle's kinetic-energy loss for input "
                      f"|{j}><{k}| (quadrature of the outgoing energy) vs sum_j' eps_j' S^{{{j}{k}}}_{{j'j'}}"
                      f"{' - eps_' + str(j) if j == k else ''}", _f(loss), _f(tr), tol=num["tol"],
                      method="numeric, 20 digits, mpmath.quad (Quad38 oracle)")
    return d
