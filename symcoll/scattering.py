"""Scattering matrices of the delta interaction, Eqs. (C1)-(C2), for any system.

For a unit of mass m hitting a system with Hamiltonian H through ``g V delta(x)``
(Eq. (65)), matching the wave function at x = 0 (continuity, and the jump
``psi'(0+) - psi'(0-) = (2 m g / hbar^2) V psi(0)``) gives the transmitted
amplitudes ``t = (K + i m g V / hbar^2)^{-1} K`` and, after flux normalisation,

    s^(+)(E) = K^{1/2} [I + i (m g / hbar^2) K^{-1} V]^{-1} K^{-1/2}        (C1)
             = K^{1/2} (K + i m g V / hbar^2)^{-1} K^{1/2},
    s^(-)(E) = s^(+)(E) - I,                                                (C2)

with ``K = sqrt(2 m (E - H)) / hbar`` in the eigenbasis of H.  Closed channels
(``eps_j > E``) take the evanescent branch ``K_j = +i sqrt(2 m (eps_j - E))/hbar``
(decaying away from the scatterer) and are then dropped: s is restricted to the
open channels.  The second form is the one evaluated: it stays finite at
thresholds (``K_j -> 0``) where ``K^{-1}`` does not exist.

The same code runs in float64 (vectorised over energies) and in mpmath at any
precision (:mod:`symcoll.numeric`).
"""
from __future__ import annotations

import numpy as np

from .conventions import HBAR
from .model import _real_param, to_ctx
from .numeric import get_context


