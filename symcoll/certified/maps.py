"""Certified collision maps: the exact (38), global (45) and local (54)-(56) tensors in Arb balls.

Every entry of a :class:`CertifiedMap` is a ball that provably contains the true value of the
paper's integral; ``map.error`` has only *bound* parts.  The integrals are those of the float
engines (:mod:`symcoll.maps`), in the outgoing kinetic energy ``u`` (Appendix B, (B1)-(B3)):
with ``x = (K + i m g V)^{-1}`` (Eq. (C1), ``s^(+) = K^{1/2} x K^{1/2}``, hbar = 1), ``p_out = sqrt(2 m u)``
and ``p_A = sqrt(2 m (u + Delta_A))`` the incoming momentum of the pair ``A = (j', j)``,
``Delta_A = eps_j' - eps_j``,

* exact (38) with the Gaussian state (41)::

      S_AB = sum_alpha int du (beta/2) (p_A + p_B) e^{X_AB} p_out x^a_A conj(x^a_B),
      X_AB = -beta (p_A + p_B)^2 / (8 m) - (p_A - p_B)^2 / (2 sigma_p^2),

* narrow (45) (pairs with ``Delta_A = Delta_B`` only)::

      S_AB = sum_alpha int du beta e^{-beta p_A^2 / (2m)} p_out p_A x^a_A conj(x^a_B),

where ``x^+ = x`` and ``x^- = x - diag(1/K)``... in practice ``s^(-) = s^(+) - I`` (C2) is used through
``x^-_{j'j} = x_{j'j} - delta_{j'j} / sqrt(p_out p_A)`` (only on the diagonal pairs; see
:func:`_minus_rows`).  Both integrands are products of square roots and of the rows of x,
all analytic in u away from the channel thresholds ``tau = eps_l - eps_j'`` and the poles of x
(resonances).  The integration range is split at every threshold; on each panel the endpoint
substitutions below make the integrand analytic at thresholds sitting at the panel's ends, and
:mod:`symcoll.certified.quadrature` gives a rigorous Gauss-Legendre remainder from the maximum
of the integrand on a Bernstein ellipse, evaluated in ball arithmetic.  The conjugated factor
is continued as ``conj(x(conj z))``, analytic where x is; on a cover symmetric under conjugation
its maximum modulus equals that of x.  The Gaussian tail beyond ``U_cut`` is bounded analytically
(:func:`tail_bound`).

Endpoint substitutions on a panel ``[a, b]`` (width w), t in [-1, 1]:

* both ends thresholds: ``u = a + w sin^2(pi (t+1)/4)``, so ``sqrt(u - a) = sqrt(w) sin(pi (t+1)/4)`` and
  ``sqrt(b - u) = sqrt(w) cos(pi (t+1)/4)`` are entire;
* left end only: ``u = a + w ((1+t)/2)^2``; right end only: ``u = b - w ((1-t)/2)^2``; neither: linear.

A threshold is "at" a panel end only when the equality is *proven*: exactly (balls of radius 0),
trivially (``tau_{j'j'} = 0``), or symbolically for the chain (exact energies ``n h + eps lambda``
with ``lambda`` the exact band eigenvalues of H_int, :mod:`symcoll.certified.eigen`).  Thresholds
whose balls overlap without a proof of equality cannot be certified and raise.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ..budget import ErrorBudget, HasErrorBudget
from ..chain import QubitChain
from ..maps.options import check_model_objects
from ._arb import acb, acb_mat, arb, arb_mat, ball_mid_rad, is_finite, precision, to_arb, upper_float
from .eigen import ball_eigensystem
from .quadrature import ellipse_cover, gauss_legendre, nodes_needed, remainder_coefficient

__all__ = ["CertifiedMap", "certified_collision_map", "tail_bound", "CERTIFIED_KINDS", "DEFAULT_DPS"]

CERTIFIED_KINDS = ("exact", "global", "local")
DEFAULT_DPS = 20
RHOS = (6.0, 3.5, 2.2, 1.6, 1.25)
"""Bernstein-ellipse parameters tried on each panel, largest first."""
NMAX = 48
"""Most Gauss-Legendre nodes on one panel before it is bisected (at 20 digits; scaled with the digits)."""
MAX_DEPTH = 40
STRIPS = 12


def _digits():
    """Decimal digits of flint's current working precision."""
    import flint

    return int(flint.ctx.prec * 0.30103)


def default_tol(dps):
    """Target entry radius for ``dps`` working digits: ``10^-(dps - 5)`` (1e-15 at the default 20)."""
    return 10.0 ** (-(dps - 5))


