"""Piecewise Chebyshev interpolation of the s-matrix rows (C1) in the total energy.

The narrow-packet maps (45) (kinds "global" and "local") need, at every quadrature node
``E`` (outgoing kinetic energy, Appendix B) and for every outgoing channel j', row j' of

    X(T) = (K(T) + i m g V / hbar^2)^{-1},       K(T) = sqrt(2 m (T - H)) / hbar,      (C1)

at the total energy ``T = E + eps_j'``; then ``s^(+)_{j'l} = K_j'^{1/2} X_{j'l} K_l^{1/2}``
and ``s^(-) = s^(+) - I`` (C2).  Solving for each row directly costs d solves of size d
per node (``d^4``).  ``X`` depends on T alone, and is analytic in T except for
square-root branch points at the levels ``T = eps_l`` (channel thresholds); next to the real
axis it can have poles (Feshbach resonances, :func:`resonance_poles`) around which it varies
on the scale of their distance to the axis.  So it is tabulated once, on panels between
consecutive *distinct* levels, and every row at every node is read off an interpolant:

* panels: the levels (degenerate groups snapped to one value) and a truncation point
  ``T_max = E_max + eps_max``, graded geometrically toward neighbouring levels and toward the
  resonance poles (:func:`symcoll.quadrature.graded_panels`);
* variable: ``T = a + L sin^2(pi tau / 2)`` on a panel with a level at both ends
  (``sqrt(T - a) = sqrt(L) sin`` and ``sqrt(b - T) = sqrt(L) cos`` are analytic in tau),
  ``a + L tau^2`` / ``b - L (1 - tau)^2`` with one, linear with none: X is analytic in tau;
* interpolant: values at the n + 1 Chebyshev points of the second kind, evaluated with
  the barycentric formula; n = 16, 32, 64, then the panel is bisected;
* error *estimate*: the interpolant is compared with a direct solve at the n midpoints
  between its nodes (the points where the leading aliasing term ``T_{n+1} - T_{n-1}``
  of the interpolation error is extremal), in the scaled form
  ``sqrt(Re K_j') |X_interp - X|_{j'l} sqrt(Re K_l)`` that enters ``s^(+-)``.  Only the
  rows ``j'`` with ``eps_j' <= T`` (those that are ever queried there) are stored.
  A panel is accepted below the row budget or below its rounding noise: ``64 eps`` or, next to
  a resonance where the solves are ill-conditioned, the first-order estimate
  :meth:`RowInterpolant._rounding` (bisection cannot reduce noise; without this floor such
  panels were bisected down to depth 30 over the whole noisy region).

Float64 only (the mpmath path solves directly).  The propagation of the row error into
the map entries is done by :meth:`RowInterpolant.entry_error`.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .numeric import FloatContext
from .quadrature import graded_panels
from .scattering import c1_rows, channel_wave_numbers

__all__ = ["RowInterpolant", "DEGREES", "resonance_poles"]

DEGREES = (16, 32, 64)
"""Chebyshev degrees tried on a panel before it is bisected."""

_MAX_DEPTH = 30

_FLOAT64 = FloatContext()

NOISE_FACTOR = 8.0
"""Safety factor on the first-order rounding estimate :meth:`RowInterpolant._rounding` when it is
used as the acceptance floor of a panel."""

BISECTION_BUDGET = 64
"""At most this many bisections per initial panel (then panels are accepted unresolved, their
error estimates still enter :meth:`RowInterpolant.entry_error`)."""


@lru_cache(maxsize=None)
def _cheb_points(n):
    """Chebyshev points of the second kind on [0, 1] (ascending) and barycentric weights (cached: read only)."""
    k = np.arange(n + 1)
    t = (1 - np.cos(np.pi * k / n)) / 2
    w = (-1.0) ** k
    w[0] *= 0.5
    w[-1] *= 0.5
    return t, w


def _midpoints(n):
    """The n points of the degree-2n grid that are not in the degree-n grid."""
    k = np.arange(n)
    return (1 - np.cos(np.pi * (2 * k + 1) / (2 * n))) / 2


def _bary_matrix(tau, n):
    """``B[q, k]`` with ``p(tau_q) = sum_k B[q, k] f_k`` for the degree-n Chebyshev interpolant."""
    t, w = _cheb_points(n)
    diff = tau[:, None] - t[None, :]
    exact = np.abs(diff) <= 1e-15
    hit = exact.any(axis=1)
    diff[exact] = 1.0
    c = w[None, :] / diff
    B = c / c.sum(axis=1, keepdims=True)
    if hit.any():
        B[hit] = exact[hit].astype(float)
    return B


def _levels(e, snap_tol):
    """Distinct levels of the sorted energies (gaps <= snap_tol merged into the lower level)."""
    es = np.sort(np.asarray(e, dtype=float))
    lev = [es[0]]
    for x in es[1:]:
        if x - lev[-1] > snap_tol:
            lev.append(x)
    return np.array(lev)


def resonance_poles(energies, iVT, m, hbar, snap_tol):
    """Poles of ``X(T) = (K(T) + i m g V / hbar^2)^{-1}`` (Eq. (C1)) next to the real T axis.

    Between two consecutive levels ``lo < T < hi`` the channels with ``eps_l >= hi`` are closed,
    ``K_l = i kappa_l``, ``kappa_l = sqrt(2 m (eps_l - T)) / hbar``, and the closed-closed block
    of ``K + i m g V / hbar^2`` is ``i A(T)`` with the Hermitian

        A(T) = diag(kappa_l) + (m g / hbar^2) V_cc,      dA/dT = -diag(m / (hbar^2 kappa_l)) < 0.

    Every eigenvalue of A decreases strictly with T, so it crosses zero at most once in
    ``(lo, hi)``: there the closed channels alone have a bound state.  The crossings are
    counted exactly by the number of negative eigenvalues at both ends and located by Brent's
    method.  Coupled to the open channels, such a bound state is a Feshbach resonance: a pole
    of X at ``T_r - i gamma`` on the sheet reached from the physical real axis (open-channel
    ``K_l = sqrt(2 m (T - eps_l)) / hbar`` continued to Im T < 0), with gamma of second order
    in the coupling.  It is found by Newton's method on ``log det(K + i m g V / hbar^2)``,
    ``d/dT log det = tr((K + i m g V / hbar^2)^{-1} dK/dT)``, ``dK_l/dT = m / (hbar^2 K_l)``,
    started at the real crossing.  On the real axis the rows of X and s^(+-) then vary on the
    scale gamma (Lorentzian/Fano profile), which can be arbitrarily small: e.g. N = 2, h = 90,
    eps = 0.1, m = beta = 0.1, g = 50 has one pole at T = 2.146385 - 6.6e-5 i.

    Parameters
    ----------
    energies : (d,) float
        Levels of H (degenerate groups snapped to one value).
    iVT : (d, d) complex
        ``i m g V^T / hbar^2`` (the matrix of the direct solve).
    m, hbar : float
    snap_tol : float
        Two levels closer than this are one level.

    Returns
    -------
    list of ``(T_r, gamma)``
        ``gamma >= 0`` the distance of the pole below the axis (0, to rounding, for a bound state
        that V does not couple to the open channels: a real pole with no residue in their rows);
        ``gamma = inf`` when Newton's method did not converge to a pole with real part in
        ``(lo, hi)`` (then ``T_r`` is the real crossing of the closed-channel bound state and the
        width is unknown).
    """
    from scipy.optimize import brentq

    e = np.asarray(energies, dtype=float)
    mgV = np.asarray(-1j * np.asarray(iVT, dtype=complex)).T  # (m g / hbar^2) V, Hermitian
    mgV = (mgV + mgV.conj().T) / 2
    m, hbar = float(m), float(hbar)
    lev = _levels(e, snap_tol)
    out = []
    for lo, hi in zip(lev[:-1], lev[1:]):
        closed = np.flatnonzero(e >= hi - snap_tol)
        opened = np.flatnonzero(e < hi - snap_tol)
        Vcc = mgV[np.ix_(closed, closed)]
        ec = e[closed]

        def eig(T, Vcc=Vcc, ec=ec):
            A = Vcc + np.diag(np.sqrt(2 * m * np.maximum(ec - T, 0.0)) / hbar)
            return np.linalg.eigvalsh(A)

        # eigenvalues within rounding of 0 count as >= 0 (e.g. channels of the level hi that V does
        # not couple to each other give A(hi) a zero eigenvalue: a threshold state, not a resonance)
        ev_lo = eig(lo)
        zero = 64 * len(closed) * np.finfo(float).eps * max(1.0, float(np.max(np.abs(ev_lo))))
        n_lo = int(np.sum(ev_lo < -zero))
        n_hi = int(np.sum(eig(hi) < -zero))
        for k in range(n_lo, n_hi):  # eigenvalue k (ascending) crosses zero in (lo, hi)
            f = lambda T, k=k: eig(T)[k]  # noqa: E731
            if not f(lo) > 0:
                continue  # zero at the threshold lo itself (graded toward already)
            Tb = brentq(f, lo, hi, xtol=1e-14 * max(1.0, abs(hi)), rtol=1e-15)
            if lo + snap_tol < Tb < hi - snap_tol:
                out.append(_newton_pole(e, mgV, m, hbar, opened, closed, Tb, lo, hi))
    return out


def _newton_pole(e, mgV, m, hbar, opened, closed, Tb, lo, hi, maxit=60):
    """Newton's method for the complex pole of :func:`resonance_poles` started at the real ``Tb``."""
    d = len(e)
    M0 = 1j * mgV
    idx = np.arange(d)
    T = complex(Tb)
    for _ in range(maxit):
        K = np.empty(d, dtype=complex)
        K[opened] = np.sqrt(2 * m * (T - e[opened]) + 0j) / hbar
        K[closed] = 1j * np.sqrt(2 * m * (e[closed] - T) + 0j) / hbar
        M = M0.copy()
        M[idx, idx] += K
        try:
            tr = np.trace(np.linalg.solve(M, np.diag(m / (hbar * hbar * K))))
        except np.linalg.LinAlgError:
            return (float(T.real), 0.0)  # exactly on the pole (a bound state in the continuum)
        if tr == 0 or not np.isfinite(tr):
            break
        step = 1 / tr
        T = T - step
        if not (lo < T.real < hi):
            break
        if abs(step) <= 1e-13 * max(1.0, abs(T)):
            # no pole above the physical axis: a positive Im T is rounding (a decoupled bound state)
            if T.imag <= 16 * np.finfo(float).eps * abs(T):
                return (float(T.real), max(float(-T.imag), 0.0))
            break
    return (float(Tb), math.inf)