class Scattering:
    """s-matrices ``s^(+-)(E)`` (Eqs. (C1)-(C2)) in the eigenbasis of ``system``.

    Parameters
    ----------
    system : System or QubitChain
        Provides H and its eigenbasis (conventions of :mod:`symcoll.conventions`).
    coupling : DeltaCoupling
        Strength g and operator V of Eq. (65).
    m : float
        Mass of the incident units, ``m > 0``.
    dps : int or None
        ``None`` for float64; otherwise mpmath with ``dps >= 15`` digits.

    Notes
    -----
    All outputs are full ``d x d`` arrays with the rows and columns of closed
    channels set to zero, together with a boolean mask of open channels; this keeps
    them vectorised over energies.
    """

    def __init__(self, system, coupling, m, dps=None):
        self.ctx = get_context(dps)
        self.system = system
        self.coupling = coupling
        self.m_param = _real_param("m", m, positive=True)
        ctx = self.ctx
        es = system.eigensystem(dps)
        self.eig = es
        self.energies = es.energies
        U = es.vectors
        V = coupling.operator(system)
        if ctx.is_mp:
            Vc = ctx.array(V)
            Ud = ctx.conj(U).T
            self.V_eig = ctx.matmul(ctx.matmul(Ud, Vc), U)
        else:
            self.V_eig = U.conj().T @ V @ U
            if np.isrealobj(U):
                self.V_eig = np.real(self.V_eig)
        self.m = to_ctx(ctx, m)
        self.g = to_ctx(ctx, coupling.g)
        hbar = to_ctx(ctx, HBAR)
        self.hbar = hbar
        self.mg = self.m * self.g / (hbar * hbar)
        self.dim = len(self.energies)

    # ------------------------------------------------------------------ core (C1)
    def wave_numbers(self, E):
        """``K = sqrt(2 m (E - eps_j))/hbar`` (complex, evanescent branch when closed) and open mask."""
        ctx = self.ctx
        E = self._energies_array(E)
        X = 2 * self.m * (E[:, None] - self.energies[None, :])
        K = ctx.csqrt(X) / self.hbar
        if ctx.is_mp:
            is_open = np.frompyfunc(lambda x: x >= 0, 1, 1)(X).astype(bool)
        else:
            is_open = X >= 0
        return K, is_open

    def _energies_array(self, E):
        ctx = self.ctx
        if ctx.is_mp:
            E = np.atleast_1d(np.asarray(E, dtype=object))
            return np.frompyfunc(lambda x: to_ctx(ctx, x), 1, 1)(E)
        E = np.atleast_1d(np.asarray(E, dtype=float))
        if not np.all(np.isfinite(E)):
            raise ValueError("energies E must be finite")
        return E

    def s_plus(self, E):
        """Transmission matrices ``s^(+)(E)`` of Eq. (C1).

        Parameters
        ----------
        E : float or array (n,)
            Total energies.

        Returns
        -------
        s : array (n, d, d)
            ``s[i, k, j] = s^(+)_{kj}(E_i)``; zero in closed rows/columns.
        is_open : bool array (n, d)
        """
        ctx = self.ctx
        K, is_open = self.wave_numbers(E)
        n, d = K.shape
        # K^{1/2} on open channels; 0 on closed ones (their rows/columns are dropped).
        if ctx.is_mp:
            Kh = np.where(is_open, ctx.sqrt(ctx.real(K)), ctx.mp.mpf(0))
            A = np.empty((n, d, d), dtype=object)
            iV = self.V_eig * ctx.mpc(0, self.mg)
            for i in range(n):
                A[i] = iV.copy()
                for j in range(d):
                    A[i, j, j] = A[i, j, j] + K[i, j]
            B = np.zeros((n, d, d), dtype=object)
            B[...] = ctx.mp.mpf(0)
            for i in range(n):
                for j in range(d):
                    B[i, j, j] = Kh[i, j]
            Y = ctx.solve(A, B)
        else:
            Kh = np.where(is_open, np.sqrt(np.abs(K.real)), 0.0)
            A = np.broadcast_to(1j * self.mg * self.V_eig, (n, d, d)).copy()
            A[:, np.arange(d), np.arange(d)] += K
            B = np.zeros((n, d, d), dtype=complex)
            B[:, np.arange(d), np.arange(d)] = Kh
            Y = np.linalg.solve(A, B)
        s = Kh[:, :, None] * Y
        return s, is_open

    def s_minus(self, E):
        """Reflection matrices ``s^(-)(E) = s^(+)(E) - I`` on open channels (Eq. (C2))."""
        s, is_open = self.s_plus(E)
        d = s.shape[-1]
        sm = s.copy()
        idx = np.arange(d)
        one = self.ctx.mpf(1)
        sm[:, idx, idx] = np.where(is_open, s[:, idx, idx] - one, s[:, idx, idx])
        return sm, is_open

    def s_both(self, E):
        """``(s^(+), s^(-), is_open)`` at the energies E (one linear solve for both)."""
        s, is_open = self.s_plus(E)
        d = s.shape[-1]
        sm = s.copy()
        idx = np.arange(d)
        sm[:, idx, idx] = np.where(is_open, s[:, idx, idx] - self.ctx.mpf(1), s[:, idx, idx])
        return s, sm, is_open

    def open_block(self, E, alpha=+1):
        """``s^(alpha)(E)`` restricted to the open channels at a single energy E.

        Returns
        -------
        s : (n_open, n_open) array
        channels : int array of the open eigen-indices (ascending)
        """
        if np.ndim(E) != 0:
            raise ValueError("open_block takes a single energy E")
        if alpha not in (+1, -1):
            raise ValueError(f"alpha must be +1 (transmitted) or -1 (reflected) (got {alpha!r})")
        s, is_open = (self.s_plus if alpha == +1 else self.s_minus)(E)
        ch = np.flatnonzero(is_open[0])
        return s[0][np.ix_(ch, ch)], ch

    def flux_defect(self, E):
        """``max_j |sum_{k open, alpha} |s^(alpha)_{kj}|^2 - 1|`` over open j (flux unitarity)."""
        sp, sm, is_open = self.s_both(E)
        ctx = self.ctx
        p = ctx.real(sp * ctx.conj(sp)) + ctx.real(sm * ctx.conj(sm))
        col = p.sum(axis=1)
        defect = np.where(is_open, ctx.abs(col - 1) if ctx.is_mp else np.abs(col - 1), 0)
        return defect.max()