# ----------------------------------------------------------------------------- tail
def tail_bound(beta, delta, U):
    """Bound on ``|int_U^inf integrand du|`` for every entry of (38) and (45), ``U >= 2 delta``.

    Proof.  On open channels at real energies ``|s^(alpha)_{j'j}| <= 1`` (flux conservation of
    (C1)-(C2): ``sum_{k, alpha} |s^(alpha)_{kj}|^2 = 1``), and ``|x_A| = |s_A| / sqrt(p_out p_A)``.
    With ``delta = max |Delta|`` and ``u >= 2 delta``: ``p_A^2 = 2m(u + Delta_A) in [2m(u - delta), 2m(u + delta)]``,
    so ``(p_A + p_B) / sqrt(p_A p_B) <= 2 ((u + delta)/(u - delta))^(1/4) <= 2 * 3^(1/4)`` and
    ``e^{X_AB} <= e^{-beta (p_A + p_B)^2 / (8m)} <= e^{-beta (u - delta)}``.  The exact integrand is then at
    most ``2 * beta 3^(1/4) e^{-beta (u - delta)}`` (two values of alpha), the narrow one at most
    ``2 beta e^{-beta (u + Delta)} <= 2 beta e^{-beta (u - delta)}``; integrating from U gives
    ``2 * 3^(1/4) e^{-beta (U - delta)}``.
    """
    return arb(2) * arb(3).root(4) * (-(beta * (U - delta))).exp()


# ----------------------------------------------------------------------------- thresholds
class _Thresholds:
    """Channel thresholds ``tau[j'][l] = eps_l - eps_j'`` clustered into proven-equal classes."""

    def __init__(self, energies, exact):
        d = len(energies)
        self.d = d
        tau = [[energies[l] - energies[jp] for l in range(d)] for jp in range(d)]
        for jp in range(d):
            tau[jp][jp] = arb(0)  # exactly
        self.tau = tau
        keys = sorted(((jp, l) for jp in range(d) for l in range(d)), key=lambda k: float(tau[k[0]][k[1]].mid()))
        clusters = []
        for key in keys:
            if clusters and self._overlap(clusters[-1], key):
                clusters[-1].append(key)
            else:
                clusters.append([key])
        self.cluster_of = {}
        self.values = []
        for ci, cl in enumerate(clusters):
            ref = cl[0]
            for key in cl[1:]:
                if not self._proven_equal(ref, key, energies, exact):
                    raise ValueError(
                        f"certified map: the thresholds eps_{key[1]} - eps_{key[0]} and eps_{ref[1]} - eps_{ref[0]} "
                        "overlap at this precision but are not provably equal; raise dps, or (for a user System "
                        "whose Bohr frequencies coincide) use a QubitChain, whose coincidences are proven exactly")
            for key in cl:
                self.cluster_of[key] = ci
            # representative: an exact zero if the cluster contains a trivial zero, else the tightest ball
            if any(k[0] == k[1] for k in cl):
                val = arb(0)
            else:
                val = min((tau[k[0]][k[1]] for k in cl), key=lambda x: float(x.rad()))
            self.values.append(val)
        self.clusters = clusters

    def _overlap(self, cluster, key):
        t = self.tau[key[0]][key[1]]
        return any(t.overlaps(self.tau[k[0]][k[1]]) for k in cluster)

    @staticmethod
    def _proven_equal(k1, k2, energies, exact):
        (a1, l1), (a2, l2) = k1, k2
        if a1 == l1 and a2 == l2:
            return True  # both exactly zero
        e = energies
        t1, t2 = e[l1] - e[a1], e[l2] - e[a2]
        if t1.rad() == 0 and t2.rad() == 0 and e[l1].rad() == 0 and e[a1].rad() == 0:
            return bool(t1 == t2)
        if exact is None:
            return False
        import sympy

        diff = sympy.expand((exact[l1] - exact[a1]) - (exact[l2] - exact[a2]))
        return diff == 0 or sympy.simplify(diff) == 0

    def breakpoints(self):
        """``[(value, members)]`` of the clusters with value >= 0, ascending (``members``: set of (j', l))."""
        out = []
        for ci, cl in enumerate(self.clusters):
            v = self.values[ci]
            if v.rad() == 0 and v == 0 or v > 0:
                out.append((v, set(cl)))
            elif not (v < 0):
                raise ValueError("certified map: a threshold cannot be decided to be >= 0 or < 0 (raise dps)")
        return out


# ----------------------------------------------------------------------------- panel geometry
class _Panel:
    __slots__ = ("a", "b", "left", "right", "tol", "depth")

    def __init__(self, a, b, left, right, tol, depth=0):
        self.a, self.b = a, b
        self.left, self.right = left, right  # sets of (j', l) exactly at a / b
        self.tol, self.depth = tol, depth

    def geometry(self, t):
        """``(UL, UR, SL, SR, J, JoSL)`` at t: ``u - a``, ``b - u``, their square roots (entire forms where an
        end is a threshold; None otherwise), ``du/dt`` and ``J / SL`` (entire; None unless the left end is
        a threshold), for the panel's substitution (module doc)."""
        w = self.b - self.a
        if self.left and self.right:
            th = (t + 1) * acb.pi() / 4
            s, c = th.sin(), th.cos()
            sw = acb(w).sqrt()
            return w * s * s, w * c * c, sw * s, sw * c, w * acb.pi() / 2 * s * c, sw * acb.pi() / 2 * c
        if self.left:
            sg = (t + 1) / 2
            sw = acb(w).sqrt()
            return w * sg * sg, w * (1 - sg * sg), sw * sg, None, w * sg, sw + 0 * t
        if self.right:
            tg = (1 - t) / 2
            return w * (1 - tg * tg), w * tg * tg, None, acb(w).sqrt() * tg, w * tg, None
        return w * (1 + t) / 2, w * (1 - t) / 2, None, None, w / 2 + 0 * t, None


