"""Compact storage of the narrow-packet maps: Bohr-class blocks (45) and the site-qubit map (54)-(56).

No dense ``d^4`` tensor is kept; :meth:`apply` and :meth:`diagnostics` work blockwise, and
``.tensor`` densifies on demand only when it fits :data:`symcoll.maps.memory.MAX_BYTES`.
"""
from __future__ import annotations

import numpy as np

from ..numeric import get_context
from . import memory
from .memory import estimate_memory
from .tensor import CollisionMap, _rotate


class _CompactMap(CollisionMap):
    """Common part of the compact (block) storages: no dense ``d^4`` tensor is kept.

    ``.tensor``, :meth:`superoperator`, :meth:`choi` and :meth:`kraus` densify on demand
    when the dense tensor (plus one working copy) fits :data:`MAX_BYTES`; otherwise they raise
    ValueError with the memory the dense tensor would need.  :meth:`apply` and
    :meth:`diagnostics` work blockwise and never form ``d^4`` numbers.
    """

    storage = "compact"
    _storage_note = ("compact block storage: every check computed blockwise from the stored blocks "
                     "(no d^4 tensor formed); Choi spectrum from the block structure")

    def __init__(self, error_parts, kind, system, bath, coupling, dps, eigensystem, info=None):
        super().__init__(None, error_parts, kind, system, bath, coupling, dps, eigensystem, info)
        self._ctx = get_context(dps)

    def dense_bytes(self) -> int:
        """Bytes needed to densify: :func:`estimate_memory` of the dense kind (tensor and working copies)."""
        return estimate_memory(self.dim, self.kind, self.dps)

    @property
    def tensor(self):
        """Dense tensor, built on demand when :meth:`dense_bytes` <= MAX_BYTES (else ValueError)."""
        if self._tensor is None:
            memory.check_densify(self.kind, self.dim, self.dense_bytes())
            self._tensor = self._densify()
        return self._tensor

    def _check_rho(self, rho):
        r = np.asarray(rho)
        d = self.dim
        if r.shape[-2:] != (d, d):
            raise ValueError(f"rho must have shape ({d}, {d}) (or (..., {d}, {d})) (got {r.shape})")
        if self.dps is not None and r.dtype != object:
            r = self._ctx.array(r, complex=True)
        return r

    def apply(self, rho):
        """``(S rho)_{j'k'} = sum_{jk} S^{jk}_{j'k'} rho_{jk}`` computed blockwise (rho in the eigenbasis of H)."""
        r = self._check_rho(rho)
        if r.ndim == 2:
            return self._apply2(r)
        flat = r.reshape(-1, self.dim, self.dim)
        out = np.stack([self._apply2(x) for x in flat])
        return out.reshape(r.shape[:-2] + (self.dim, self.dim))

    def choi_eigenvalues(self):
        """Choi spectrum from the block structure (exact, no dense Choi matrix; see the subclass)."""
        return self._choi_eigenvalues()


