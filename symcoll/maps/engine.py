"""What every map engine shares: the s-matrix rows (C1)-(C2) at the quadrature nodes, and panels.

An engine evaluates the E-variable integrand of one map on one panel of the adaptive
quadrature (:mod:`symcoll.maps.integrate`).  The exact engine (38) and the narrow-packet
engine (45)/(54)-(56) differ only in the weight and in how the node values are summed
(:meth:`_EngineBase._accumulate`); the rows of ``s^(+-)`` come from :meth:`_EngineBase.rows`,
solved with the one (C1) solver :func:`symcoll.scattering.c1_rows` or read off the
interpolation tables of :mod:`symcoll.interpolation`.
"""
from __future__ import annotations

import numpy as np

from ..conventions import HBAR
from ..model import to_ctx
from ..numeric import Tolerances
from ..quadrature import map_rule
from ..scattering import c1_rows, channel_wave_numbers
from .memory import _CHUNK_BYTES


class _EngineBase:
    """Quadrature of the E-variable integrand for one spectrum and coupling.

    Parameters
    ----------
    ctx : context
    energies : (d,) ctx numbers (degenerate groups already snapped to a common value)
    V_eig : (d, d) coupling operator in the eigenbasis of H
    m, g, beta, sigma_p : ctx numbers
    sel : int array or None
        Flat pair indices ``j' d + j`` whose entries are wanted (None: all); only the s-matrix
        rows of their outgoing channels j' are computed.

    Subclasses set ``size`` (length of the flat accumulator) and ``err_factor`` and provide
    :meth:`_accumulate`, :meth:`_node_bytes` and :meth:`finalize`.
    """

    narrow = False

    def __init__(self, ctx, energies, V_eig, m, g, beta, sigma_p, sel=None):
        self.ctx = ctx
        self.e = energies
        self.d = d = len(energies)
        self.D = d * d
        self.m, self.g, self.beta, self.sigma_p = m, g, beta, sigma_p
        self.hbar = to_ctx(ctx, HBAR)
        self.mg = m * g / (self.hbar * self.hbar)
        # thr[j', l] = eps_l - eps_j'  (channel l opens at E = thr[j', l] for outgoing j')
        self.thr = energies[None, :] - energies[:, None]
        thr_f = ctx.abs_float(self.thr)
        self.snap_tol = Tolerances(ctx.eps).bohr_equality(float(thr_f.max()) if d else 1.0, d)
        # (i m g V / hbar^2)^T: its solves give rows of (K + i m g V / hbar^2)^{-1} (C1)
        self.iVT = np.asarray(V_eig).T * ctx.mpc(0, self.mg)
        self.sel = None if sel is None else np.asarray(sel, dtype=int)
        # outgoing channels j' whose s-matrix rows are needed
        self.jps = list(range(d)) if sel is None else sorted({int(A) // d for A in self.sel})
        self._thr_rows = self.thr[self.jps]  # (J, d): thresholds of the needed rows
        self._row_index = np.asarray(self.jps)[:, None]  # one row of X per outgoing channel (c1_rows)
        self.evals = 0
        self.interp = None  # RowInterpolant (float64, narrow kinds) or None: direct solves

    # -- s-matrix rows (C1)-(C2) -------------------------------------------------------
    def rows(self, a, u):
        """``a^(+)[n, j', j]``, ``a^(-)[n, j', j]`` and ``Re K`` at energies ``E_n = a + u_n``.

        Row j' of ``s^(+)(E + eps_j') = K^{1/2} (K + i m g V)^{-1} K^{1/2}`` (Eq. (C1)) from
        one solve with the transposed matrix; ``s^(-) = s^(+) - I`` on open channels (C2).
        Rows of outgoing channels that are not needed (``sel``) are zero.
        """
        ctx = self.ctx
        d, n, jps = self.d, len(u), self.jps
        J = len(jps)
        # thresholds merged into the breakpoint a (within the Bohr tolerance) open exactly at a
        base = ctx.snap_small(a - self._thr_rows, self.snap_tol)  # (J, d): E + eps_j' - eps_l at u = 0
        X = (base[None, :, :] + u[:, None, None]) * (2 * self.m)  # (n, J, d)
        direct = self.interp is None
        K, ReK, Kh = channel_wave_numbers(ctx, X, self.hbar, complex_k=direct)
        if direct:
            x = c1_rows(ctx, K, self.iVT, self._row_index)[..., 0, :]  # (n, J, d)
        else:
            x = self.interp.rows_at(a, u, jps)
        r = np.arange(J)
        ap = Kh[:, r, jps][:, :, None] * x * Kh  # K_j'^{1/2} X_j'l K_l^{1/2}
        am = ap.copy()
        am[:, r, jps] = am[:, r, jps] - ctx.mpf(1)
        self.evals += n * J
        P = ReK * self.hbar
        if J < d:
            ap, am, P = (self._all_rows(y) for y in (ap, am, P))
        return ap, am, P

    def _all_rows(self, y):
        """``(n, J, d)`` rows of the needed channels -> ``(n, d, d)`` with zero rows elsewhere."""
        out = self.ctx.zeros((y.shape[0], self.d, self.d), complex=True)
        out[:, self.jps] = y
        return out

    # -- panels ------------------------------------------------------------------------
    def panel(self, a, b, t, W, left=True, right=True):
        """Rule ``(t, W)`` mapped onto ``[a, b]``: ``(2, size)`` sums (value, estimate) and scale.

        ``left``/``right``: whether the panel ends are channel thresholds (square-root kinks).
        """
        ctx = self.ctx
        u, Wn = map_rule(a, b, t, W, ctx, left, right)
        acc = None
        scale = 0.0
        nn = len(u)
        # number-type branch: float64 chunks bound the BLAS workspaces; mpmath panels are small
        chunk = nn if ctx.is_mp else max(1, min(nn, _CHUNK_BYTES // self._node_bytes()))
        for s0 in range(0, nn, chunk):
            uu, ww = u[s0:s0 + chunk], Wn[s0:s0 + chunk]
            ap, am, P = self.rows(a, uu)
            k = len(uu)
            Ap, Am, Pf = ap.reshape(k, self.D), am.reshape(k, self.D), P.reshape(k, self.D)
            acc, sc = self._accumulate(Pf, Ap, Am, ww, acc)
            scale += sc
        return acc, scale

    def _node_bytes(self):
        """float64 workspace per quadrature node: the rows, and the (C1) solve batch unless interpolated."""
        return self.D * 96 + (0 if self.interp is not None else self.d**3 * 32)
