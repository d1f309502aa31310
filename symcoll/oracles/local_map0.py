"""The eps -> 0 local map (54)-(56) of the chain (64)-(65) from the closed forms (C30)-(C32): an oracle.

:class:`LocalMap0` builds the local map from the closed-form one-qubit amplitudes of Appendix C
and ``mpmath.quad`` integrals at ``dps`` digits.  It is independent of the code it checks: it
uses neither :mod:`symcoll.maps` (no panel quadrature, no engines, no Bohr classes) nor the
(C1) solver :func:`symcoll.scattering.c1_rows` (no linear solve at all); from the package it
takes only the mpmath context (:func:`symcoll.numeric.get_context`) and, for the eigenbasis of
H(eps), :class:`symcoll.model.QubitChain`.  Used by the tests and by the ``sum_rule_C39`` and
coherence derivations (``symcoll verify``).
"""
from __future__ import annotations

import numpy as np

from ..numeric import get_context


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


_INTEGRAL_CACHE: dict = {}


class LocalMap0:
    """The eps -> 0 local map (54)-(56) of the chain (64)-(65), from the closed forms (C30)-(C32).

    With ``c_pm(p)`` of (C32) the one-qubit amplitudes (Appendix C order (|1>, |0>)) are
    ``[[1/(1+c_+^2), -i c_-/(1+c_-^2)], [-i c_+/(1+c_+^2), 1/(1+c_-^2)]]`` for transmission
    (the excitation entry is absent for ``p < sqrt(2mh)``) and that minus I for reflection
    (C27)-(C31).  They depend on p only (not on the band).  Hence, in the local basis,

        S(rho) = sum_{a,b in {0,1}} G_ab P_a rho P_b + U R rho R^dag + D L rho L^dag,

    with ``P_a = |a><a| (x) I``, ``R = |1><0| (x) I = sigma_+^(1)/2``, ``L = R^dag`` and the
    p-integrals ``G_ab = sum_alpha int_0^oo mu_eff d_a^(alpha) conj(d_b^(alpha))`` (Eq. (54)),
    ``U = sum_alpha int_{sqrt(2mh)}^oo mu_eff |x|^2`` (Eq. (55), the 1/4 absorbs sigma_+ = 2|1><0|)
    and ``D = sum_alpha int_0^oo mu_eff |y|^2`` (Eq. (56)).  Cross terms between different
    Bohr frequencies are dropped, as (48) prescribes.

    Parameters
    ----------
    N : int
        Chain length, 1 <= N <= 6.
    h, g, m, beta : str or number
        Paper parameters (defaults of Sec. VI E); ``hbar = 1``.
    dps : int
        mpmath digits (>= 15).

    Notes
    -----
    Integrals use ``mpmath.quad`` split at ``sqrt(2mh)`` with ``p = sqrt(2mh) +- s^2`` so the
    square-root threshold behaviour is analytic in s; ``quad_error`` is mpmath's estimate.
    """

    def __init__(self, N, h="4", g="50", m="0.1", beta="0.1", dps=30):
        if isinstance(N, bool) or not isinstance(N, int):
            raise TypeError(f"N must be an int (got {N!r})")
        if not 1 <= N <= 6:
            raise ValueError(f"N must be in 1..6 (got {N})")
        self.N, self.d, self.dps = N, 2**N, dps
        mp = self.mp = _mp_ctx(dps)
        self.h, self.g, self.m, self.beta = (mp.mpf(x) for x in (h, g, m, beta))
        self.p0 = mp.sqrt(2 * self.m * self.h)
        self.quad_error = mp.mpf(0)
        key = (str(h), str(g), str(m), str(beta), dps)
        if key not in _INTEGRAL_CACHE:
            self._integrals()
            _INTEGRAL_CACHE[key] = (self.G, self.G_alpha, self.U_alpha, self.D_alpha, self.quad_error)
        self.G, self.G_alpha, self.U_alpha, self.D_alpha, self.quad_error = _INTEGRAL_CACHE[key]
        self.U, self.D = 2 * self.U_alpha, 2 * self.D_alpha

    # amplitudes at momentum p (alpha = +1 transmitted, -1 reflected); x2 = p^2 - 2mh if known
    def amplitudes(self, p_, alpha, x2=None):
        """``(d1, d0, x, y)``: diagonal |1>->|1>, |0>->|0>, excitation 0->1 and decay 1->0 (C30)-(C31)."""
        mp = self.mp
        cp2 = c_pm_mp(mp, +1, p_, self.g, self.m, self.h)
        cm2 = c_pm_mp(mp, -1, p_, self.g, self.m, self.h, x=x2)
        d1, d0 = 1 / (1 + cp2), 1 / (1 + cm2)
        if alpha == -1:
            d1, d0 = d1 - 1, d0 - 1
        y = -1j * mp.sqrt(cp2) / (1 + cp2)
        openx = (x2 if x2 is not None else p_ * p_ - 2 * self.m * self.h) > 0
        x = -1j * mp.sqrt(cm2) / (1 + cm2) if openx else mp.mpf(0)
        return d1, d0, x, y

    def _quad(self, f, below, above):
        """int_0^oo f(p, x2) dp split at p0 (substitutions p = p0 -+ s^2), both pieces optional."""
        mp, p0 = self.mp, self.p0
        tot = mp.mpf(0)
        if below:
            v, e = mp.quad(lambda s: 2 * s * f(p0 - s * s, -(s * s) * (2 * p0 - s * s)), [0, mp.sqrt(p0)], error=True)
            tot += v
            self.quad_error = max(self.quad_error, e)
        if above:
            v, e = mp.quad(lambda s: 2 * s * f(p0 + s * s, (s * s) * (2 * p0 + s * s)), [0, 1, mp.inf], error=True)
            tot += v
            self.quad_error = max(self.quad_error, e)
        return tot

    def mu(self, p_):
        """Effusion distribution (40)."""
        b, m_ = self.beta, self.m
        return b * p_ / m_ * self.mp.exp(-b * p_ * p_ / (2 * m_))

    def _integrals(self):
        mp = self.mp
        self.G = {}
        self.G_alpha = {}
        for alpha in (+1, -1):
            for a in (0, 1):
                for b in (0, 1):
                    if (a, b) == (1, 0):
                        continue

                    def f(p_, x2, a=a, b=b, alpha=alpha):
                        d1, d0, _, _ = self.amplitudes(p_, alpha, x2)
                        da, db = (d1 if a else d0), (d1 if b else d0)
                        return self.mu(p_) * da * mp.conj(db)

                    self.G_alpha[(alpha, a, b)] = self._quad(f, True, True)
            self.G_alpha[(alpha, 1, 0)] = mp.conj(self.G_alpha[(alpha, 0, 1)])
        for a in (0, 1):
            for b in (0, 1):
                self.G[(a, b)] = self.G_alpha[(1, a, b)] + self.G_alpha[(-1, a, b)]
        # |x|^2 and |y|^2 are the same for alpha = +- (off-diagonal of s^- = s^+ - I)
        self.U_alpha = self._quad(lambda p_, x2: self.mu(p_) * abs(self.amplitudes(p_, 1, x2)[2]) ** 2, False, True)
        self.D_alpha = self._quad(lambda p_, x2: self.mu(p_) * abs(self.amplitudes(p_, 1, x2)[3]) ** 2, True, True)
        self.U, self.D = 2 * self.U_alpha, 2 * self.D_alpha

    # -- the map ---------------------------------------------------------------------
    def apply(self, rho, alphas=(+1, -1)):
        """``S(0) rho`` in the local basis (order of :mod:`symcoll.conventions`, qubit 1 MSB)."""
        d, N = self.d, self.N
        mp = self.mp
        half = 2 ** (N - 1)
        bit = [i >> (N - 1) for i in range(d)]
        G = {k: sum(self.G_alpha[(a,) + k] for a in alphas) for k in [(0, 0), (0, 1), (1, 0), (1, 1)]}
        U = self.U_alpha * len(alphas)
        Dn = self.D_alpha * len(alphas)
        out = np.empty((d, d), dtype=object)
        for i in range(d):
            for k in range(d):
                v = G[(bit[i], bit[k])] * rho[i][k]
                if bit[i] == 1 and bit[k] == 1:
                    v += U * rho[i - half][k - half]
                if bit[i] == 0 and bit[k] == 0:
                    v += Dn * rho[i + half][k + half]
                out[i, k] = v
        return out

    def eigenbasis(self, eps="0.01"):
        """Eigenvectors of H(eps) of the chain (64) (independent of eps > 0 since [H_loc, H_int] = 0)
        and the eps = 0 energies ``eps_j^(0) = n_j h``; returns ``(U, n)`` (U columns = |j>)."""
        from ..model import QubitChain

        es = QubitChain(self.N, float(self.h), float(eps)).eigensystem(self.dps)
        return es.vectors, np.array(es.bands)

    def tensor_entry_matrix(self, U, j, k, alphas=(+1, -1)):
        """The matrix ``[S^{jk}_{j'k'}]_{j'k'}`` = ``<j'| S(|j><k|) |k'>`` in the eigenbasis U."""
        mp = self.mp
        d = self.d
        uj, uk = U[:, j], U[:, k]
        rho = [[uj[a] * mp.conj(uk[b]) for b in range(d)] for a in range(d)]
        out = self.apply(rho, alphas)
        Ud = np.array([[mp.conj(x) for x in row] for row in U.T], dtype=object)
        return Ud.dot(out).dot(U)