class _Problem:
    """One certified integration: energies, coupling and bath in balls; rows, pairs and classes."""

    def __init__(self, energies, exact, V, m, g, beta, sigma_p, narrow):
        self.e = energies
        self.d = d = len(energies)
        self.m, self.g, self.beta, self.sigma_p = m, g, beta, sigma_p
        self.narrow = narrow
        self.thr = _Thresholds(energies, exact)
        mg = m * g  # hbar = 1
        self.iVT = acb_mat(d, d)
        for i in range(d):
            for j in range(d):
                self.iVT[i, j] = acb(0, 1) * mg * V[j, i]  # (i m g V)^T, Eq. (C1)
        self.sqrt2m = (2 * m).sqrt()
        # Delta class of a pair A = (j', j): the threshold cluster of tau[j'][j] = -Delta_A
        self.cls = np.array([self.thr.cluster_of[(jp, j)] for jp in range(d) for j in range(d)])
        self.delta_max = max((abs(self.thr.tau[jp][l]) for jp in range(d) for l in range(d)),
                             key=lambda x: float(x.mid()) + float(x.rad()))

    # -- rows of x = (K + i m g V)^{-1} -----------------------------------------------
    def modes(self, panel):
        """Per row j': list over channels l of the continuation rule of K_l on the panel."""
        d, tau = self.d, self.thr.tau
        out = []
        for jp in range(d):
            row = []
            for l in range(d):
                key = (jp, l)
                if key in panel.left:
                    row.append(("L0", None))
                elif key in panel.right:
                    row.append(("R0", None))
                else:
                    off = panel.a - tau[jp][l]
                    if off > 0:
                        row.append(("open", off))
                    else:
                        off = tau[jp][l] - panel.b
                        if not off > 0:
                            raise RuntimeError("certified map: a threshold lies inside a panel (bug)")
                        row.append(("closed", off))
            out.append(row)
        return out

    def rows_at(self, panel, modes, t):
        """``(X, K, f1, f2)`` at the point/box t, or None where analyticity cannot be verified.

        ``X[j'][l] = x_{j'l}(u + eps_j')``, ``K[j'][l]`` the continued wave numbers, ``f1 = J p_out`` and
        ``f2 = J / p_out`` (``J = du/dt``; f2 in its entire form on the panel that starts at u = 0).
        """
        UL, UR, SL, SR, J, JoSL = panel.geometry(acb(t))
        d = self.d
        c = self.sqrt2m
        two_m = 2 * self.m
        X, Ks = [], []
        for jp in range(d):
            K = []
            for mode, off in modes[jp]:
                if mode == "L0":
                    k = c * SL
                elif mode == "R0":
                    k = acb(0, 1) * c * SR
                elif mode == "open":
                    k = (two_m * (UL + off)).sqrt(analytic=True)
                else:
                    k = acb(0, 1) * (two_m * (UR + off)).sqrt(analytic=True)
                if not is_finite(k):
                    return None
                K.append(k)
            M = acb_mat(self.iVT)
            for l in range(d):
                M[l, l] += K[l]
            rhs = acb_mat(d, 1)
            rhs[jp, 0] = 1
            try:
                y = M.solve(rhs)
            except ZeroDivisionError:
                return None
            row = [y[l, 0] for l in range(d)]
            if not all(is_finite(v) for v in row):
                return None
            X.append(row)
            Ks.append(K)
        pout = Ks[0][0]  # sqrt(2 m u): the outgoing channel of any row (all rows: the same function)
        if modes[0][0][0] == "L0":  # panel starts at u = 0: J / p_out = (J / SL) / sqrt(2m), entire
            f2 = JoSL / c
        else:
            if not (abs(pout) > 0):
                return None
            f2 = J / pout
        if not is_finite(f2):
            return None
        return X, Ks, J * pout, f2

    def active(self, modes):
        """Flat pair indices A = j' d + j whose incoming channel j is open on the panel."""
        d = self.d
        return np.array([jp * d + j for jp in range(d) for j in range(d) if modes[jp][j][0] in ("L0", "open")],
                        dtype=int)

    # -- integrand pieces ---------------------------------------------------------------
    def weights_exact(self, pc, factor):
        """``U x U`` object array ``factor (beta/2)(p1 + p2) e^{X(p1, p2)}`` over the active classes (38)."""
        beta, m, sig = self.beta, self.m, self.sigma_p
        P = np.array(pc, dtype=object)
        sm = np.add.outer(P, P)
        df = np.subtract.outer(P, P)
        Xe = sm * sm * acb(-beta / (8 * m)) - df * df * acb(1 / (2 * sig * sig))
        E = np.frompyfunc(lambda z: z.exp(), 1, 1)(Xe)
        return E * sm * (factor * beta / 2)

    def weights_pairs(self, p1, p2, factor):
        """``factor (beta/2)(p1 + p2) e^{X(p1, p2)}`` (38) for object arrays of momenta ``p1``, ``p2``."""
        beta, m, sig = self.beta, self.m, self.sigma_p
        sm = p1 + p2
        df = p1 - p2
        E = np.frompyfunc(lambda z: z.exp(), 1, 1)(sm * sm * acb(-beta / (8 * m)) - df * df * acb(1 / (2 * sig * sig)))
        return E * sm * (factor * beta / 2)

    def weight_narrow(self, p, factor):
        """``factor beta e^{-beta p^2/(2m)} p`` (45) for one Bohr class."""
        return factor * self.beta * (-(self.beta * p * p / (2 * self.m))).exp() * p


