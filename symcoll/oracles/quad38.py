"""Independent 30-digit evaluation of entries of the collision tensor (38) with ``mpmath.quad``.

This is an *oracle* for the identities of Sec. IV-V and Appendix C and for the maps,
deliberately independent of the code it checks: it integrates Eq. (38) entry by entry with
``mpmath.quad`` (tanh-sinh, not the panel quadrature of :mod:`symcoll.maps`) on s-matrix
columns from its own (C1) solve and Gaussian elimination (:meth:`Quad38.s_col`; not
:func:`symcoll.scattering.c1_rows`, not :func:`symcoll.numeric.gauss_solve`).  From
:class:`symcoll.scattering.Scattering` it takes only the eigenbasis and ``V`` in it, and
:meth:`Quad38.check_against_scattering` compares the two (C1) solves.

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
        # floats are read as their shortest decimal repr (0.1 -> "0.1"), so that the parameters
        # are the decimal numbers the user typed, exactly, at any precision
        g, m, beta, sigma_p = (repr(x) if isinstance(x, float) else x for x in (g, m, beta, sigma_p))
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
        mg = self.m * mp.mpf(self.sc.g) / self.sc.hbar**2
        self._imgV = [[mp.mpc(0, mg * mp.re(v)) if mp.im(v) == 0 else mp.mpc(0, 1) * mg * v
                       for v in row] for row in self.sc.V_eig]

    # -- ingredients ---------------------------------------------------------------
    def mu_eff(self, p):
        """Effusion distribution, Eq. (40)."""
        b, m = self.beta, self.m
        return b * p / m * self.mp.exp(-b * p * p / (2 * m))

    def rho_U(self, p, q):
        """Unit density matrix in momentum representation, Eq. (41)."""
        return self.mu_eff((p + q) / 2) * self.mp.exp(-((p - q) ** 2) / (2 * self.sigma_p**2))

    def s_col(self, E, j):
        """Column j of ``(s^(+)(E), s^(-)(E))`` (Eqs. (C1)-(C2)) as two lists, cached by (E, j).

        Evaluates ``s^(+) = K^{1/2} (K + i m g V / hbar^2)^{-1} K^{1/2}`` with one
        right-hand side (Gaussian elimination with partial pivoting in mpmath), so only
        the column that enters Eq. (38) is computed; closed channels (``eps_l > E``) take
        ``K_l = +i sqrt(2 m (eps_l - E))`` and are zero in the output.  Cross-checked
        against :meth:`symcoll.scattering.Scattering.s_both` by :meth:`check_against_scattering`.
        """
        mp = self.mp
        key = (mp.nstr(E, mp.dps + 5), j)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        self.n_eval += 1
        d, m = self.d, self.m
        K, Kh = [], []
        for el in self.e:
            x = 2 * m * (E - el)
            if x >= 0:
                r = mp.sqrt(x)
                K.append(mp.mpc(r, 0))
                Kh.append(mp.sqrt(r))
            else:
                K.append(mp.mpc(0, mp.sqrt(-x)))
                Kh.append(mp.mpf(0))
        if Kh[j] == 0:
            zero = [mp.mpc(0)] * d
            hit = (zero, zero)
        else:
            A = [[self._imgV[r][c] for c in range(d)] for r in range(d)]
            for r in range(d):
                A[r][r] = A[r][r] + K[r]
            b = [mp.mpf(0)] * d
            b[j] = Kh[j]
            # Gaussian elimination with partial pivoting (only the active sub-block is updated)
            for c in range(d):
                piv = max(range(c, d), key=lambda r: abs(A[r][c]))
                if piv != c:
                    A[c], A[piv] = A[piv], A[c]
                    b[c], b[piv] = b[piv], b[c]
                inv = 1 / A[c][c]
                rowc = A[c]
                for r in range(c + 1, d):
                    fct = A[r][c]
                    if fct:
                        fct = fct * inv
                        rowr = A[r]
                        for cc in range(c + 1, d):
                            rowr[cc] = rowr[cc] - fct * rowc[cc]
                        b[r] = b[r] - fct * b[c]
            x = [None] * d
            for r in range(d - 1, -1, -1):
                acc = b[r]
                for cc in range(r + 1, d):
                    acc = acc - A[r][cc] * x[cc]
                x[r] = acc / A[r][r]
            M = [[xr] for xr in x]
            plus = [Kh[r] * M[r][0] for r in range(d)]
            minus = list(plus)
            minus[j] = plus[j] - 1
            hit = (plus, minus)
        self._cache[key] = hit
        return hit

    def check_against_scattering(self, energies):
        """Largest ``|s_col - Scattering.s_both|`` over the given energies and all columns."""
        worst = 0
        sp_, sm_, _ = self.sc.s_both(list(energies))
        for i, E in enumerate(energies):
            for j in range(self.d):
                pl, mi = self.s_col(self.mp.mpf(E), j)
                for r in range(self.d):
                    worst = max(worst, abs(pl[r] - sp_[i][r, j]), abs(mi[r] - sm_[i][r, j]) if pl[j] != 0 else 0)
        return worst

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
            s1 = self.s_col(Ep + e[j], j)
            s2 = self.s_col(Ep + E2_shift, k)
            tot = mp.mpc(0)
            for a in ia:
                i = 0 if a == +1 else 1
                tot += s1[i][jp] * mp.conj(s2[i][kp])
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

        # finite upper limit with a rigorous tail bound: |s| <= 1 on open channels (flux
        # unitarity), sqrt(p/pi) <= 1 (or sqrt(u/p) <= 1) and mu_eff((p+pi)/2) <= mu_eff(x) for the
        # integration variable x >= sqrt(m/beta), so the tail beyond X is <= 2 exp(-beta X^2/(2m)).
        X = mp.sqrt(2 * m / self.beta * (mp.dps + 10) * mp.log(10))
        X = max(X, mp.sqrt(m / self.beta))
        pts = [x for x in pts if x < X]
        val, err = mp.quad(f, [lo] + pts + [X], error=True)
        self.tail_bound = 2 * mp.exp(-self.beta * X * X / (2 * m))
        return val, err + self.tail_bound

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
    for E in [mp.mpf(x) / 7 for x in (1, 20, 45, 60, 100, 300)]:
        for j in range(q.d):
            for jp in range(q.d):
                sym = max(sym, abs(q.s_col(E, j)[0][jp] - q.s_col(E, jp)[0][j]))
    return dict(residual=res, symmetry=sym, tol=mp.mpf(10) ** (-(dps - 6)), quad_err=err,
                pairs=len(P), eps=eps, n_eval=q.n_eval)


def trace_preservation_numeric(N=2, eps=0.5, h=4, g=50, m=0.1, beta=0.1, sigma_p=0.5, dps=DPS,
                               inputs=((1, 1), (0, 1), (1, 2))):
    """``sum_{j'} S^{jk}_{j'j'}`` of the exact map (38) for the given inputs (j, k).

    Returns a dict with ``sums`` {(j, k): value}, the largest ``|sum - delta_{jk}|``, the
    largest quad error estimate, and the largest flux-unitarity defect of the s-matrices
    at sample energies.
    """
    q = Quad38(QubitChain(N, h, eps), g, m, beta, sigma_p, dps)
    mp = q.mp
    sums, emax, res = {}, 0, 0
    for j, k in inputs:
        tot = mp.mpc(0)
        for jp in range(q.d):
            v, er = q.entry(jp, jp, j, k)
            tot += v
            emax = max(emax, er)
        sums[(j, k)] = tot
        res = max(res, abs(tot - (1 if j == k else 0)))
    flux = max(q.sc.flux_defect(E) for E in (mp.mpf(1) / 3, mp.mpf(5), mp.mpf(15), mp.mpf(40)))
    return dict(sums=sums, residual=res, quad_err=emax, flux=flux, tol=mp.mpf(10) ** (-(dps - 6)),
                eps=eps, N=N)
