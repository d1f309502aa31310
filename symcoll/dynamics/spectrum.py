"""Structure of the generator L of Eq. (71): invariant blocks and their float64 eigen-decomposition.

The global map (45) and the local map (54)-(56) only couple entries of rho with equal (band)
Bohr frequencies, so their generators fall into many small blocks (N = 3: 23 and 7; N = 6
global: 425 blocks of at most 88); the exact map (38) gives one block.  Each block is
diagonalised once in float64 (LAPACK ``geev``): the ``"eig"`` propagator uses the
decomposition, ``method="auto"`` its conditioning, the mpmath refinement starts from its
eigenvectors, and the error budget its relaxation gap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["invariant_blocks", "EigenBlock", "FloatSpectrum"]


def invariant_blocks(L) -> list:
    """Index sets of the invariant blocks of ``L``: connected components of its non-zero pattern.

    Parameters
    ----------
    L : (n, n) complex array
        The generator (exact zeros are structural: the map tensor's zeros).

    Returns
    -------
    list of int arrays
        Indices into ``vec(rho)``, one array per block.
    """
    from scipy.sparse.csgraph import connected_components

    A = (L != 0) | (L.T != 0)
    nc, lab = connected_components(A, directed=False)
    return [np.flatnonzero(lab == c) for c in range(nc)]


@dataclass
class EigenBlock:
    """``L[idx, idx] = V diag(lam) V^{-1}`` in float64 (columns of V of unit 2-norm).

    ``Vinv`` is None when V is numerically singular (L defective); ``condV`` is ``cond_2(V)``.
    """

    idx: np.ndarray
    lam: np.ndarray
    V: np.ndarray
    Vinv: np.ndarray | None
    condV: float

    @classmethod
    def of(cls, L, idx) -> "EigenBlock":
        """Diagonalise the block ``L[idx, idx]`` (in real arithmetic when it is large and closed under
        ``rho -> rho^dagger``: :func:`_real_eig`)."""
        A = L[np.ix_(idx, idx)]
        real = _real_eig(A, idx, math.isqrt(L.shape[0])) if len(idx) > REAL_EIG_MIN else None
        if real is not None:
            lam, V, Vinv = real
        else:
            lam, V = np.linalg.eig(A)
            V = V / np.linalg.norm(V, axis=0)
            try:
                Vinv = np.linalg.inv(V)
            except np.linalg.LinAlgError:
                Vinv = None
        if len(idx) <= SVD_COND_MAX or Vinv is None:
            sv = np.linalg.svd(V, compute_uv=False)
            condV = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
        else:  # ||V||_2 ||V^-1||_2 by Lanczos (an estimate, as the SVD's): 2 s instead of 51 s at n = 4096
            condV = _norm2(V) * _norm2(Vinv)
        return cls(idx, lam, V, Vinv, condV)


REAL_EIG_MIN = 1024
"""Blocks larger than this are diagonalised in real arithmetic when they are closed under ``rho -> rho^dagger``
(:func:`_real_eig`): 38 s instead of 92 s for the exact map's 4096 block at N = 6 (two BLAS threads).  A generator
that is one such block (the exact map from N = 6) goes further: :class:`~symcoll.dynamics.lean_spectrum.LeanSpectrum`
keeps the decomposition real and never forms the complex V, V^-1 or the dense L."""


def hermitian_pairs(idx, d):
    """``(dg, p, q)``: positions in ``idx`` (sorted column-stacking indices ``j + d k``) of the entries ``(j, j)``, of
    ``(j, k)`` with ``j < k`` and of their partners ``(k, j)``; None if ``idx`` is not closed under the swap.  The
    orthonormal Hermitian basis of :func:`_real_eig` is ``E_jj`` (dg), then per pair ``(E_jk + E_kj)/sqrt 2``,
    ``i (E_jk - E_kj)/sqrt 2``."""
    n = len(idx)
    j, k = idx % d, idx // d
    pos = np.searchsorted(idx, k + d * j)
    if np.any(pos >= n) or np.any(idx[np.minimum(pos, n - 1)] != k + d * j):
        return None
    p = np.flatnonzero(j < k)
    return np.flatnonzero(j == k), p, pos[p]


def real_basis_matrix(rows, pairs, chunk=256):
    """``(R, ||R||_F, ||Im R||_F)``: ``R = Re(B^H A B)`` (Fortran order) of an ``n x n`` matrix A given by its rows
    (``rows(r)``: the rows ``r`` of A, complex ``(len(r), n)``), in the orthonormal Hermitian basis B of
    :func:`hermitian_pairs` (``pairs = (dg, p, q)``); formed ``chunk`` rows at a time, so the only ``n x n`` array
    is R itself (:func:`_real_eig`, and :func:`~symcoll.dynamics.lean_gap.lean_gap` with the rows of L taken from the
    map's tensor).  Rows of ``B^H A``: ``A[j,j]``; ``(A[p] + A[q])/sqrt 2``; ``-i (A[p] - A[q])/sqrt 2``; columns of
    ``(B^H A) B``: the same combinations with ``+i``."""
    dg, p, q = pairs
    nd = len(dg)
    n = nd + 2 * len(p)
    kind = np.concatenate([np.zeros(nd, dtype=int), np.tile([1, 2], len(p))])
    first = np.concatenate([dg, np.repeat(p, 2)])
    second = np.concatenate([dg, np.repeat(q, 2)])
    r2 = 1 / math.sqrt(2)
    R = np.empty((n, n), order="F")
    im2 = fro2 = 0.0
    for a0 in range(0, n, chunk):
        a = np.arange(a0, min(a0 + chunk, n))
        P1, P2 = rows(first[a]), rows(second[a])
        kd = kind[a]
        X = np.empty((len(a), n), dtype=complex)  # rows a of B^H A
        X[kd == 0] = P1[kd == 0]
        X[kd == 1] = (P1[kd == 1] + P2[kd == 1]) * r2
        X[kd == 2] = (P1[kd == 2] - P2[kd == 2]) * (-1j * r2)
        Y = np.empty_like(X)  # (B^H A) B
        Y[:, :nd] = X[:, dg]
        Y[:, nd::2] = (X[:, p] + X[:, q]) * r2
        Y[:, nd + 1::2] = (X[:, p] - X[:, q]) * (1j * r2)
        R[a0:a0 + len(a)] = Y.real
        im2 += float(np.sum(Y.imag ** 2))
        fro2 += float(np.sum(Y.real ** 2))
    fro2 += im2
    return R, math.sqrt(fro2), math.sqrt(im2)


def _real_eig(A, idx, d):
    """``(lam, V, V^-1)`` of the block ``A = L[idx, idx]`` through the real matrix ``R = B^H A B``, or None.

    The generator (71) preserves Hermiticity (``L(X^dagger) = L(X)^dagger``: H is Hermitian and the maps are
    Hermiticity preserving), so in the orthonormal basis ``B`` of Hermitian matrices -- ``E_jj``,
    ``(E_jk + E_kj)/sqrt 2``, ``i (E_jk - E_kj)/sqrt 2`` (j < k), unitary -- it is a real matrix: LAPACK ``dgeev``
    instead of ``zgeev``.  ``V = B W`` and ``V^-1 = W^-1 B^H`` (``W`` the eigenvectors of R, unit columns, so V's
    are too); ``W^-1`` from the real inverse of ``Y`` (``W = Y P``, ``Y`` the real and imaginary parts of each
    conjugate pair, ``P`` 2 x 2 blocks ``[[1, 1], [i, -i]]``).  Only for blocks closed under the swap
    ``(j, k) -> (k, j)``; None if the block is not, or if ``R`` is not real to ``sqrt(n) u ||A||_F`` (a map that is
    not Hermiticity preserving to rounding; ``||A||_F = ||R||_F``, B unitary; below that, dropping ``Im R`` is inside
    the eig backward-error estimate ``4 sqrt(n) u ||L||_F``), or if numpy's conjugate pairs are not where expected (then the complex path runs)."""
    n = len(idx)
    pairs = hermitian_pairs(idx, d)
    if pairs is None:
        return None
    dg, p, q = pairs
    nd, npair = len(dg), len(p)
    # columns of B: E_jj first (0 .. nd - 1), then per pair (E_jk + E_kj)/sqrt 2 (cs) and i (E_jk - E_kj)/sqrt 2 (ca)
    cs = nd + 2 * np.arange(npair)
    ca = cs + 1
    r2 = 1 / math.sqrt(2)
    R, fro, im = real_basis_matrix(lambda r: A[r], pairs)
    if im > math.sqrt(n) * 2.0**-52 * fro:
        return None
    lam, W = np.linalg.eig(R)
    del R
    # numpy: a complex pair is adjacent, positive imaginary part first, W[:, c + 1] = conj(W[:, c]) exactly
    cplx = np.flatnonzero(lam.imag > 0)
    if (np.any(cplx + 1 >= n) or np.any(lam[np.minimum(cplx + 1, n - 1)] != np.conj(lam[cplx]))
            or np.count_nonzero(lam.imag != 0) != 2 * len(cplx)):
        return None
    Y = W.real.copy()
    Y[:, cplx + 1] = W.imag[:, cplx]
    try:
        Yinv = np.linalg.inv(Y)
        Winv = Yinv.astype(complex)
    except np.linalg.LinAlgError:
        Winv = None
    if Winv is not None:
        Winv[cplx] = (Yinv[cplx] - 1j * Yinv[cplx + 1]) / 2
        Winv[cplx + 1] = (Yinv[cplx] + 1j * Yinv[cplx + 1]) / 2
    V = np.empty((n, n), dtype=complex)
    V[dg] = W[:nd]
    V[p] = (W[cs] + 1j * W[ca]) * r2
    V[q] = (W[cs] - 1j * W[ca]) * r2
    nrm = np.linalg.norm(V, axis=0)
    V /= nrm
    Vinv = None
    if Winv is not None:
        Vinv = np.empty((n, n), dtype=complex)
        Vinv[:, dg] = Winv[:, :nd]
        Vinv[:, p] = (Winv[:, cs] - 1j * Winv[:, ca]) * r2
        Vinv[:, q] = (Winv[:, cs] + 1j * Winv[:, ca]) * r2
        Vinv *= nrm[:, None]
    return lam, V, Vinv


SVD_COND_MAX = 1024
"""Blocks up to this size get ``cond_2(V)`` from LAPACK's SVD; larger ones (the exact map's single block at N = 6:
the SVD took 51 s of 4096) from :func:`_norm2` of ``V`` and of the inverse that is computed anyway."""


def _norm2(A) -> float:
    """``||A||_2`` by Lanczos (ARPACK, the largest singular value to relative 1e-8; a Ritz value, from below)."""
    from scipy.sparse.linalg import svds

    v0 = np.ones(A.shape[1], dtype=A.dtype)
    return float(svds(A, k=1, which="LM", tol=1e-8, v0=v0, return_singular_vectors=False)[0])


@dataclass
class FloatSpectrum:
    """float64 eigen-decomposition of L block by block, with its stationary mode located.

    Attributes
    ----------
    blocks : list of EigenBlock
    b0, j0 : int
        Block and position in it of the eigenvalue of smallest modulus (the stationary mode:
        trace preservation makes 0 an exact eigenvalue).
    lam : complex array
        All eigenvalues, block after block.
    i0 : int
        Position of the stationary mode in ``lam``.
    condV : float
        Largest ``cond_2(V)`` of the blocks.
    normL : float
        Frobenius norm of L.
    invertible : bool
        Every block's V could be inverted.
    """

    blocks: list
    b0: int
    j0: int
    lam: np.ndarray
    i0: int
    condV: float
    normL: float
    invertible: bool

    @classmethod
    def of(cls, L, blocks) -> "FloatSpectrum":
        """Diagonalise every block of ``L`` (complex128) given by ``blocks``."""
        eig = [EigenBlock.of(L, idx) for idx in blocks]
        best = (math.inf, None, None)
        for b, bk in enumerate(eig):
            i = int(np.argmin(np.abs(bk.lam)))
            if abs(bk.lam[i]) < best[0]:
                best = (abs(bk.lam[i]), b, i)
        i0 = sum(len(bk.lam) for bk in eig[: best[1]]) + best[2]
        return cls(blocks=eig, b0=best[1], j0=best[2], lam=np.concatenate([bk.lam for bk in eig]), i0=i0,
                   condV=max(bk.condV for bk in eig), normL=float(np.linalg.norm(L)),
                   invertible=all(bk.Vinv is not None for bk in eig))

    def relaxation_gap(self) -> float:
        """``min -Re lambda`` over every eigenvalue but the stationary one (0 when there is none)."""
        lam = np.delete(self.lam, self.i0)
        return float(np.min(-np.real(lam))) if lam.size else 0.0

    def diagnostics(self) -> dict:
        """``cond_V``, ``norm_L``, ``n``, ``blocks`` and ``max_block`` of the float64 propagators."""
        return {"cond_V": self.condV, "norm_L": self.normL, "n": len(self.lam), "blocks": len(self.blocks),
                "max_block": max(len(bk.idx) for bk in self.blocks)}
