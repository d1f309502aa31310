"""Sector structure of the generator (71) for the compact global (45) and local (54)-(56) maps.

The generator ``L rho = -i [H, rho] + Gamma (S - I) rho`` (Eq. (71); (67) for the local map) is
never formed as a dense ``d^2 x d^2`` matrix here.  It is built as sparse sector blocks:

* **global map (45)**, eigenbasis of H(eps): ``S^{jk}_{j'k'} != 0`` only when
  ``Delta_{j'j} = Delta_{k'k}`` (one Bohr class), hence ``eps_j' - eps_k' = eps_j - eps_k``: S maps
  the coherence ``rho_jk`` only to coherences of the same Bohr frequency, and ``-i[H, .]`` is
  diagonal.  The sectors are the connected components of the sparse pattern (exact zeros of the
  stored blocks; a refinement of the Bohr-frequency classes, populations in one sector).
* **local map (54)-(56)**, local basis: ``S = S_1 (x) id`` on the site qubit, and ``S_1`` (the map
  (45) of one qubit) preserves ``x - y`` of ``|x><y|``; ``H(eps)`` conserves the excitation number.
  Hence ``|a><b|`` stays in the sector ``n(a) - n(b) = Delta n`` (2N + 1 sectors, the largest
  ``C(2N, N)``).  The Hamiltonian is the chain's own sparse local-basis ``H(eps)`` (its mismatch
  with the eigenbasis the states are reported in enters the ``energies`` estimate).

Proofs and the error budget: README_derivations.md, "Sector structure of the generators (issue 16)".
Memory is estimated before any large allocation and refused (ValueError with the number) above
:data:`SECTOR_MEMORY_LIMIT`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps

from .. import conventions as cv

__all__ = ["SECTOR_MEMORY_LIMIT", "SectorStructure", "sector_structure", "estimate_sector_bytes"]

SECTOR_MEMORY_LIMIT = 8 * 2**30
"""Largest memory (bytes) the sector generator, its factorisations and propagation may allocate
(read at call time; tests lower it with ``monkeypatch``)."""

ARNOLDI_VECTORS = 121
"""Arnoldi basis size (``2 k + 1``, k = SLOW_MODES) in the memory estimate of a large sector (three
complex copies: basis, ``L V`` and a work copy)."""

_NNZ_BYTES = 16 + 4 + 8  # complex128 value, int32 column index, and the COO row index while building


def _gib(n):
    return n / 2**30


def check_memory(what, nbytes):
    """ValueError naming ``nbytes`` when above :data:`SECTOR_MEMORY_LIMIT` (module attribute read now)."""
    lim = globals()["SECTOR_MEMORY_LIMIT"]
    if nbytes > lim:
        raise ValueError(f"{what} needs about {_gib(nbytes):.2f} GiB ({int(nbytes)} bytes, estimated before "
                         f"allocating), above SECTOR_MEMORY_LIMIT = {_gib(lim):.2f} GiB; use a smaller N "
                         "or raise symcoll.dynamics.sectors.SECTOR_MEMORY_LIMIT if the machine has the memory")
    return nbytes


def estimate_sector_bytes(n, nnz, fill=100.0) -> int:
    """Bytes of one sector: the sparse matrix (``nnz`` entries) and a sparse LU with ``fill`` times
    its non-zeros (SuperLU with COLAMD; measured 75x on the N = 8 local population sector: an estimate), plus O(n) vectors."""
    return int(nnz * _NNZ_BYTES * (1 + fill) + 64 * n * 16)


@dataclass
class SectorStructure:
    """The generator (71) as invariant sectors.

    Attributes
    ----------
    basis : str
        ``"eigen"`` (vec indices refer to the eigenbasis of H(eps)) or ``"local"`` (local basis;
        ``U`` converts: ``rho_eig = U^dagger rho_loc U``).
    d : int
    sectors : list of int arrays
        Column-stacking indices ``j + d k`` of each sector (in ``basis``), ascending.
    matrices : list of callables
        ``matrices[i]()`` returns the sector's ``scipy.sparse.csc_array`` (built on demand).
    labels : list
        A label per sector (Bohr class number, or ``Delta n``).
    conj_partner : list of int or None
        Index of the sector holding the Hermitian conjugates (spectrum = complex conjugate).
    schur_S : float
        ``sqrt(max row nnz * max column nnz)`` of the map part (Schur test constant: ``||dS||_{2->2}
        <= schur_S e`` when every entry error is at most e and the zero pattern is exact).
    h_mismatch : float
        ``max |H U - U diag(eps)|`` of the local-basis Hamiltonian (0 in the eigenbasis).
    U : array or None
    """

    basis: str
    d: int
    sectors: list
    matrices: list
    labels: list
    conj_partner: list
    schur_S: float
    h_mismatch: float
    U: np.ndarray | None
    num_range: list | None = None
    """Per sector a rectangle ``(re_lo, re_hi, im_lo, im_hi)`` containing the numerical range of the
    sector matrix (local map only, see :func:`_local_num_range`), or None."""

    def population_sector(self) -> int:
        """The sector holding the populations (index 0 = rho_00; all populations share it)."""
        for i, idx in enumerate(self.sectors):
            if idx.size and idx[0] == 0:
                return i
        raise RuntimeError("no sector holds rho_00")

    def sizes(self):
        return [len(s) for s in self.sectors]


def sector_structure(generator) -> SectorStructure:
    """The :class:`SectorStructure` of a generator whose map is compact (global or local)."""
    m = generator.map
    if hasattr(m, "S1"):
        return _local_structure(generator)
    if hasattr(m, "classes"):
        return _global_structure(generator)
    raise TypeError("sector structure needs a compact global (45) or local (54)-(56) map "
                    "(collision_map(..., storage='compact'))")


# ------------------------------------------------------------------ global map (45), eigenbasis
def _global_structure(g) -> SectorStructure:
    m, d = g.map, g.d
    stored = m.stored_numbers()
    check_memory(f"the sparse generator (71) of the global map (d = {d}, {stored} stored entries)",
                 (stored + d * d) * _NNZ_BYTES * 3)
    rows, cols, vals = [], [], []
    for c, B in zip(m.classes, m._fblocks()):
        c = np.asarray(c)
        jp, j = c // d, c % d
        # B[a, b] = S^{j_a k_b}_{j'_a k'_b}: output (j'_a, k'_b) at j'_a + d k'_b, input (j_a, k_b)
        rows.append((jp[:, None] + d * jp[None, :]).ravel())
        cols.append((j[:, None] + d * j[None, :]).ravel())
        vals.append(B.ravel())
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    keep = vals != 0
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    n = d * d
    S = sps.csr_array((vals, (rows, cols)), shape=(n, n))
    schur = _schur_constant(S)
    e = np.asarray(g.energies_float)
    bohr = cv.vec(e[:, None] - e[None, :])
    Lfull = (float(g.Gamma_param) * S + sps.diags_array(-1j * bohr - float(g.Gamma_param))).tocsr()
    from scipy.sparse.csgraph import connected_components

    pattern = (Lfull != 0).astype(np.int8)
    nc, lab = connected_components(pattern + pattern.T, directed=False)
    order = np.argsort(lab, kind="stable")
    bounds = np.searchsorted(lab[order], np.arange(nc + 1))
    sectors = [np.sort(order[bounds[i]:bounds[i + 1]]) for i in range(nc)]
    # Hermitian conjugation maps (j, k) -> (k, j): the partner sector of the conjugate coherences
    jj, kk = np.arange(n) % d, np.arange(n) // d
    conj_idx = kk + d * jj
    partner = [int(lab[conj_idx[s[0]]]) for s in sectors]

    def getter(idx):
        return lambda: Lfull[idx][:, idx].tocsc()

    return SectorStructure("eigen", d, sectors, [getter(s) for s in sectors], list(range(nc)), partner,
                           schur, 0.0, None)


def _schur_constant(S) -> float:
    """``sqrt(max row nnz * max column nnz)`` of a sparse matrix (Schur test for ``|entries| <= 1``)."""
    S = sps.csr_array(S)
    r = np.diff(S.indptr).max(initial=0)
    c = np.diff(S.tocsc().indptr).max(initial=0)
    return math.sqrt(float(r) * float(c))


# ------------------------------------------------------------------ local map (54)-(56), local basis
def _local_structure(g) -> SectorStructure:
    m, d, sysm = g.map, g.d, g.system
    N, site = m.N, m.site
    nexc = cv.excitation_numbers(N).astype(np.int64)
    counts = [math.comb(N, k) for k in range(N + 1)]
    largest = sum(c * c for c in counts)
    deg = 2 * (N - 1) + 1
    nnz = largest * (2 * deg + 4)
    # sparse LU only below 4000 (sector_generator.STEADY_LU_MAX); above, the Arnoldi basis of the slow modes
    work = estimate_sector_bytes(largest, nnz) if largest <= 4000 else nnz * _NNZ_BYTES + ARNOLDI_VECTORS * largest * 48
    check_memory(f"the largest sector (Delta n = 0, {largest} entries) of the local generator (67), N = {N}",
                 work + 24 * d * d)
    H = sps.csr_array(np.asarray(sysm.hamiltonian(), dtype=float))
    U = np.asarray(g.eigensystem_vectors_float)
    e = np.asarray(g.energies_float)
    mismatch = float(np.max(np.abs(H @ U - U * e[None, :])))
    Hd = H.diagonal()
    Hoff = (H - sps.diags_array(Hd)).tocsr()
    Hoff.eliminate_zeros()
    S1 = np.asarray(m._f(m.S1))  # [x', y', x, y], order (|0>, |1>)
    bit = N - site
    Gam = float(g.Gamma_param)
    # global index -> position in its sector, and sector labels Delta n = n(a) - n(b)
    a_all = np.arange(d * d) % d
    b_all = np.arange(d * d) // d
    dn_all = nexc[a_all] - nexc[b_all]
    labels = list(range(-N, N + 1))
    sectors, where = [], np.empty(d * d, dtype=np.int64)
    for dn in labels:
        idx = np.flatnonzero(dn_all == dn)
        where[idx] = np.arange(len(idx))
        sectors.append(idx)
    del a_all, b_all, dn_all
    nz1 = [(xp, yp, x, y) for xp in (0, 1) for yp in (0, 1) for x in (0, 1) for y in (0, 1)
           if S1[xp, yp, x, y] != 0]
    for xp, yp, x, y in nz1:
        if xp - yp != x - y:
            raise ValueError("the site map S_1 does not preserve x - y: no excitation-difference sectors")

    def build(idx):
        A, B = idx % d, idx // d
        n = len(idx)
        p = np.arange(n)
        r_, c_, v_ = [p], [p], [-1j * (Hd[A] - Hd[B]) - Gam]
        # -i H rho: column (a, b) feeds rows (c, b), value -i H[c, a]
        for side in (0, 1):
            src = A if side == 0 else B
            starts, cnt = Hoff.indptr[src], np.diff(Hoff.indptr)[src]
            tot = int(cnt.sum())
            rep = np.repeat(p, cnt)
            off = np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            k = Hoff.indices[np.repeat(starts, cnt) + off]
            val = Hoff.data[np.repeat(starts, cnt) + off]
            if side == 0:
                r_.append(where[k + d * B[rep]])
                v_.append(-1j * val)
            else:  # +i rho H: column (a, b) feeds rows (a, c), value +i H[b, c]
                r_.append(where[A[rep] + d * k])
                v_.append(1j * val)
            c_.append(rep)
        xa, yb = (A >> bit) & 1, (B >> bit) & 1
        ra, rb = A & ~(1 << bit), B & ~(1 << bit)
        for xp, yp, x, y in nz1:
            sel = np.flatnonzero((xa == x) & (yb == y))
            r_.append(where[(ra[sel] | (xp << bit)) + d * (rb[sel] | (yp << bit))])
            c_.append(sel)
            v_.append(np.full(len(sel), Gam * S1[xp, yp, x, y]))
        return sps.csc_array((np.concatenate(v_), (np.concatenate(r_), np.concatenate(c_))), shape=(n, n))

    def getter(idx):
        return lambda: build(idx)

    # S_1 (x) id: each column has at most 2 non-zeros of S_1 per (x, y), each row likewise
    per = [sum(1 for t in nz1 if t[2:] == (x, y)) for x in (0, 1) for y in (0, 1)]
    perr = [sum(1 for t in nz1 if t[:2] == (x, y)) for x in (0, 1) for y in (0, 1)]
    schur = math.sqrt(max(per) * max(perr))
    partner = [labels.index(-dn) for dn in labels]
    rects = _local_num_range(S1, Gam, e, U, nexc, labels, mismatch)
    return SectorStructure("local", d, sectors, [getter(s) for s in sectors], labels, partner, schur,
                           mismatch, U, rects)


def _local_num_range(S1, Gam, e, U, nexc, labels, mismatch):
    """Rectangles containing the numerical range ``W`` of each sector ``Delta n`` of (67).

    ``L_s = K_s + D_s`` with ``K = -i[H, .]`` (anti-Hermitian in the Hilbert-Schmidt inner product) and
    ``D = Gamma (S_1 (x) id - I)``.  ``W(K_s + D_s) subset W(K_s) + W(D_s)``.  ``K_s`` is normal with
    eigenvalues ``-i (E_a - E_b)``, ``n_a - n_b = Delta n`` (H conserves the excitation number, so its
    eigenvectors have a definite ``n``), so ``W(K_s) = i [-(max diff), -(min diff)]``.  ``D_s`` is a
    compression of ``D`` (the sector is spanned by a subset of the orthonormal basis ``|a><b|``), so
    ``Re W(D_s)`` lies between the extreme eigenvalues of the Hermitian part of ``D``, i.e. of
    ``Gamma ((S_1 + S_1^H)/2 - I)`` (4 x 4; ``(x) id`` keeps the spectrum), and ``Im W(D_s)`` between
    those of ``Gamma (S_1 - S_1^H)/(2i)``.  Padding: the energies' rounding and the local Hamiltonian
    mismatch (``1e-9 (1 + max|E|)`` plus ``2 sqrt(d) mismatch``).  Used only to choose the Chebyshev
    expansion of :class:`~symcoll.dynamics.sector_solve.ChebExp`.
    """
    M = S1.reshape(4, 4)
    hre = np.linalg.eigvalsh(0.5 * (M + M.conj().T)) * Gam - Gam
    him = np.linalg.eigvalsh((M - M.conj().T) / 2j) * Gam
    nj = np.rint((np.abs(U) ** 2).T @ nexc).astype(np.int64)
    pad = 1e-9 * (1 + float(np.max(np.abs(e)))) + 2 * math.sqrt(len(e)) * mismatch
    N = int(nexc.max())
    lo_n = np.array([e[nj == n].min() if np.any(nj == n) else np.nan for n in range(N + 1)])
    hi_n = np.array([e[nj == n].max() if np.any(nj == n) else np.nan for n in range(N + 1)])
    rects = []
    for dn in labels:
        na = np.arange(max(0, dn), min(N, N + dn) + 1)
        dmax = float(np.nanmax(hi_n[na] - lo_n[na - dn]))
        dmin = float(np.nanmin(lo_n[na] - hi_n[na - dn]))
        rects.append((hre[0] - 1e-12, hre[-1] + 1e-12, -dmax + him[0] - pad, -dmin + him[-1] + pad))
    return rects