class _Panel:
    __slots__ = ("a", "b", "sl", "sr", "level", "rows", "n", "vals", "est", "est_z", "depth", "released")

    def __init__(self, a, b, sl, sr, level, depth=0):
        self.a, self.b, self.sl, self.sr = a, b, sl, sr
        self.level = level  # index of the level panel [lev[level], lev[level + 1]] it lies in
        self.rows = None
        self.n = 0
        self.vals = None  # (n_rows, n + 1, d): rows of X at the Chebyshev points
        self.est = 0.0
        self.est_z = 0.0  # unscaled-in-l row error (exact map (38), see RowInterpolant._build)
        self.depth = depth
        self.released = False

    # offsets of T from the panel ends, from tau (exact to rounding near both ends)
    def offsets(self, tau):
        L = self.b - self.a
        if self.sl and self.sr:
            s, c = np.sin(np.pi * tau / 2), np.cos(np.pi * tau / 2)
            return L * s * s, L * c * c
        if self.sl:
            return L * tau * tau, L * (1 - tau) * (1 + tau)
        if self.sr:
            return L * tau * (2 - tau), L * (1 - tau) ** 2
        return L * tau, L * (1 - tau)

    def tau(self, dlo, dhi):
        """Inverse of :meth:`offsets` (``dlo = T - a``, ``dhi = b - T``), clipped to [0, 1]."""
        L = self.b - self.a
        dlo = np.clip(dlo, 0.0, L)
        dhi = np.clip(dhi, 0.0, L)
        if self.sl and self.sr:
            lo = dlo <= dhi
            t = np.where(lo, (2 / np.pi) * np.arcsin(np.sqrt(dlo / L)),
                         1 - (2 / np.pi) * np.arcsin(np.sqrt(dhi / L)))
        elif self.sl:
            t = np.sqrt(dlo / L)
        elif self.sr:
            t = 1 - np.sqrt(dhi / L)
        else:
            t = dlo / L
        return np.clip(t, 0.0, 1.0)