def _conj(a):
    return np.frompyfunc(lambda z: z.conjugate(), 1, 1)(a)


def _minus_rows(X, pout, d):
    """``y = p_out x - I``: rows of ``s^(-) = s^(+) - I`` (C2) in the normalisation of the integrands.

    ``s^(-)_A = sqrt(p_out p_A) x_A - delta_A`` and ``delta_A`` only on diagonal pairs, where
    ``p_A = p_out``; so ``p_out x^-_A conj(x^-_B) = y_A conj(y_B) / p_out`` with ``y = p_out x - delta``.
    """
    Y = [[pout * v for v in r] for r in X]
    for jp in range(d):
        Y[jp][jp] = Y[jp][jp] - 1
    return Y


# ----------------------------------------------------------------------------- integration
class _Integrator:
    def __init__(self, prob, classes_narrow, tol, progress=None):
        self.p = prob
        self.d = prob.d
        self.D = prob.d ** 2
        self.tol = tol
        self.narrow_classes = classes_narrow  # list of arrays of flat pairs (narrow kinds) or None
        self.S = np.empty((self.D, self.D), dtype=object)
        self.S[...] = acb(0)
        self.Equad = np.zeros((self.D, self.D))
        self.panels_done = 0
        self.nodes = 0
        self.progress = progress
        self.nmax = max(NMAX, int(2.4 * _digits()))
        self.rho_start = 0  # index into RHOS of the last ellipse that worked (neighbouring panels are alike)

    def run(self):
        p = self.p
        bps = p.thr.breakpoints()
        vals = [v for v, _ in bps]
        # Gaussian tail: U_cut with tail_bound <= tol / 10
        delta = p.delta_max
        last = vals[-1]
        lo = arb(2) * delta
        if lo < last:
            lo = last
        U = lo + delta + (arb(2) * arb(3).root(4) * 10 / arb(self.tol)).log() / p.beta
        U = arb(math.ceil(upper_float(U)))
        self.U = U
        self.tail = tail_bound(p.beta, delta, U)
        panels = []
        for i in range(len(bps) - 1):
            panels.append((bps[i][0], bps[i + 1][0], bps[i][1], bps[i + 1][1]))
        # tail range [last, U] in pieces of width <= 10 / beta
        width = upper_float(arb(10) / p.beta)
        a, left = last, bps[-1][1]
        span = upper_float(U - last)
        n_t = max(1, int(math.ceil(span / width)))
        for k in range(1, n_t + 1):
            b = U if k == n_t else arb(float(last.mid()) + span * k / n_t)
            panels.append((a, b, left, set()))
            a, left = b, set()
        tol_p = 0.5 * self.tol / len(panels)
        self.n_initial = len(panels)
        stack = [_Panel(a, b, l, r, tol_p) for (a, b, l, r) in reversed(panels)]
        while stack:
            pan = stack.pop()
            done = self._panel(pan)
            if done is None:
                if pan.depth >= MAX_DEPTH:
                    raise RuntimeError(
                        "certified map: a panel could not be certified after "
                        f"{MAX_DEPTH} bisections near u = {float(pan.a.mid()):.6g} (a pole of the s-matrix on the real "
                        "axis?); raise dps or report this case")
                c = arb((float(pan.a.mid()) + float(pan.b.mid())) / 2)
                if not (pan.a < c and c < pan.b):
                    raise RuntimeError("certified map: a panel became narrower than the working precision; raise dps")
                stack.append(_Panel(c, pan.b, set(), pan.right, pan.tol / 2, pan.depth + 1))
                stack.append(_Panel(pan.a, c, pan.left, set(), pan.tol / 2, pan.depth + 1))
            else:
                self.panels_done += 1
                if self.progress is not None:
                    self.progress(min(1.0, float(pan.b.mid()) / float(U.mid())))
        return self

    def _bound(self, pan, modes, act, rho):
        """Per-entry bound M (float ``D_act x D_act``) of the integrand on E_rho, or None (not analytic).

        integrand_AB = common_AB (f1 x_A conj(x_B) + f2 y_A conj(y_B)), so
        ``|integrand_AB| <= max|common_AB| (max|f1| X_A X_B + max|f2| Y_A Y_B)`` with the maxima over the
        boxes covering the ellipse (the conjugated factors are continued as ``conj(x(conj z))``, whose
        maximum on a conjugation-symmetric cover is that of x).
        """
        p = self.p
        d = self.d
        ci, rep, nu = self._classes(act)
        Xb = np.zeros(len(act))
        Yb = np.zeros(len(act))
        F1 = F2 = 0.0
        Wb = np.zeros((nu, nu)) if not p.narrow else np.zeros(nu)
        absf = np.vectorize(lambda z: upper_float(z.abs_upper()), otypes=[float])
        for box in ellipse_cover(rho, STRIPS):
            r = p.rows_at(pan, modes, box)
            if r is None:
                return None
            X, K, f1, f2 = r
            Y = _minus_rows(X, K[0][0], d)
            for k, A in enumerate(act):
                jp, j = divmod(int(A), d)
                Xb[k] = max(Xb[k], upper_float(X[jp][j].abs_upper()))
                Yb[k] = max(Yb[k], upper_float(Y[jp][j].abs_upper()))
            F1 = max(F1, upper_float(f1.abs_upper()))
            F2 = max(F2, upper_float(f2.abs_upper()))
            pc = [K[rep[i] // d][rep[i] % d] for i in range(nu)]
            if p.narrow:
                for i in range(nu):
                    Wb[i] = max(Wb[i], upper_float(p.weight_narrow(pc[i], acb(1)).abs_upper()))
            else:
                cu, cv = np.triu_indices(nu)
                P = np.array(pc, dtype=object)
                wu = absf(p.weights_pairs(P[cu], P[cv], acb(1)))
                Wn = np.zeros((nu, nu))
                Wn[cu, cv] = wu
                Wn[cv, cu] = wu
                Wb = np.maximum(Wb, Wn)
            if not (np.all(np.isfinite(Wb)) and np.all(np.isfinite(Xb)) and np.all(np.isfinite(Yb))
                    and math.isfinite(F1) and math.isfinite(F2)):
                return None
        if p.narrow:
            Wp = Wb[ci][:, None] * (ci[:, None] == ci[None, :])
        else:
            Wp = Wb[np.ix_(ci, ci)]
        # products of a few positive floats: relative rounding < 1e-15, covered by the factor 1 + 1e-12
        M = Wp * (F1 * Xb[:, None] * Xb[None, :] + F2 * Yb[:, None] * Yb[None, :]) * (1 + 1e-12) + 1e-300
        return M

    def _classes(self, act):
        """Delta classes of the active pairs: ``(ci, rep, nu)`` (class index per pair, a representative pair
        per class, number of classes)."""
        cls = self.p.cls[act]
        ucls = sorted(set(cls.tolist()))
        upos = {c: i for i, c in enumerate(ucls)}
        ci = np.array([upos[c] for c in cls])
        rep = {}
        for k, A in enumerate(act):
            rep.setdefault(int(ci[k]), int(A))
        return ci, rep, len(ucls)

    def _panel(self, pan):
        p = self.p
        modes = p.modes(pan)
        act = p.active(modes)
        if len(act) == 0:
            return True
        order = list(range(self.rho_start, len(RHOS))) + list(range(self.rho_start))
        for k in order:
            rho = RHOS[k]
            M = self._bound(pan, modes, act, rho)
            if M is None:
                continue
            n = nodes_needed(rho, float(M.max()), pan.tol, self.nmax)
            if n is None:
                continue
            self.rho_start = max(0, k - 1)  # next panel: try one size larger first
            self._apply_rule(pan, modes, act, n)
            E = remainder_coefficient(rho, n) * M * (1 + 1e-12)
            self.Equad[np.ix_(act, act)] += E
            return True
        return None

    def _apply_rule(self, pan, modes, act, n):
        """Add the n-point Gauss-Legendre sums of the panel (ball arithmetic) to the accumulator.

        The integrand is Hermitian in (A, B) at real nodes (the weights are real and symmetric, (39)),
        so only pairs A <= B are summed and the others filled by conjugation.  With ``y = p_out x - I``
        and ``f2 p_out^2 = f1``, ``f1 x conj(x) + f2 y conj(y) = 2 f1 x conj(x) - J (x_A delta_B + delta_A conj(x_B))
        + f2 delta_A delta_B``: one product over all pairs plus corrections on the d diagonal pairs.
        """
        p = self.p
        d = self.d
        ci, rep, nu = self._classes(act)
        ia, ib = np.triu_indices(len(act))
        if p.narrow:  # (45): only pairs of one Bohr class
            keep = ci[ia] == ci[ib]
            ia, ib = ia[keep], ib[keep]
        ca, cb = np.minimum(ci[ia], ci[ib]), np.maximum(ci[ia], ci[ib])
        cu, cv = np.triu_indices(nu)
        pos = np.zeros((nu, nu), dtype=int)
        pos[cu, cv] = np.arange(len(cu))
        wpos = pos[ca, cb]
        diag = np.array([A // d == A % d for A in act])
        sel_b = np.flatnonzero(diag[ib])  # delta_B = 1
        sel_a = np.flatnonzero(diag[ia])  # delta_A = 1
        sel_ab = np.flatnonzero(diag[ia] & diag[ib])
        acc = np.empty(len(ia), dtype=object)
        acc[...] = acb(0)
        beta, m, sig = p.beta, p.m, p.sigma_p
        k1, k2 = acb(-beta / (8 * m)), acb(1 / (2 * sig * sig))
        for t, wgt in gauss_legendre(n):
            r = p.rows_at(pan, modes, acb(t))
            if r is None:
                raise RuntimeError("certified map: the integrand is not finite at a Gauss node (bug)")
            X, K, f1, f2 = r
            self.nodes += 1
            J = f2 * K[0][0]  # du/dt = f2 p_out
            P = np.array([K[rep[i] // d][rep[i] % d] for i in range(nu)], dtype=object)
            xv = np.array([X[A // d][A % d] for A in act], dtype=object)
            xc = _conj(xv)
            inner = xv[ia] * xc[ib] * (2 * f1)
            inner[sel_b] = inner[sel_b] - xv[ia[sel_b]] * J
            inner[sel_a] = inner[sel_a] - xc[ib[sel_a]] * J
            inner[sel_ab] = inner[sel_ab] + f2
            if p.narrow:
                Wu = np.array([p.weight_narrow(P[i], acb(wgt)) for i in range(nu)], dtype=object)
                acc += Wu[ca] * inner
            else:
                sm = P[cu] + P[cv]
                df = P[cu] - P[cv]
                E = np.frompyfunc(lambda z: z.exp(), 1, 1)(sm * sm * k1 - df * df * k2)
                Wu = E * sm * (acb(wgt) * beta / 2)
                acc += Wu[wpos] * inner
        A, B = act[ia], act[ib]
        self.S[A, B] = self.S[A, B] + acc
        off = ia != ib
        self.S[B[off], A[off]] = self.S[B[off], A[off]] + _conj(acc[off])


# ----------------------------------------------------------------------------- the map object
class CertifiedMap(HasErrorBudget):
    """A collision tensor whose every entry is an Arb ball containing the true value.

    Attributes
    ----------
    kind, system, bath, coupling, dps, prec, dim, system_fingerprint
        Inputs, working precision (digits, bits), dimension, identity of the system.
    error : ErrorBudget
        Bound parts only: ``"quadrature"`` (Gauss-Legendre remainders on Bernstein ellipses),
        ``"tail"`` (analytic Gaussian tail), ``"arithmetic"`` (radii of the ball sums: rounding and
        the enclosures of the eigensystem and of the inputs).  ``error_bound`` is their total,
        a bound on every entry's ``|true - mid|``.
    info : dict
        Panels, Gauss nodes, U_cut, eigensystem method, time.
    """

    certified = True
    storage = "dense"

    def __init__(self, sup_balls, mid, rad, parts, kind, system, bath, coupling, dps, prec, ball_es, info):
        self._sup = sup_balls
        self._mid = mid
        self._rad = rad
        self.error = ErrorBudget(parts)
        self.kind, self.system, self.bath, self.coupling = kind, system, bath, coupling
        self.dps, self.prec = dps, prec
        self.ball_eigensystem = ball_es
        self.info = info
        self.system_fingerprint = system.fingerprint()
        self.ladder = getattr(system, "ladder", None)
        self.eigensystem = system.eigensystem()

    def __repr__(self):
        return (f"CertifiedMap(kind={self.kind!r}, d={self.dim}, dps={self.dps}, "
                f"error_bound={self.error_bound:.2e})")

    @property
    def dim(self) -> int:
        return len(self.ball_eigensystem.energies)

    @property
    def ball_radius(self) -> float:
        """Largest radius of the balls of :meth:`balls` (real + imaginary radius, rounded up): what the
        propagation in balls sees; ``error_bound`` adds the rounding of the float64 midpoints."""
        return float(self.info["ball_radius_max"])

    def balls(self):
        """The ``d^2 x d^2`` column-stacking superoperator as an acb_mat: ``sup[j' + d k', j + d k] = S^{jk}_{j'k'}``."""
        return acb_mat(self._sup)

    def energy_balls(self):
        """Eigenvalues of H (ascending) as arb balls: the basis of :meth:`balls`."""
        return list(self.ball_eigensystem.energies)

    def enclosure(self):
        """``(mid, rad)``: ``tensor[j', k', j, k]`` complex128 midpoints and float64 radii, ``|true - mid| <= rad``."""
        return self._mid.copy(), self._rad.copy()

    @property
    def tensor(self):
        """Float64 midpoints ``tensor[j', k', j, k]`` (see :meth:`enclosure` for their radii)."""
        return self._mid.copy()

    def superoperator(self):
        from ..conventions import tensor_to_superoperator

        return tensor_to_superoperator(self._mid)

    def rebuild(self, tol=None, dps=None):
        """The same map at another target radius ``tol`` and/or precision ``dps`` (default: 10 more digits)."""
        dps = self.dps + 10 if dps is None else dps
        return certified_collision_map(self.system, self.bath, self.coupling, self.kind, dps=dps, tol=tol)


def _check_inputs(system, bath, coupling, kind, dps, tol):
    if not isinstance(kind, str) or kind not in CERTIFIED_KINDS:
        raise ValueError(f"certified maps exist for kind in {CERTIFIED_KINDS} (got {kind!r})")
    check_model_objects(system, bath, coupling)
    if kind == "exact" and float(bath.sigma_p) == 0.0:
        raise ValueError("sigma_p = 0 is the narrow-packet limit (44): use kind='global' (or sigma_p > 0)")
    if kind == "local" and not isinstance(system, QubitChain):
        raise ValueError("kind='local' needs a QubitChain (it uses H(0) = H_loc)")
    _refuse_detuned(system)
    if system.dim > 16:
        raise ValueError(f"certified maps are limited to d <= 16 (N <= 4; got d = {system.dim}): the ball "
                         "accumulation costs O(d^4) per node in Python")
    if tol is not None and not (isinstance(tol, float) or isinstance(tol, int)) or (tol is not None and not 0 < tol <= 1e-3):
        raise ValueError(f"tol must be a float in (0, 1e-3] (got {tol!r})")
    if tol is not None and tol < 10.0 ** (-(dps - 3)):
        raise ValueError(f"tol={tol:.1e} is below what dps={dps} digits can reach (>= 1e-{dps - 3}); raise dps")


def _refuse_detuned(system):
    """Certified maps need a uniform chain: their exact SymPy energies are ``n h + eps lambda`` (issue 14)."""
    if isinstance(system, QubitChain) and not system.uniform:
        raise ValueError(
            f"certified maps support uniform chains only (one h), not the detuned {system.name}: their "
            "eigensystem is proven from the exact energies n h + eps lambda, which a detuned chain does not have; "
            "use certified=False (float64 or dps=...) for detuned chains")


def certified_collision_map(system, bath, coupling, kind="exact", dps=None, tol=None, progress=None) -> CertifiedMap:
    """Build a :class:`CertifiedMap` (see :func:`symcoll.collision_map` with ``certified=True``).

    Parameters
    ----------
    dps : int or None
        Working precision in digits (default :data:`DEFAULT_DPS` = 20; 15..200).
    tol : float or None
        Target for the quadrature + tail part of every entry's radius (default ``10^-(dps-5)``).
    """
    dps = DEFAULT_DPS if dps is None else dps
    if isinstance(dps, bool) or not isinstance(dps, (int, np.integer)):
        raise TypeError(f"dps must be an integer number of digits (got {dps!r})")
    _check_inputs(system, bath, coupling, kind, int(dps), tol)
    tol = default_tol(dps) if tol is None else float(tol)
    t0 = time.perf_counter()
    with precision(int(dps)) as prec:
        es = ball_eigensystem(system)
        m, g = to_arb(float(bath.m)), to_arb(float(coupling.g))
        beta, sig = to_arb(float(bath.beta)), to_arb(float(bath.sigma_p))
        if kind == "local":
            S_flat, Eq, tail, integ = _local_site(system, m, g, beta, sig, tol, progress)
            sup, Eq_full, tail_full = _local_full(system, es, coupling.site, S_flat, Eq, tail)
        else:
            V = np.asarray(coupling.operator(system), dtype=float)
            Vb = _to_eigenbasis(V, es.vectors)
            prob = _Problem(es.energies, es.exact_energies, Vb, m, g, beta, sig, narrow=(kind == "global"))
            integ = _Integrator(prob, None, tol, progress).run()
            S, Eq_full, tail_full = _finish(integ, prob, kind)
            sup = _flat_to_sup(S, es.dim)
        d = es.dim
        mid, rad_ball, brad = _sup_mid_rad(sup, d)
    # every radius already contains the quadrature remainder and the tail (added to the balls)
    rad = rad_ball
    quad = float(np.max(Eq_full, initial=0.0))
    export = float(np.max(rad_ball - brad, initial=0.0))
    # the parts add up to at least the largest enclosure radius: "arithmetic" is the remainder
    # (ball rounding and input enclosures, and the box around each remainder disk)
    arith = float(rad_ball.max()) - quad - tail_full - export
    arith = max(arith, 0.0) + 1e-9 * float(rad_ball.max())
    parts = {
        "quadrature": (quad, "bound", "Gauss-Legendre remainder (64/15) M rho^-2n/(rho^2-1) on Bernstein ellipses, "
                                      "M from ball evaluations covering each ellipse (largest entry)"),
        "tail": (tail_full, "bound", "analytic Gaussian tail beyond U_cut (|s| <= 1; certified.maps.tail_bound)"),
        "arithmetic": (arith + 1e-300, "bound",
                       "the rest of the largest enclosure radius: rounding of the Arb ball sums, enclosures of the "
                       "eigensystem and inputs, and the box around each remainder disk"),
        "float64 midpoint": (max(export, 0.0) * (1 + 1e-9) + 1e-300, "bound",
                             "rounding of each ball's midpoint to complex128 in enclosure() (the balls, balls(), "
                             "do not have it)"),
    }
    info = {"kind": kind, "dps": int(dps), "prec_bits": prec, "eigensystem": es.method, "time_s": time.perf_counter() - t0,
            "tol": tol}
    if kind != "local":
        info.update(panels=integ.panels_done, initial_panels=integ.n_initial, gauss_nodes=integ.nodes,
                    U_cut=float(integ.U.mid()))
    else:
        info.update(panels=integ.panels_done, gauss_nodes=integ.nodes, U_cut=float(integ.U.mid()))
    info["ball_radius_max"] = float(brad.max())
    cm = CertifiedMap(sup, mid, rad, parts, kind, system, bath, coupling, int(dps), prec, es, info)
    if float(brad.max()) > 10 * tol:
        warnings.warn(f"certified map: ball radius {float(brad.max()):.2e} exceeds 10 x tol = {10 * tol:.1e} "
                      "(the eigensystem or arithmetic radii dominate; raise dps)", RuntimeWarning, stacklevel=2)
    return cm


def _to_eigenbasis(V, U):
    """``U^T V U`` as an arb_mat (U real ball matrix, V an exact real matrix)."""
    d = V.shape[0]
    Vm = arb_mat(d, d)
    for i in range(d):
        for j in range(d):
            Vm[i, j] = to_arb(float(V[i, j]))
    return U.transpose() * Vm * U


def _finish(integ, prob, kind):
    """Add the quadrature remainders and the tail to the ball sums; zero outside the Bohr classes for (45)."""
    D = integ.D
    S = integ.S
    Eq = integ.Equad.copy()
    tail = upper_float(integ.tail)
    if kind == "global":
        same = prob.cls[:, None] == prob.cls[None, :]
    else:
        same = np.ones((D, D), dtype=bool)
    out = np.empty((D, D), dtype=object)
    for A in range(D):
        for B in range(D):
            if not same[A, B]:
                out[A, B] = acb(0)  # (45): exactly zero outside the class (selection rule (44))
                Eq[A, B] = 0.0
                continue
            e = Eq[A, B] + tail
            z = S[A, B]
            out[A, B] = acb(z.real + arb(0, e), z.imag + arb(0, e))
    return out, Eq, tail


def _flat_to_sup(S, d):
    """Pair matrix ``S[(j',j), (k',k)]`` -> column-stacking superoperator ``sup[j' + d k', j + d k]``."""
    D = d * d
    sup = acb_mat(D, D)
    for jp in range(d):
        for j in range(d):
            A = jp * d + j
            for kp in range(d):
                for k in range(d):
                    sup[jp + d * kp, j + d * k] = S[A, kp * d + k]
    return sup


def _tensor_from_flat(E, d):
    """Float pair matrix ``E[(j',j), (k',k)]`` -> ``tensor[j', k', j, k]``."""
    return E.reshape(d, d, d, d).transpose(0, 2, 1, 3)


def _sup_mid_rad(sup, d):
    """``(mid, rad, ball_rad)`` tensors ``[j', k', j, k]`` of a ball superoperator: float64 midpoints, radii
    about them (including their rounding), and the balls' own radii (``rad(re) + rad(im)``, rounded up)."""
    mid = np.empty((d, d, d, d), dtype=complex)
    rad = np.empty((d, d, d, d))
    brad = np.empty((d, d, d, d))
    for jp in range(d):
        for kp in range(d):
            for j in range(d):
                for k in range(d):
                    z = sup[jp + d * kp, j + d * k]
                    mid[jp, kp, j, k], rad[jp, kp, j, k] = ball_mid_rad(z)
                    brad[jp, kp, j, k] = upper_float(z.real.rad() + z.imag.rad())
    return mid, rad, brad


# ----------------------------------------------------------------------------- local (54)-(56)
def _local_site(chain, m, g, beta, sig, tol, progress):
    """The site-qubit map ``S_1`` of (54)-(56): (45) with H(0) of one qubit (levels 0, h) and V = sigma_x."""
    h = to_arb(float(chain.h))
    energies = [arb(0), h]
    V = np.array([[0.0, 1.0], [1.0, 0.0]])
    Vb = arb_mat([[0, 1], [1, 0]])
    prob = _Problem(energies, None, Vb, m, g, beta, sig, narrow=True)
    integ = _Integrator(prob, None, tol, progress).run()
    S, Eq, tail = _finish(integ, prob, "global")
    del V
    return S, Eq, tail, integ


def _local_full(chain, es, site, S1, Eq1, tail):
    """``S_1 (x) id`` on the chain in the local basis, rotated into the eigenbasis of H(eps) in balls.

    (54)-(56) act on the bombarded qubit only (V = sigma_x on ``site``, H(0) local), so in the local
    basis ``T[j',k',j,k] = S_1[a(j'),a(k'),a(j),a(k)] delta_{r(j') r(j)} delta_{r(k') r(k)}`` (a: the
    site's bit, r: the others).  With column stacking, ``sup_eig = (U^T (x) U^T) sup_loc (U (x) U)``
    for the real orthogonal U of :mod:`symcoll.certified.eigen`.
    """
    N, d = chain.N, chain.dim
    bit = N - site
    D = d * d
    sup_loc = acb_mat(D, D)
    Eloc = np.zeros((d, d, d, d))
    for jp in range(d):
        for j in range(d):
            if (jp & ~(1 << bit)) != (j & ~(1 << bit)):
                continue
            a_jp, a_j = (jp >> bit) & 1, (j >> bit) & 1
            for kp in range(d):
                for k in range(d):
                    if (kp & ~(1 << bit)) != (k & ~(1 << bit)):
                        continue
                    a_kp, a_k = (kp >> bit) & 1, (k >> bit) & 1
                    sup_loc[jp + d * kp, j + d * k] = S1[a_jp * 2 + a_j, a_kp * 2 + a_k]
                    Eloc[jp, kp, j, k] = Eq1[a_jp * 2 + a_j, a_kp * 2 + a_k] + tail
    U = es.vectors
    UU = acb_mat(D, D)
    for i1 in range(d):
        for j1 in range(d):
            u1 = U[i1, j1]
            if u1 == 0:
                continue
            for i2 in range(d):
                for j2 in range(d):
                    u2 = U[i2, j2]
                    if u2 == 0:
                        continue
                    UU[i1 * d + i2, j1 * d + j2] = u1 * u2
    # column stacking: vec(A rho B) = kron(B^T, A) vec(rho), so rho -> U^T rho U is kron(U, U)^T
    sup = UU.transpose() * sup_loc * UU
    # report the quadrature part of the site map (its entries' remainders; the rotation is exact in balls)
    return sup, Eq1, tail
