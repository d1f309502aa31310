"""Independent 30-digit evaluation of entries of the collision tensor (38) with ``mpmath.quad``.

This is an *oracle* for the identities of Sec. IV-V and Appendix C, deliberately
independent of the team's maps module: it integrates Eq. (38) entry by entry with
``mpmath.quad`` (tanh-sinh) on the exact s-matrices of
:class:`symcoll.scattering.Scattering` (Eqs. (C1)-(C2)).

Numerical method (Eq. (38))::

    S^{jk}_{j'k'} = sum_alpha int_{p_inf}^oo dp rho_U(p, pi(p)) sqrt(p / pi(p))
                    s^(alpha)_{j'j}(E_p + eps_j) [s^(alpha)_{k'k}(E_p - Delta_{j'j} + eps_k')]^*

with ``pi(p) = sqrt(p^2 - 2 m delta)``, ``delta = Delta_{j'j} - Delta_{k'k}``.
For ``delta > 0`` the factor ``1/sqrt(pi(p))`` is singular at ``p_inf``; the substitution
``u = pi(p)`` (``dp sqrt(p/pi) = du sqrt(u/p)``) removes it.  For ``delta <= 0`` we integrate
in p.  The interval is split at every channel threshold of both s-matrices (square-root
kinks), and every piece goes to ``mpmath.quad`` (tanh-sinh, which tolerates the remaining
endpoint kinks).  The returned error is mpmath's *estimate* (heuristic, not a bound);
the tests compare against closed forms and sum rules.
"""
from __future__ import annotations

import numpy as np

from ..model import DeltaCoupling, QubitChain
from ..scattering import Scattering

DPS = 30