class _GlobalBlocks(_CompactMap):
    """Compact narrow-packet map (45): one matrix per Bohr class.

    Class ``c`` lists pairs ``A = j' d + j`` with a common ``Delta_{j'j}``; its block is
    ``B_c[a, b] = S^{j_a k_b}_{j'_a k'_b}`` for ``A_a = (j'_a, j_a)``, ``A_b = (k'_b, k_b)`` in ``c``;
    every other entry of (45) vanishes.  Up to a permutation the Choi matrix is the direct sum
    of the blocks, so its spectrum is computed blockwise.
    """

    _choi_note = " (union of the spectra of the Bohr-class blocks: the Choi matrix of (45) is their direct sum)"

    def __init__(self, classes, flat, *args, **kw):
        super().__init__(*args, **kw)
        d = self.dim
        self.classes = classes
        self.blocks = []
        pos = 0
        for c in classes:
            k = len(c)
            self.blocks.append(flat[pos:pos + k * k].reshape(k, k))
            pos += k * k
        self._jp = [np.asarray(c) // d for c in classes]
        self._j = [np.asarray(c) % d for c in classes]
        self._flat = flat  # the blocks are views of it, in class order
        self._gather = None

    def stored_numbers(self) -> int:
        return sum(len(c) ** 2 for c in self.classes)

    def _densify(self):
        ctx, d = self._ctx, self.dim
        T2 = ctx.zeros((d * d, d * d), complex=True)
        for c, B in zip(self.classes, self.blocks):
            T2[np.ix_(c, c)] = B
        T = T2.reshape(d, d, d, d).transpose(0, 2, 1, 3)
        return np.ascontiguousarray(T)

    def _apply2(self, r):
        d = self.dim
        if r.dtype == object:  # number-type branch: np.bincount below needs float64 weights
            out = self._ctx.zeros((d, d), complex=True)
            for B, jp, j in zip(self.blocks, self._jp, self._j):
                np.add.at(out, (jp[:, None], jp[None, :]), B * r[j[:, None], j[None, :]])
            return out
        if self._gather is None:  # flat (output, input) indices of every stored entry, built once
            outs, ins = [], []
            for jp, j in zip(self._jp, self._j):
                outs.append((jp[:, None] * d + jp[None, :]).ravel())
                ins.append((j[:, None] * d + j[None, :]).ravel())
            self._gather = (np.concatenate(outs), np.concatenate(ins))
        out_idx, in_idx = self._gather
        v = self._flat * r.reshape(-1)[in_idx]
        re = np.bincount(out_idx, weights=v.real, minlength=d * d)
        im = np.bincount(out_idx, weights=v.imag, minlength=d * d)
        return (re + 1j * im).reshape(d, d)

    def _fblocks(self):
        return [self._ctx.to_complex128(B) for B in self.blocks]

    def _choi_eigenvalues(self):
        """Union of the block spectra (Hermitian parts) plus the zeros of the empty rows (ascending)."""
        lam = [np.linalg.eigvalsh((B + B.conj().T) / 2) for B in self._fblocks()]
        nz = self.dim**2 - sum(len(c) for c in self.classes)
        return np.sort(np.concatenate(lam + [np.zeros(nz)]))

    def _population_parts(self):
        d = self.dim
        tr = -np.eye(d, dtype=complex)
        P = np.zeros((d, d))
        herm = 0.0
        for B, jp, j in zip(self._fblocks(), self._jp, self._j):
            same = jp[:, None] == jp[None, :]
            a, b = np.nonzero(same)
            np.add.at(tr, (j[a], j[b]), B[a, b])
            P[jp, j] = np.diag(B).real
            herm = max(herm, float(np.max(np.abs(B - B.conj().T))))
        return tr, herm, P

    def _sum_rule_lhs(self, g):
        d = self.dim
        lhs = np.zeros((d, d), dtype=complex)
        for B, jp, j in zip(self._fblocks(), self._jp, self._j):
            a, b = np.nonzero(j[:, None] == j[None, :])
            np.add.at(lhs, (jp[a], jp[b]), B[a, b] * g[j[a]])
        return lhs


class _LocalSite(_CompactMap):
    """Compact local map (54)-(56): ``S = U^dagger [(S_1 (x) id_rest)(U rho U^dagger)] U``.

    In the local basis H(0) = H_loc and V = sigma_x on the site qubit: ``K + i m g V`` splits
    into 2x2 blocks, one per configuration r of the other qubits, and at the outgoing energy
    ``E + eps^(0)_j'`` the block of r has ``K_s = sqrt(2m(E + h s' - h s))``, independent of the
    excitation number of r.  All blocks therefore carry the same s-matrix, and (45) with H(0)
    (the local map) is ``S_1 (x) id_rest``: ``S_1`` is the global map (45) of the site qubit
    alone (energies 0, h), the identity channel acts on the rest (excitation numbers only
    shift energies and drop out).  ``U`` = eigenvectors of H(eps) (columns, local basis).
    """

    _choi_note = (" (2^(N-1) times the spectrum of the 4x4 site Choi matrix, and 0: exact for S_1 (x) id; "
                  "the dense path shows those zeros as +-rounding)")

    def __init__(self, S1, U, site, N, *args, **kw):
        super().__init__(*args, **kw)
        self.S1 = S1  # [a', b', a, b], order (|0>, |1>)
        self.U = U
        self.site = site
        self.N = N

    def stored_numbers(self) -> int:
        return 16 + self.dim**2

    def _split(self, X):
        """(d, d) local-basis matrix -> (L, 2, R, L, 2, R) with the site axes 1 and 4."""
        L = 2 ** (self.site - 1)
        R = 2 ** (self.N - self.site)
        return X.reshape(L, 2, R, L, 2, R)

    def _site_apply(self, X):
        X6 = self._split(X)
        Y = np.tensordot(X6, self.S1, axes=([1, 4], [2, 3]))  # [L, R, L2, R2, a', b']
        Y = Y.transpose(0, 4, 1, 2, 5, 3)
        return Y.reshape(self.dim, self.dim)

    def _apply2(self, r):
        U = self.U
        mm = self._ctx.matmul
        Uh = self._ctx.conj(U).T
        loc = mm(mm(U, r), Uh)
        return mm(mm(Uh, self._site_apply(loc)), U)

    def _densify(self):
        """``S_1 (x) id`` as a dense local-basis tensor, rotated into the eigenbasis of H(eps)."""
        ctx, d = self._ctx, self.dim
        T0 = ctx.zeros((d, d, d, d), complex=True)
        for j in range(d):
            for k in range(d):
                E = ctx.zeros((d, d), complex=True)
                E[j, k] = 1
                T0[:, :, j, k] = self._site_apply(E)
        T = _rotate(ctx, T0, self.U)
        return np.ascontiguousarray(T)

    def _f(self, X):
        return self._ctx.to_complex128(X)

    def _choi_eigenvalues(self):
        """``R lambda(J_1)`` (R = 2^(N-1) copies through the identity channel on the rest) and zeros.

        The Choi matrix of ``S_1 (x) id`` is ``J_1 (x) |Omega><Omega|`` (``<Omega|Omega> = R``) up to a
        permutation, and the change of basis U acts on it unitarily: the spectrum is exactly
        ``R * spec(J_1)`` plus ``d^4 - 4`` zeros (returned as 0.0 once).
        """
        J1 = self._f(self.S1).transpose(2, 0, 3, 1).reshape(4, 4)
        lam = np.linalg.eigvalsh((J1 + J1.conj().T) / 2) * 2 ** (self.N - 1)
        return np.sort(np.concatenate([lam, [0.0]]))

    def _population_parts(self):
        S1 = self._f(self.S1)
        tr1 = np.einsum("aaxy->xy", S1) - np.eye(2)
        # trace preservation in the eigenbasis: Tr S(|j><k|) - delta_jk = sum_ab tr1[a,b] G[j,k,a,b]
        U3 = self._f(self.U)
        L, R = 2 ** (self.site - 1), 2 ** (self.N - self.site)
        U3 = U3.reshape(L, 2, R, self.dim)
        # G[p, q, x, a] = sum_r conj(U[(x, r), p]) U[(a, r), q]
        G = np.einsum("lxrp,larq->pqxa", U3.conj(), U3)
        tr = np.einsum("ab,jkab->jk", tr1, np.einsum("larj,lbrk->jkab", U3, U3.conj()))
        herm = float(np.max(np.abs(S1 - np.conj(S1.transpose(1, 0, 3, 2)))))
        # P[j', j] = S^{jj}_{j'j'} = sum S1[x, y, a, b] G[j', j, x, a] conj(G[j', j, y, b])
        P = np.einsum("xyab,pqxa,pqyb->pq", S1, G, G.conj()).real
        return tr, herm, P

    def _sum_rule_lhs(self, g):
        return self._f(self._apply2(self._ctx.array(np.diag(g), complex=True)))
