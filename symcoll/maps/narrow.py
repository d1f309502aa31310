"""The narrow-packet engine: Eq. (45) (kind "global") and (54)-(56) (kind "local", on H(0)).

In the narrow-packet limit (44) only the entries with ``Delta_{j'j} = Delta_{k'k}`` survive,
so the accumulator holds one block per Bohr class.
"""
from __future__ import annotations

import numpy as np

from .engine import _EngineBase


class NarrowEngine(_EngineBase):
    """Engine for the narrow-packet maps (45) and (54)-(56).

    Parameters
    ----------
    classes : list of int arrays
        Flat pair indices ``j' d + j`` of each Bohr class (:func:`symcoll.maps.spectrum._bohr_classes`).
    Other parameters as :class:`symcoll.maps.engine._EngineBase`.
    """

    narrow = True
    err_factor = 1.0

    def __init__(self, ctx, energies, V_eig, m, g, beta, sigma_p, classes, sel=None):
        super().__init__(ctx, energies, V_eig, m, g, beta, sigma_p, sel)
        self.classes = classes
        self.class_rep = [int(c[0]) for c in classes]
        self.size = sum(len(c) ** 2 for c in classes)
        self._narrow_layout(classes)

    def finalize(self, flat):
        """The class blocks put back in class order (see :meth:`_narrow_layout`)."""
        return flat[self._order]

    def _narrow_layout(self, classes):
        """Index tables for :meth:`_acc_narrow`.

        During the quadrature the class blocks are kept grouped by class size (each group one
        contiguous batch of ``(G, s, s)`` blocks, written by one batched matmul);
        :meth:`finalize` permutes the result to class order.
        """
        d = self.d
        by_size = {}
        for ci, c in enumerate(classes):
            by_size.setdefault(len(c), []).append(ci)
        self._groups = []
        gpos = np.zeros(len(classes), dtype=int)  # start of each class block in the grouped layout
        start = 0
        for k, cis in sorted(by_size.items()):
            mem = np.array([classes[ci] for ci in cis], dtype=int).reshape(len(cis), k)
            self._groups.append((np.array(cis), mem, start, len(cis), k))
            gpos[cis] = start + np.arange(len(cis)) * k * k
            start += len(cis) * k * k
        self._order = np.concatenate([gpos[ci] + np.arange(len(c) ** 2) for ci, c in enumerate(classes)]) \
            if classes else np.zeros(0, dtype=int)
        # classes holding diagonal pairs (j', j) = (j, j): s^(+) = s^(-) + 1 there
        self._diag = []
        for ci, c in enumerate(classes):
            c = np.asarray(c)
            delta = (c // d == c % d)
            if delta.any():
                self._diag.append((ci, c, delta.astype(float), gpos[ci]))
        self._perm = np.concatenate([np.asarray(c, dtype=int) for c in classes]) if classes else np.zeros(0, int)
        self._starts = np.cumsum([0] + [len(c) for c in classes])[:-1]

    def _accumulate(self, P, Ap, Am, Wn, acc):
        """Add the chunk's sums (:meth:`_acc_narrow`) to ``acc`` (None for the first chunk)."""
        part, sc = self._acc_narrow(P, Ap, Am, Wn)
        return (part if acc is None else acc + part), sc

    def _acc_narrow(self, P, Ap, Am, Wn):
        """Weighted sums for the narrow-packet map (45): blocks of equal Bohr frequency.

        In the E variable the weight of (45) is ``mu_eff(p) m / p = beta exp(-beta p^2/(2m))``
        with ``p = P_{j'j}(E) = P_{k'k}(E)`` (class representative).  With ``a^(+) = a^(-) + delta``
        (C2) the sum over alpha is ``2 a^- a^-^H + a^- delta^T + delta a^-^H + delta delta^T``
        (delta = 1 on the diagonal pairs (j, j), which all sit in the Delta = 0 class): one
        matrix product per class over the nodes, batched over the classes of equal size.
        Returns the sums in the grouped layout of :meth:`_narrow_layout`.
        """
        ctx = self.ctx
        n = P.shape[0]
        Pc = P[:, self.class_rep]  # (n, U)
        wc = np.where(Pc > 0, ctx.exp(Pc * Pc * (-self.beta / (2 * self.m))) * self.beta, ctx.mpf(0))
        acc = ctx.empty((2, self.size), complex=True)  # every entry is written by one class group
        for k in range(2):
            col = Wn[:, k]
            nz = np.flatnonzero(col != 0)
            f = wc[nz] * col[nz][:, None]  # (m, U)
            A = Am if len(nz) == n else Am[nz]  # (m, D)
            out = acc[k]
            for cis, mem, start, G, sz in self._groups:
                Ag = A[:, mem]  # (m, G, s)
                L = (Ag * (2 * f[:, cis])[:, :, None]).transpose(1, 2, 0)  # (G, s, m)
                R = ctx.conj(Ag).transpose(1, 0, 2)  # (G, m, s)
                seg = out[start:start + G * sz * sz]
                # contiguous operands and an in-place result (measured ~12 % faster at N = 8)
                np.matmul(np.ascontiguousarray(L), np.ascontiguousarray(R), out=seg.reshape(G, sz, sz))
            for ci, c, delta, off in self._diag:
                fc = f[:, ci]
                v = (A[:, c] * fc[:, None]).sum(axis=0)  # sum_n f_n a^-_n
                blk = np.outer(v, delta) + np.outer(delta, ctx.conj(v)) + fc.sum() * np.outer(delta, delta)
                k2 = len(c) ** 2
                out[off:off + k2] = out[off:off + k2] + blk.reshape(-1)
        # per class: int |integrand| dE <= sum_n |W_n| w_c 2 max_{A in c, alpha} |a_A|^2 (for every entry)
        wcf = ctx.float_array(wc)
        Af = np.maximum(ctx.abs_float(Ap), ctx.abs_float(Am))
        if len(self._perm):
            mA = np.maximum.reduceat(Af[:, self._perm], self._starts, axis=1)
        else:
            mA = np.zeros((n, 0))
        w0 = np.abs(ctx.float_array(Wn[:, 0]))
        scale = 2 * np.einsum("n,nc,nc->c", w0, wcf, mA * mA)
        return acc, scale