class Quad38:
    """Entries of the exact collision tensor (38) at ``dps`` digits, entry by entry.

    Parameters
    ----------
    system : QubitChain or System
    g, m, beta, sigma_p : float
        Coupling (65), mass, inverse temperature (40) and momentum dispersion (41);
        ``m, beta, sigma_p > 0``.
    dps : int
        Working precision (digits), ``>= 15``.
    """

    def __init__(self, system, g, m, beta, sigma_p, dps=DPS, coupling=None):
        for name, val in (("m", m), ("beta", beta), ("sigma_p", sigma_p)):
            if not float(val) > 0:
                raise ValueError(f"{name} must be > 0 (got {val!r})")
        self.sc = Scattering(system, coupling or DeltaCoupling(g), m, dps=dps)
        self.ctx = self.sc.ctx
        mp = self.mp = self.ctx.mp
        self.m = mp.mpf(m) if not isinstance(m, str) else mp.mpf(m)
        self.beta = mp.mpf(beta)
        self.sigma_p = mp.mpf(sigma_p)
        self.e = list(self.sc.energies)
        self.d = len(self.e)
        self._cache = {}
        self.n_eval = 0

    # -- ingredients ---------------------------------------------------------------
    def mu_eff(self, p):
        """Effusion distribution, Eq. (40)."""
        b, m = self.beta, self.m
        return b * p / m * self.mp.exp(-b * p * p / (2 * m))

    def rho_U(self, p, q):
        """Unit density matrix in momentum representation, Eq. (41)."""
        return self.mu_eff((p + q) / 2) * self.mp.exp(-((p - q) ** 2) / (2 * self.sigma_p**2))

    def s(self, E):
        """``(s^(+)(E), s^(-)(E))`` as d x d arrays (closed rows/cols zero), cached by E."""
        key = self.mp.nstr(E, self.mp.dps + 5)
        hit = self._cache.get(key)
        if hit is None:
            sp_, sm_, _ = self.sc.s_both([E])
            hit = (sp_[0], sm_[0])
            self._cache[key] = hit
            self.n_eval += 1
        return hit

    # -- Eq. (38) ------------------------------------------------------------------
    def entry(self, jp, kp, j, k, alphas=(+1, -1)):
        """``S^{jk}_{j'k'}`` of Eq. (38); returns ``(value, error_estimate)``.

        Parameters
        ----------
        jp, kp, j, k : int
            Eigen-indices (ascending energies).
        alphas : tuple
            Which terms of the sum over alpha to include (+1 transmitted, -1 reflected).
        """
        mp, m = self.mp, self.m
        e = self.e
        D_jpj = e[jp] - e[j]
        delta = D_jpj - (e[kp] - e[k])
        p_inf2 = 2 * m * max(mp.mpf(0), D_jpj, delta)
        E2_shift = e[j] - e[jp] + e[kp]  # second energy = E_p + E2_shift
        thresholds_p2 = []
        for el in e:
            thresholds_p2.append(2 * m * (el - e[j]))
            thresholds_p2.append(2 * m * (el - E2_shift))
        ia = [a for a in alphas]

        def amp(p):
            Ep = p * p / (2 * m)
            s1 = self.s(Ep + e[j])
            s2 = self.s(Ep + E2_shift)
            tot = mp.mpc(0)
            for a in ia:
                i = 0 if a == +1 else 1
                tot += s1[i][jp, j] * mp.conj(s2[i][kp, k])
            return tot

        if delta > 0:  # variable u = pi(p)
            lo = mp.sqrt(p_inf2 - 2 * m * delta)
            pts = sorted({mp.sqrt(t - 2 * m * delta) for t in thresholds_p2 if t - 2 * m * delta > lo**2})

            def f(u):
                p = mp.sqrt(u * u + 2 * m * delta)
                return self.rho_U(p, u) * mp.sqrt(u / p) * amp(p)
        else:
            lo = mp.sqrt(p_inf2)
            pts = sorted({mp.sqrt(t) for t in thresholds_p2 if t > p_inf2})

            def f(p):
                q = mp.sqrt(p * p - 2 * m * delta)
                return self.rho_U(p, q) * mp.sqrt(p / q) * amp(p)

        val, err = mp.quad(f, [lo] + pts + [mp.inf], error=True)
        return val, err

    def populations(self, pairs=None):
        """Transition probabilities ``S^{jj}_{j'j'}`` (Eq. (42)) for all (or given) pairs.

        Returns ``({(j', j): value}, max error estimate)``.
        """
        d = self.d
        pairs = pairs or [(jp, j) for jp in range(d) for j in range(d)]
        out, emax = {}, 0
        for jp, j in pairs:
            v, er = self.entry(jp, jp, j, j)
            out[(jp, j)] = self.mp.re(v)
            emax = max(emax, er)
        return out, emax


def detailed_balance_numeric(N=2, eps=0.5, h=4, g=50, m=0.1, beta=0.1, sigma_p=0.5, dps=DPS,
                             pairs=((1, 0), (2, 1), (3, 1))):
    """Check (30) on the exact map (38) of a chain: ``S^{jj}_{j'j'} = e^{-beta Delta_{j'j}} S^{j'j'}_{jj}``.

    Returns a dict with the largest relative residual, the largest asymmetry
    ``|s_{j'j} - s_{jj'}|`` seen on the quadrature nodes, the tolerance and the quad
    error estimate.
    """
    q = Quad38(QubitChain(N, h, eps), g, m, beta, sigma_p, dps)
    mp = q.mp
    if pairs is None:
        pairs = [(jp, j) for jp in range(q.d) for j in range(jp)]
    P, err = q.populations([x for jp, j in pairs for x in ((jp, j), (j, jp))])
    res = 0
    for (jp, j), v in P.items():
        w = P[(j, jp)] * mp.exp(-q.beta * (q.e[jp] - q.e[j]))
        res = max(res, abs(v - w) / max(abs(v), abs(w)))
    sym = 0
    for sp_, sm_ in q._cache.values():
        sym = max(sym, max(abs(x) for x in (sp_ - sp_.T).ravel()), max(abs(x) for x in (sm_ - sm_.T).ravel()))
    return dict(residual=res, symmetry=sym, tol=mp.mpf(10) ** (-(dps - 6)), quad_err=err,
                pairs=len(P), eps=eps, n_eval=q.n_eval)