class RowInterpolant:
    """Rows of ``X(T) = (K(T) + i m g V)^{-1}`` (Eq. (C1)) from piecewise Chebyshev interpolants.

    Parameters
    ----------
    energies : (d,) float
        Energies of H (degenerate groups already snapped to one value).
    iVT : (d, d) complex
        ``i m g V^T / hbar^2`` in the eigenbasis of H (the matrix of the direct solve).
    m, hbar : float
    snap_tol : float
        Two levels closer than this are one level (the Bohr-equality tolerance of the maps).
    T_max : float
        Largest total energy queried (``E_max + max(energies)``).
    weight : callable ``(t_lo, t_hi) -> float``
        Bound on ``int_{t_lo}^{t_hi}`` of the map's weight in the total-energy variable
        (used to turn row errors into entry errors).
    tol_rows : float
        Target for the summed entry error :meth:`entry_error`.
    poles : list of ``(T_r, gamma)`` or None
        Near-real poles of X (:func:`resonance_poles`; computed when None): the panels are
        graded toward them (:func:`symcoll.quadrature.graded_panels`).
    """

    def __init__(self, energies, iVT, m, hbar, snap_tol, T_max, weight, tol_rows, poles=None):
        e = np.asarray(energies, dtype=float)
        self.e = e
        self.d = d = len(e)
        self.iVT = np.asarray(iVT, dtype=complex)
        self.m, self.hbar = float(m), float(hbar)
        self.snap_tol = float(snap_tol)
        self.levels = lev = _levels(e, snap_tol)
        # level index of every channel (rows j' with level index <= i are queried on panel i)
        self.level_of = np.clip(np.searchsorted(self.levels, e + snap_tol, side="right") - 1, 0, len(lev) - 1)
        rel = [float(x - lev[0]) for x in lev]
        T_max = max(float(T_max), float(lev[-1]) + 1.0)
        self.T_max = T_max
        self.panels = []
        if poles is None:
            poles = resonance_poles(e, iVT, m, hbar, snap_tol)
        rel_poles = [(t - lev[0], gam) for t, gam in poles if lev[0] < t < T_max]
        for a, b, sl, sr in graded_panels(rel, T_max - lev[0], n_singular=len(rel), poles=rel_poles):
            a, b = a + lev[0], b + lev[0]
            i = int(np.searchsorted(self.levels, a + snap_tol, side="right") - 1)
            self.panels.append(_Panel(a, b, sl, sr, i))
        # panels of each level panel (sorted), for the lookup of a query
        self._by_level = {}
        for p in self.panels:
            self._by_level.setdefault(p.level, []).append(p)
        self.weight = weight
        mass = sum(weight(p.a, p.b) for p in self.panels)
        self.mass = max(mass, 1e-300)
        self.tol_rows = float(tol_rows)
        # per-panel acceptance on the scaled row error: sum_P C * weight(P) * est_P <= tol_rows
        self.threshold = self.tol_rows / (self.ENTRY_FACTOR * self.mass)
        self.solves = 0
        self.built = 0
        self.bisections = 0
        self.unresolved = 0
        self.max_bisections = BISECTION_BUDGET * len(self.panels)
        self.live_bytes = 0
        self.peak_bytes = 0
        self.max_degree = 0
        self._err_sum = 0.0
        self._est_max = 0.0

    ENTRY_FACTOR = 12.0
    """Entry error <= ENTRY_FACTOR * sum_P weight(P) * est_P: factor 6 from
    ``|d(sum_alpha a_A a_B^*)| <= 3 |da_A| + 3 |da_B|`` (``|s^(+)| <= 2``, ``|s^(-)| <= 1``,
    ``da^(+) = da^(-)``; both factors' rows cross every panel once), times 2 for taking the
    maximum over sampled midpoints as the maximum over the panel."""

    # -- direct solves -------------------------------------------------------------------
    def _solve(self, p, tau, rows):
        """Rows ``rows`` of X at the points tau of panel p: ``(len(rows), len(tau), d)`` and ``sqrt(Re K)``."""
        dlo, dhi = p.offsets(tau)
        lo_end = self.e <= (p.a + p.b) / 2
        # T - e_l from the nearer panel end; ends that are levels are exact offsets
        base_lo = p.a - self.e
        base_lo = np.where(np.abs(base_lo) <= self.snap_tol, 0.0, base_lo)
        base_hi = p.b - self.e
        base_hi = np.where(np.abs(base_hi) <= self.snap_tol, 0.0, base_hi)
        z = np.where(lo_end[None, :], base_lo[None, :] + dlo[:, None], base_hi[None, :] - dhi[:, None])
        K, _, Kh = channel_wave_numbers(_FLOAT64, 2 * self.m * z, self.hbar)
        x = c1_rows(_FLOAT64, K, self.iVT, rows)  # (t, r, l): rows of X at every tau
        self.solves += len(tau)
        A = np.broadcast_to(np.abs(self.iVT), (len(tau), self.d, self.d)).copy()  # |M|, M = K + i m g V^T (C1)
        idx = np.arange(self.d)
        A[:, idx, idx] = np.abs(self.iVT[idx, idx][None, :] + K)
        nM = np.sqrt(A.sum(axis=1).max(axis=1) * A.sum(axis=2).max(axis=1))  # >= ||M||_2 per point
        return x.transpose(1, 0, 2), Kh, nM

    def _rounding(self, vm, Kh, nM, rows):
        """First-order estimate of the rounding noise of the scaled rows at the check points.

        A backward-stable solve returns ``X`` of ``M + dM``, ``|dM| ~ eps |M|``, so
        ``dX_{j'l} = -(X dM X)_{j'l}`` and ``|dX_{j'l}| <~ eps ||X_{j',:}|| ||M||_2 ||X_{:,l}||``.
        Only open channels l enter (the scaling ``sqrt(Re K_l)`` vanishes on closed ones) and they
        are the rows computed; ``||X_{:,l}|| = ||X_{l,:}||`` for a real symmetric V (X = X^T),
        otherwise the row norm stands in for the column norm.  Near a resonance pole
        (:func:`resonance_poles`) ``||X||`` is large and this noise exceeds the fixed floor
        ``64 eps``; there it is what the interpolation error estimate measures (checked at N = 2,
        h = 90: measured estimate / this noise between 0.4 and 2.3 at degrees 32 and 64).
        """
        if not rows.size:
            return 0.0
        rn = np.linalg.norm(vm, axis=2) * Kh[:, rows].T  # (r, q): ||X_{j',:}|| sqrt(Re K_j')
        return float(np.finfo(float).eps * np.max(nM * rn.max(axis=0) ** 2))

    def _build(self, p):
        rows = np.flatnonzero(self.level_of <= p.level)
        n = DEGREES[0]
        t, _ = _cheb_points(n)
        vals = self._solve(p, t, rows)[0]
        while True:
            tm = _midpoints(n)
            vm, Kh, nM = self._solve(p, tm, rows)
            B = _bary_matrix(tm, n)
            approx = np.matmul(B[None], vals)  # (r, q, l)
            scale = Kh[:, rows].T[:, :, None] * Kh[None, :, :]  # (r, q, l): sqrt(Re K_j' Re K_l)
            err = np.abs(approx - vm)
            est = 2.0 * float(np.max(err * scale)) if rows.size else 0.0
            # the exact map (38) reads Z = sqrt(Re K_j') X_j'l on open channels l (no sqrt(Re K_l)):
            # its error estimate, same sampling (twice the largest error at the check midpoints)
            zscale = Kh[:, rows].T[:, :, None] * (Kh[None, :, :] > 0)
            est_z = 2.0 * float(np.max(err * zscale)) if rows.size else 0.0
            amax = float(np.max(np.abs(vm) * scale)) if rows.size else 0.0
            # rounding plateau (measured noise of the direct solves: ~2 eps, N = 6), or the
            # conditioning-driven noise next to a resonance pole (bisection cannot reduce either)
            floor = max(64 * np.finfo(float).eps * max(amax, 1.0),
                        NOISE_FACTOR * self._rounding(vm, Kh, nM, rows))
            if est <= max(self.threshold, floor):
                break
            if n < DEGREES[-1]:
                # nested grids: the degree-2n points are the degree-n points and the midpoints
                new = np.empty((len(rows), 2 * n + 1, self.d), dtype=complex)
                new[:, 0::2] = vals
                new[:, 1::2] = vm
                vals, n = new, 2 * n
                continue
            if p.depth >= _MAX_DEPTH or self.bisections >= self.max_bisections:
                self.unresolved += 1
                break  # accepted unresolved; its estimate still enters entry_error
            return self._bisect(p)
        p.rows, p.n, p.vals, p.est, p.est_z = rows, n, vals, est, est_z
        self.built += 1
        self.max_degree = max(self.max_degree, n)
        self.live_bytes += vals.nbytes
        self.peak_bytes = max(self.peak_bytes, self.live_bytes)
        self._err_sum += self.ENTRY_FACTOR * self.weight(p.a, p.b) * est
        self._est_max = max(self._est_max, est)
        return [p]

    def _bisect(self, p):
        """Replace p by its two halves (built) in the panel lists."""
        self.bisections += 1
        mid = (p.a + p.b) / 2
        halves = [_Panel(p.a, mid, p.sl, False, p.level, p.depth + 1),
                  _Panel(mid, p.b, False, p.sr, p.level, p.depth + 1)]
        lst = self._by_level[p.level]
        k = lst.index(p)
        lst[k:k + 1] = halves
        k = self.panels.index(p)
        self.panels[k:k + 1] = halves
        out = []
        for h in halves:
            out.extend(self._build(h))
        return out

    def release_below(self, t):
        """Free the tables of panels that end below total energy t (never queried again)."""
        for p in self.panels:
            if p.vals is not None and p.b < t - self.snap_tol:
                self.live_bytes -= p.vals.nbytes
                p.vals = None
                p.released = True

    # -- queries -------------------------------------------------------------------------
    def rows_at(self, a, u, jps, err=None):
        """``x[n, r, l] = X(a + u_n + eps_{jps[r]})_{jps[r], l}``: rows at the nodes of an E-panel.

        ``a`` is the panel start in the outgoing kinetic energy, ``u`` the node offsets.
        ``err``: optional ``(n, len(jps))`` float array, filled with the ``est_z`` of the panel each
        row is read from (estimate of ``max_l sqrt(Re K_j') |X_interp - X|_{j'l}`` over open l).
        """
        d = self.d
        n = len(u)
        jps = np.asarray(jps, dtype=int)
        x = np.zeros((n, len(jps), d), dtype=complex)
        if n == 0:
            return x
        self.release_below(a + self.levels[0])
        ej = self.e[jps]
        umid = float(np.mean(u))
        # level panel of each row (the whole E-panel maps inside one level panel per row)
        lev_r = np.maximum(np.searchsorted(self.levels, a + ej + umid, side="right") - 1, 0)
        b0 = a + ej - self.levels[lev_r]  # offset of the E-panel start from the level below
        b0 = np.where(np.abs(b0) <= self.snap_tol, 0.0, b0)  # exact at this row's own threshold
        off = b0[None, :] + u[:, None]  # (n, R): T - level
        for i in np.unique(lev_r):
            rsel = np.flatnonzero(lev_r == i)
            lst = self._by_level[int(i)]
            starts = np.array([p.a for p in lst]) - self.levels[i]
            o = off[:, rsel]
            which = np.clip(np.searchsorted(starts, o, side="right") - 1, 0, len(lst) - 1)
            for k in np.unique(which):
                p = lst[int(k)]
                if p.vals is None:  # first query (or queried again after release): build
                    if self._build(p)[0] is not p:  # bisected: redo the lookup with the new panels
                        return self.rows_at(a, u, jps, err)
                nn, rr = np.nonzero(which == k)
                oq = o[nn, rr]
                lo = p.a - self.levels[i]
                tau = p.tau(oq - lo, (p.b - self.levels[i]) - oq)
                ur, rpos = np.unique(rr, return_inverse=True)
                B = np.zeros((len(ur), n, p.n + 1))  # zero weights: nodes of these rows in other panels
                B[rpos, nn] = _bary_matrix(tau, p.n)
                vals = p.vals[np.searchsorted(p.rows, jps[rsel[ur]])]  # (R_p, n + 1, d)
                x[:, rsel[ur], :] += np.matmul(B, vals).transpose(1, 0, 2)
                if err is not None:
                    err[nn, rsel[rr]] = p.est_z
        return x

    # -- error ---------------------------------------------------------------------------
    def entry_error(self):
        """Estimate of the largest entry error of the map caused by interpolation.

        ``ENTRY_FACTOR * sum_P weight(P) * est_P`` over the panels built, where est_P is twice
        the largest scaled row error at the check midpoints (an *estimate*: a sampled maximum).
        """
        return self._err_sum

    def stats(self):
        return {"interp_panels": self.built, "interp_solves": self.solves, "interp_bisections": self.bisections,
                "interp_unresolved": self.unresolved,
                "interp_max_degree": self.max_degree, "interp_peak_MiB": self.peak_bytes / 2**20,
                "interp_max_row_error": self._est_max, "interp_levels": len(self.levels)}

    def workspace_bytes(self):
        """Build workspace: a batch of up to 2 * 64 + 1 solves of size d (matrix, LU copy, rows)."""
        return int((2 * DEGREES[-1] + 1) * 3 * self.d * self.d * 16)

    def table_bytes(self):
        """Estimate of the table memory: every panel, with all its rows, at degree 32.

        Degree 32 is where most panels settle at tol 1e-12 (degree 64 is rare); panels are
        released once the quadrature has passed them, so not all are live at once.  Not a
        rigorous bound: the tests and benchmarks check it against the tracemalloc peak
        (N = 5, 7, 8: 612 MiB / 1.44 GiB and 3.98 / 5.09 GiB for N = 7, 8).
        """
        per_row = (DEGREES[1] + 1) * self.d * 16
        return int(sum(int(np.sum(self.level_of <= p.level)) * per_row for p in self.panels))
