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
        """Diagonalise the block ``L[idx, idx]``."""
        lam, V = np.linalg.eig(L[np.ix_(idx, idx)])
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
