"""The exact engine: the E-variable integrand of Eq. (38) with the Gaussian incident state (41)."""
from __future__ import annotations

import math

import numpy as np

from ..numeric import Tolerances
from .engine import _EngineBase
from .spectrum import _cluster_sorted


class ExactEngine(_EngineBase):
    """Engine for the exact kinds (38) ("exact", "exact_h0" and :func:`exact_entries`).

    The weight ``w(p, q)`` of (38) depends on a pair of pairs only through their Bohr
    frequencies, so the (selected) pairs are grouped into Bohr classes once (``xmembers``).
    """

    def __init__(self, ctx, energies, V_eig, m, g, beta, sigma_p, sel=None):
        super().__init__(ctx, energies, V_eig, m, g, beta, sigma_p, sel)
        nsel = self.D if sel is None else len(self.sel)
        self.size = nsel * nsel
        # Bohr classes of the (selected) pairs: the weight depends on a pair only through Delta
        sel_idx = np.arange(self.D) if sel is None else self.sel
        delta = (energies[:, None] - energies[None, :]).reshape(-1)[sel_idx]
        ef = ctx.float_array(energies)
        tolb = Tolerances(ctx.eps).bohr_equality(float(np.max(np.abs(ef))) if self.d else 1.0, self.d)
        groups, _ = _cluster_sorted(delta, tolb, ctx)
        self.xcls_of = np.empty(nsel, dtype=int)
        for ci, grp in enumerate(groups):
            self.xcls_of[np.asarray(grp, dtype=int)] = ci
        self.xrep = [int(grp[0]) for grp in groups]
        self.xmembers = [np.array(sorted(int(x) for x in grp), dtype=int) for grp in groups]
        # exponent of w(p, q): -c1 (p^2 + q^2) + c2 p q  (Eqs. (40)-(41) in the E variable)
        self.c1 = beta / (8 * m) + 1 / (2 * sigma_p * sigma_p)
        self.c2 = 1 / (sigma_p * sigma_p) - beta / (4 * m)
        # max |symmetrised difference| <= beta max |raw difference| (see finalize)
        self.err_factor = float(ctx.to_float(beta))
        self._buf = None

    def finalize(self, flat):
        """Hermitian completion ``(beta/2)(T1 + T1^H)`` of the accumulator (see :meth:`_accumulate`)."""
        n = int(round(math.sqrt(len(flat))))
        T1 = flat.reshape(n, n)
        out = (T1 + self.ctx.conj(T1.T)) * (self.beta / 2)
        return out.reshape(-1)

    def _node_bytes(self):
        nu = len(self.xmembers)
        return nu * nu * 16 + super()._node_bytes()

    def _accumulate(self, P, Ap, Am, Wn, acc):
        """Weighted sums over nodes of the integrand of the E-variable form of (38).

        With ``Z = a / sqrt(p)`` (``a`` the s-matrix rows, ``p`` the incoming momentum of the
        pair; the flux factor ``K_j^{1/2} = sqrt(p)`` of (C1) cancels the ``1/sqrt(p q)`` of
        the weight) and ``c1 = beta/(8m) + 1/(2 sigma_p^2)``, ``c2 = 1/sigma_p^2 - beta/(4m)``::

            w(p_A, p_B) a_A a_B^* = (beta/2) e^{X_AB} (p_A Z_A Z_B^* + Z_A p_B Z_B^*),
            X_AB = -beta (p_A + p_B)^2 / (8m) - (p_A - p_B)^2 / (2 sigma_p^2)
                 = -c1 (p_A^2 + p_B^2) + c2 p_A p_B  (<= 0; evaluated in the first form),

        so ``sum_n W_n w a a^* = (beta/2) (T1 + T1^H)`` with
        ``T1 = sum_n W_n e^{X_n} o (sum_alpha (p Z^alpha) (Z^alpha)^H)``.  ``X`` depends on the
        pairs only through their Bohr frequencies, so it is computed per class pair and the
        sum over nodes and alpha becomes one matrix product per class of rows (BLAS).

        ``acc``: the running ``(2, size)`` sums of the panel's earlier chunks (None for the first);
        they are added to in place.  Returns ``(2, size)`` (fine and coarse rule of ``Wn``) and
        the magnitude scale ``sum_n |W_n| max_AB |integrand|`` (for the rounding estimate).
        """
        ctx = self.ctx
        first = acc is None
        n = P.shape[0]
        if self.sel is not None:
            P, Ap, Am = P[:, self.sel], Ap[:, self.sel], Am[:, self.sel]
        Ds = P.shape[1]
        cls_of, reps, members = self.xcls_of, self.xrep, self.xmembers
        Pc = P[:, reps]  # (n, U) momenta of the Bohr classes
        Pp = Pc[:, cls_of]  # (n, Ds)
        is_open = Pp > 0
        zero = ctx.mpc(0)
        sq = ctx.sqrt(np.where(is_open, Pp, ctx.mpf(1)))
        Zp = np.where(is_open, Ap / sq, zero)
        Zm = np.where(is_open, Am / sq, zero)
        # stable form of -c1 (p^2 + q^2) + c2 p q (no cancellation for small sigma_p); arrays on the
        # left of every product (``mpf * ndarray`` makes mpmath try, slowly, to convert the array)
        sm = Pc[:, :, None] + Pc[:, None, :]
        df = Pc[:, :, None] - Pc[:, None, :]
        Xu = ctx.exp(sm * sm * (-self.beta / (8 * self.m)) - df * df * (1 / (2 * self.sigma_p * self.sigma_p)))
        # reused panel buffer: every row is assigned (first chunk) or added to, so no zeroing
        if self._buf is None or self._buf.shape != (2, Ds, Ds):
            self._buf = ctx.empty((2, Ds, Ds), complex=True)
        out = self._buf
        Ust = np.concatenate([Zp * Pp, Zm * Pp], axis=0)  # (2n, Ds): rows (alpha, node)
        Vst = ctx.conj(np.concatenate([Zp, Zm], axis=0))
        for k in range(2):
            col = Wn[:, k]
            nz = np.flatnonzero(col != 0)
            if nz.size == 0:
                if first:
                    out[k] = zero
                continue
            w = col[nz]
            rows2 = np.concatenate([nz, nz + n])
            Us, Vs = Ust[rows2], Vst[rows2]
            Xs = Xu[nz]
            for c1, r1 in enumerate(members):
                Xrow = (Xs[:, c1, :] * w[:, None])[:, cls_of]  # (m, Ds)
                M = np.concatenate([Xrow, Xrow], axis=0) * Vs
                if first:
                    out[k, r1, :] = Us[:, r1].T @ M
                else:
                    out[k, r1, :] += Us[:, r1].T @ M
        # magnitude: |sum_alpha U_A V_B^*| e^X <= 2 max|U| max|V| e^X, maxima per class
        Uf = ctx.abs_float(Ust)
        Vf = ctx.abs_float(Vst)
        Uf = np.maximum(Uf[:n], Uf[n:])
        Vf = np.maximum(Vf[:n], Vf[n:])
        mU = np.zeros((n, len(members)))
        mV = np.zeros((n, len(members)))
        for c, r in enumerate(members):
            mU[:, c] = Uf[:, r].max(axis=1)
            mV[:, c] = Vf[:, r].max(axis=1)
        Xf = ctx.float_array(Xu)
        w0 = np.abs(ctx.float_array(Wn[:, 0]))
        # per class pair: int |integrand| dE >= every entry's; symmetrised like T1 -> (beta/2)(T1 + T1^H)
        absT1 = 2 * np.einsum("n,nab,na,nb->ab", w0, Xf, mU, mV)
        scale = (absT1 + absT1.T) * (float(self.beta) / 2)
        # the Hermitian completion (beta/2)(T1 + T1^H) is linear: applied once to the total
        return out.reshape(2, -1), scale
