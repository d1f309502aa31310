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

The solve of (C1) is written once, :func:`c1_rows` (rows of ``(K + i m g V / hbar^2)^{-1}``
batched over energies, with the wave numbers of :func:`channel_wave_numbers`); the class
:class:`Scattering`, the map engines (:mod:`symcoll.maps`) and the interpolation tables
(:mod:`symcoll.interpolation`) call it.  The same code runs in float64 (vectorised over
energies, batched LAPACK) and in mpmath at any precision (:mod:`symcoll.numeric`).
"""
from __future__ import annotations

import numpy as np

from .conventions import HBAR
from .model import _real_param, to_ctx
from .numeric import get_context


def to_eigenbasis(ctx, V, U):
    """``U^dagger V U`` in the context's numbers (real when U and V are real float64 arrays)."""
    Vc = ctx.array(V) if ctx.is_mp else np.asarray(V)  # number-type branch: mpmath needs its own numbers
    out = ctx.matmul(ctx.matmul(ctx.conj(U).T, Vc), U)
    if not ctx.is_mp and np.isrealobj(U) and np.isrealobj(Vc):
        out = np.real(out)
    return out


def channel_wave_numbers(ctx, X, hbar, complex_k=True):
    """Wave numbers of the channels, ``X = 2 m (T - eps_l)`` (any shape), for (C1).

    Returns ``(K, ReK, Kh)``: ``K = sqrt(X) / hbar`` with the evanescent branch
    ``+i sqrt(|X|) / hbar`` on closed channels (``X < 0``; None unless ``complex_k``),
    ``ReK = Re K`` on open channels (``X > 0``) and 0 on the others, and the flux factor
    ``Kh = K^{1/2} = sqrt(ReK)`` (0 on closed channels and at thresholds).
    """
    ReK = ctx.sqrt(np.where(X > 0, X, ctx.mpf(0))) / hbar
    K = ctx.csqrt(X) / hbar if complex_k else None
    return K, ReK, ctx.sqrt(ReK)


def c1_rows(ctx, K, iVT, rows):
    """Rows of ``X = (K + i m g V / hbar^2)^{-1}``, the matrix inside (C1), batched over energies.

    ``s^(+) = K^{1/2} X K^{1/2}`` (C1); row j of X solves ``(K + i m g V / hbar^2)^T x = e_j``.

    Parameters
    ----------
    ctx : context (:mod:`symcoll.numeric`)
    K : (..., d) array
        Diagonal of K at each energy of the batch (:func:`channel_wave_numbers`).
    iVT : (d, d) array
        ``(i m g V / hbar^2)^T`` in the eigenbasis of H (transposed: its solves give rows of X).
    rows : int array (..., r)
        Rows of X wanted at each energy (broadcast against ``K.shape[:-1]``).

    Returns
    -------
    x : (..., r, d) array
        ``x[..., q, l] = X_{rows[..., q], l}``.

    Notes
    -----
    One factorisation per energy for all its requested rows: ``ctx.solve`` is LAPACK's batched
    ``gesv`` in float64 and Gaussian elimination (:func:`symcoll.numeric.gauss_solve`) in mpmath.
    """
    K = np.asarray(K)
    d = K.shape[-1]
    rows = np.asarray(rows, dtype=int)
    lead = np.broadcast_shapes(K.shape[:-1], rows.shape[:-1])
    M = np.broadcast_to(iVT, lead + (d, d)).copy()
    idx = np.arange(d)
    M[..., idx, idx] += np.broadcast_to(K, lead + (d,))
    eye = ctx.eye(d, complex=True)
    rhs = np.broadcast_to(eye[rows], lead + (rows.shape[-1], d))
    return np.swapaxes(ctx.solve(M, np.swapaxes(rhs, -1, -2)), -1, -2)


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
        self.V_eig = to_eigenbasis(ctx, V, U)
        self.m = to_ctx(ctx, m)
        self.g = to_ctx(ctx, coupling.g)
        hbar = to_ctx(ctx, HBAR)
        self.hbar = hbar
        self.mg = self.m * self.g / (hbar * hbar)
        self.iVT = (self.V_eig * ctx.mpc(0, self.mg)).T  # (i m g V / hbar^2)^T of (C1)
        self.dim = len(self.energies)

    # ------------------------------------------------------------------ core (C1)
    def wave_numbers(self, E):
        """``K = sqrt(2 m (E - eps_j))/hbar`` (complex, evanescent branch when closed) and open mask."""
        E = self._energies_array(E)
        X = 2 * self.m * (E[:, None] - self.energies[None, :])
        K, _, _ = channel_wave_numbers(self.ctx, X, self.hbar)
        return K, X >= 0

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
        E = self._energies_array(E)
        X = 2 * self.m * (E[:, None] - self.energies[None, :])
        K, _, Kh = channel_wave_numbers(ctx, X, self.hbar)
        is_open = X >= 0
        d = K.shape[-1]
        x = c1_rows(ctx, K, self.iVT, np.arange(d))  # (n, d, d): X at every energy
        s = Kh[:, :, None] * x * Kh[:, None, :]
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
        defect = np.where(is_open, ctx.abs(col - 1), 0)
        return defect.max()
