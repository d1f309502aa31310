"""Eigen-decomposition of L (Eq. (71)) at ``dps`` digits, refined from the float64 one.

For each invariant block, start from the float64 eigenvectors V (:class:`FloatSpectrum`) and
form ``B = V^{-1} L V`` at ``dps`` digits (an exact similarity; ``V^{-1} = W0 (I - E)^{-1}``
from the float64 inverse W0 and ``E = I - V W0`` by a Neumann series), then remove the
off-diagonal part by Jacobi-like similarity steps ``B <- (I + G)^{-1} B (I + G)``,
``G_ij = B_ij / (lambda_j - lambda_i)`` (quadratically convergent, Neumann inverses).
Eigenvalues closer than the float perturbation are kept together as a cluster and
exponentiated with ``mp.expm``.  This costs about ten dense mpmath matrix products instead of
``mp.eig`` (~1 min for the 64 x 64 generator of N = 3 at 50 digits).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .tolerances import DynamicsTolerances

__all__ = ["RefinedBlock", "refine"]


@dataclass
class RefinedBlock:
    """One invariant block ``L[idx, idx]`` near-diagonalised at ``dps`` digits.

    ``L_b = V (I + G_1) ... (I + G_k) B (I + G_k)^{-1} ... (I + G_1)^{-1} V^{-1}`` with ``B``
    block diagonal over ``clusters`` (``(positions, B restricted to them)``; a single position
    is an eigenvalue) and ``V^{-1} = W (I - E)^{-1}`` (``E`` None: ``W`` is the exact inverse).

    Attributes
    ----------
    offdiag : float
        Largest off-diagonal entry of B left between clusters (a perturbation of size
        ``offdiag`` in the propagation, counted in :meth:`rounding_estimate`).
    """

    idx: np.ndarray
    V: object
    W: object
    E: object
    KE: int
    steps: list
    clusters: list
    condV: float
    normL: float
    offdiag: float
    iterations: int
    zero_mode_snapped: bool = False

    def propagate(self, mp, x, times) -> np.ndarray:
        """``exp(L_b t) x`` for every t: (T, nb) object array of ``mp`` numbers."""
        nb = len(self.idx)
        xm = _np_to_mpmatrix(mp, x.reshape(nb, 1))
        # w = (I + G_k)^{-1} ... (I + G_1)^{-1} V^{-1} x   (Neumann series, ||G|| << 1),
        # V^{-1} x = W (I - E)^{-1} x: the Neumann factor acts first (as in B = W (I - E)^{-1} L V)
        w = self.W * (_neumann_apply(-self.E, xm, self.KE) if self.E is not None else xm)
        for G, K in self.steps:
            w = _neumann_apply(G, w, K)
        out = np.empty((len(times), nb), dtype=object)
        for a, ta in enumerate(times):
            tm = mp.mpf(float(ta))
            y = mp.matrix(nb, 1)
            for blk, Bb in self.clusters:
                if len(blk) == 1:
                    i = blk[0]
                    y[i] = mp.exp(Bb[0, 0] * tm) * w[i]
                else:
                    E = mp.expm(Bb * tm)
                    for ii, i in enumerate(blk):
                        acc = mp.mpc(0)
                        for jj, j in enumerate(blk):
                            acc += E[ii, jj] * w[j]
                        y[i] = acc
            for G, _ in reversed(self.steps):  # v = V (I + G_1) ... (I + G_k) y
                y = y + G * y
            v = self.V * y
            for k in range(nb):
                out[a, k] = v[k]
        return out

    def rounding_estimate(self, u, T) -> np.ndarray:
        """Rounding **estimate** of :meth:`propagate` at unit round-off ``u``, times ``T``:
        ``1e3 nb u cond(V) (1 + ||L|| t)`` plus the neglected off-diagonal part ``offdiag t cond(V)``."""
        nb = len(self.idx)
        return u * 1e3 * nb * self.condV * (1 + self.normL * T) + self.offdiag * T * self.condV


def refine(ctx, L, spectrum) -> list:
    """Near-diagonalise every block of ``L`` at ``ctx`` precision from the float64 ``spectrum``.

    Parameters
    ----------
    ctx : MPContext
    L : (n, n) object array
        The generator at ``ctx`` precision.
    spectrum : FloatSpectrum
        Its float64 decomposition (blocks, eigenvectors, inverses).

    Returns
    -------
    list of RefinedBlock
        The stationary mode (exactly 0 for the exact, trace-preserving generator) is set to 0;
        a float64 map converted to mpmath carries a ~1e-16 trace defect that would make
        ``exp(lambda_0 t)`` drift (the float64 path does the same).
    """
    mp = ctx.mp
    u = ctx.eps
    normL = spectrum.normL
    out = []
    for bk in spectrum.blocks:
        idx = bk.idx
        nb = len(idx)
        Lm = _np_to_mpmatrix(mp, L[np.ix_(idx, idx)])
        Vinv = bk.Vinv if bk.Vinv is not None else np.linalg.inv(bk.V)  # raises for a singular V
        Vm = _np_to_mpmatrix(mp, ctx.array(bk.V, complex=True))
        W = _np_to_mpmatrix(mp, ctx.array(Vinv, complex=True))
        Em, KE = None, 0
        if nb > 1:
            Em = mp.eye(nb) - Vm * W  # V^{-1} = W (I - E)^{-1}: apply (I - E)^{-1} on the left of L V
            en = max(float(abs(Em[i, j])) for i in range(nb) for j in range(nb)) * nb
            if en >= DynamicsTolerances.neumann_radius:
                W, Em = mp.inverse(Vm), None
            else:
                KE = max(1, _neumann_terms(en, u))
        LV = Lm * Vm
        B = W * (_neumann_apply(-Em, LV, KE) if Em is not None else LV)
        steps, clusters, off, it = _similarity_steps(ctx, B, normL)
        out.append(RefinedBlock(idx, Vm, W, Em, KE, steps, clusters, bk.condV, normL, off, it))
    best = None
    for k, rb in enumerate(out):
        for blk, Bb in rb.clusters:
            if len(blk) == 1 and (best is None or abs(Bb[0, 0]) < best[0]):
                best = (abs(Bb[0, 0]), k, Bb)
    if best is not None and best[0] <= DynamicsTolerances().zero_mode_refined(normL):
        best[2][0, 0] = mp.mpc(0)
        out[best[1]].zero_mode_snapped = True
    return out


def _eigenvalue_clusters(lam, delta) -> list:
    """Cluster label of each eigenvalue: the transitive closure of ``|lam_i - lam_j| <= delta``."""
    n = len(lam)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if abs(lam[i] - lam[j]) <= delta:
                parent[find(i)] = find(j)
    return [find(i) for i in range(n)]


def _similarity_steps(ctx, B, normL):
    """Remove the off-diagonal part of ``B`` between eigenvalue clusters by similarity steps.

    ``B <- (I + G)^{-1} B (I + G)``, ``G_ij = B_ij / (B_jj - B_ii)`` for i, j in different
    clusters (quadratic convergence), until the off-diagonal part is below
    :meth:`DynamicsTolerances.refine_target`.

    Returns
    -------
    steps : list of (G, K)
        The steps and the Neumann orders of their inverses.
    clusters : list of (positions, mp matrix)
        The diagonal blocks of the final B.
    offdiag : float
        Largest off-diagonal entry left between clusters.
    iterations : int
    """
    mp = ctx.mp
    u = ctx.eps
    n = B.rows
    off0 = max(abs(B[i, j]) for i in range(n) for j in range(n) if i != j) if n > 1 else 0
    tols = DynamicsTolerances(u)
    cl = _eigenvalue_clusters([complex(B[i, i]) for i in range(n)], tols.eigen_cluster(off0))
    steps = []
    it = 0
    target = tols.refine_target(normL)
    off = mp.mpf(0)
    while n > 1:
        off = mp.mpf(0)
        G = mp.matrix(n, n)
        gmax = 0.0
        for i in range(n):
            for j in range(n):
                if i != j and cl[i] != cl[j]:
                    b = B[i, j]
                    if abs(b) > off:
                        off = abs(b)
                    g = b / (B[j, j] - B[i, i])
                    G[i, j] = g
                    gmax = max(gmax, float(abs(g)))
        if off <= target or it >= tols.refine_max_steps:
            break
        gn = max(n * gmax, 1e-300)  # Neumann order K with (n ||G||)^(K+1) <= u
        K = (max(1, _neumann_terms(gn, u) - 1) if gn < tols.neumann_radius
             else tols.neumann_fallback_terms)
        B = _neumann_apply(G, B + B * G, K)
        steps.append((G, K))
        it += 1
    groups = {}
    for i in range(n):
        groups.setdefault(cl[i], []).append(i)
    clusters = []
    for g in groups.values():
        Bb = mp.matrix(len(g), len(g))
        for a, i in enumerate(g):
            for b, j in enumerate(g):
                Bb[a, b] = B[i, j]
        clusters.append((g, Bb))
    return steps, clusters, float(off), it


def _neumann_terms(norm, u):
    """Terms ``K`` with ``norm**K <= u``: ``ceil(log u / log norm)`` (``norm < 1``)."""
    return int(math.ceil(math.log(u) / math.log(max(norm, 1e-300))))


def _neumann_apply(G, X, K):
    """``(I + G)^{-1} X`` by the Neumann series to order K (mpmath matrices)."""
    out = X
    term = X
    for _ in range(K):
        term = -(G * term)
        out = out + term
    return out


def _np_to_mpmatrix(mp, a):
    """2-D array (of mpmath numbers or floats) -> ``mp.matrix``."""
    a = np.asarray(a, dtype=object)
    M = mp.matrix(a.shape[0], a.shape[1])
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            M[i, j] = a[i, j]
    return M
