"""The qubit chain of Eqs. (47) and (64): ``H(eps) = H_loc + eps H_int``, built lazily.

:class:`QubitChain` stores only its parameters and the hopping pairs; dense matrices and the
eigenbasis (built band by band: for a uniform chain from ``[H_loc, H_int] = 0``, exact to rounding for
every eps; for a detuned chain, one h per site, by diagonalising each band block
``diag(sum_i h_i s_i) + eps H_int|band``) are made on demand, with their memory and time estimated first and refused above
:data:`DENSE_MEMORY_LIMIT`.  Re-exported by :mod:`symcoll.model`.
"""
from __future__ import annotations

import math

import numpy as np

from . import conventions as cv
from .model import Eigensystem, System, _canonical_degenerate_basis, _group_close, _real_param, to_ctx
from .numeric import Tolerances, get_context

MAX_CHAIN_QUBITS = 14
"""Largest N a :class:`QubitChain` accepts.

Construction builds nothing of size ``2**N``; but the eigenbasis is a dense
``2**N x 2**N`` matrix (2 GiB at N = 14, 8 GiB at N = 15), so beyond 14 nothing fits
in :data:`DENSE_MEMORY_LIMIT`."""

DENSE_MEMORY_LIMIT = 4 * 2**30
"""Largest estimated memory (bytes) of a dense chain matrix or eigenbasis symcoll will build.

:meth:`QubitChain.hamiltonian`, :meth:`QubitChain.h_int_matrix`,
:meth:`QubitChain.h_loc_matrix` and :meth:`QubitChain.eigensystem` estimate their
memory up front and raise ``ValueError`` with the estimate above this limit.  Raise it
(``symcoll.chain.DENSE_MEMORY_LIMIT = 16 * 2**30``) if the machine has the memory."""

MP_ENTRY_BYTES = 200
"""Estimated bytes of one mpmath real number apart from its mantissa digits: the mpf
object (64 B), its tuple (72 B) and the exponent and mantissa integers (~60 B); the
mantissa adds ``dps log2(10) / 8 ~ 0.42 dps`` bytes (``sys.getsizeof``, pure-Python backend)."""


class QubitChain(System):
    """The qubit chain of Eq. (64), ``H(eps) = H_loc + eps H_int`` (Eq. (47)).

    ``H_loc = sum_i h_i (sigma_z^(i) + I)/2`` (Eqs. (47)/(64) with one energy per site; the
    paper's chain is uniform, ``h_i = h``) and
    ``H_int = sum_{i=1}^{N-1} [sigma_+^(i) sigma_-^(i+1) + h.c.]``.
    The paper prints "+ c.c." in (64); with "c.c." H would not be Hermitian, so the
    Hermitian conjugate is meant (see README_derivations.md).

    Parameters
    ----------
    N : int
        Number of qubits, ``1 <= N <= 14`` (:data:`MAX_CHAIN_QUBITS`).
    h : float or sequence of N floats
        Qubit energy ``h > 0`` (uniform chain, the paper's), or one energy per site
        ``(h_1, ..., h_N)``, each ``> 0`` (a *detuned* chain, issue 14; e.g. Levy and Kosloff's
        two detuned qubits ``QubitChain(2, h=[4.0, 4.5], eps=0.1)``).  A sequence of equal
        values is the uniform chain: it takes exactly the scalar path (bit for bit).
    eps : float
        Inter-qubit coupling, ``eps >= 0``.
    ladder : {"paper", "unit"}
        ``"paper"``: ``sigma_pm = sigma_x pm i sigma_y`` as printed (hopping ``4 eps``);
        ``"unit"``: ``sigma_+ = |1><0|`` (hopping ``eps``).

    Attributes
    ----------
    h_sites : tuple
        The per-site energies ``(h_1, ..., h_N)`` (always; the given values, exact types kept).
    uniform : bool
        True when every site has the same energy.
    h : the common energy of a uniform chain.  For a detuned chain there is no single h: reading
        ``.h`` raises ValueError, so every computation that needs one (the local thermal ratio
        ``exp(-beta h)``, the sum rule (66) with ``eps0 = n h``, the certified maps, whose exact
        energies are ``n h + eps lambda``) refuses a detuned chain instead of using a wrong value.

    Notes
    -----
    Detuned chains: the excitation number is still conserved, but ``[H_loc, H_int] != 0``, so the
    band block of ``H(eps)`` is ``diag(sum of h_i over the excited sites) + eps H_int|band`` and its
    eigenvectors depend on eps (:func:`band_eigensystem`, detuned branch).

    Construction only validates the parameters (microseconds, a few hundred bytes, for
    every N).  ``H_int`` is available sparse (:meth:`h_int_sparse`); the dense matrices
    and the eigenbasis are built on demand (the eigenbasis band by band from the band
    blocks of ``H_int``) after estimating their memory, and refused with the estimate
    above :data:`DENSE_MEMORY_LIMIT` (float64 eigenbasis: about 0.2 / 0.75 / 3.0 GiB
    at N = 12 / 13 / 14).

    Examples
    --------
    >>> from symcoll import QubitChain
    >>> chain = QubitChain(3, h=4, eps=0.1)
    >>> [round(float(x), 4) for x in chain.eigensystem().energies[:4]]
    [0.0, 3.4343, 4.0, 4.5657]
    """

    def __init__(self, N, h, eps, ladder: str = "paper"):
        if isinstance(N, bool) or not isinstance(N, (int, np.integer)):
            raise TypeError(f"N must be an integer number of qubits (got {N!r})")
        if not 1 <= N <= MAX_CHAIN_QUBITS:
            size = f" ({8 * 4**N / 2**30:.0f} GiB at N = {N})" if MAX_CHAIN_QUBITS < N <= 64 else ""
            raise ValueError(
                f"N must be in 1..{MAX_CHAIN_QUBITS} (got {N}); the dimension is 2**N, the eigenbasis a dense "
                f"2**N x 2**N matrix{size} and the collision tensor 2**(4N) numbers"
            )
        self.N = int(N)
        self._h, self.h_sites = _parse_h(h, self.N)
        self.uniform = self._h is not None
        self.eps = _real_param("eps", eps, nonneg=True)
        self.ladder = cv.check_ladder(ladder)
        if self.uniform:
            self.name = f"QubitChain(N={self.N}, h={self._h}, eps={self.eps}, ladder={self.ladder!r})"
        else:
            hs = ", ".join(str(x) for x in self.h_sites)
            self.name = f"QubitChain(N={self.N}, h=[{hs}], eps={self.eps}, ladder={self.ladder!r})"
        self._eig_cache = {}
        # Nothing of size 2**N is built here (O(N) time and memory): the matrices are
        # made on demand from the hopping pairs, the eigenbasis band by band.
        self._amplitude = cv.LADDER_CONVENTIONS[self.ladder] ** 2  # H_int entry: sigma_+ sigma_- = f**2

    def __repr__(self):
        return self.name

    @property
    def h(self):
        """The common qubit energy h of a uniform chain (Eq. (64)).

        Raises
        ------
        ValueError
            For a detuned chain (no single h): use :attr:`h_sites`.
        """
        if self._h is None:
            raise ValueError(
                f"{self.name} is detuned (h differs between sites), so it has no single qubit energy h; "
                "this computation needs a uniform chain (h one value), or use QubitChain.h_sites (one h per site)")
        return self._h

    def site_h(self, site):
        """The energy ``h_site`` of qubit ``site`` (1-based), e.g. of the site a coupling acts on."""
        if isinstance(site, bool) or not isinstance(site, (int, np.integer)):
            raise TypeError(f"site must be an integer qubit index (1-based) (got {site!r})")
        if not 1 <= site <= self.N:
            raise ValueError(f"site must be in 1..N = 1..{self.N} (got {site})")
        return self.h_sites[int(site) - 1]

    def _site_occupations(self):
        """``occ[s, i] = s_(i+1)`` of every local basis state s (qubit 1 the most significant bit)."""
        s = np.arange(self.dim)
        return np.stack([(s >> (self.N - 1 - i)) & 1 for i in range(self.N)], axis=1)

    def local_energies(self, dps=None):
        """Diagonal of ``H_loc = sum_i h_i (sigma_z^(i) + I)/2`` (Eq. (47)) in the local basis, length 2**N.

        float64 (``dps=None``) or mpmath numbers (each ``h_i`` converted exactly, then summed).
        """
        ctx = get_context(dps)
        occ = self._site_occupations()
        if self.uniform:
            nexc = cv.excitation_numbers(self.N)
            if not ctx.is_mp:
                return float(self._h) * nexc.astype(float)
            h = to_ctx(ctx, self._h)
            return np.array([h * int(n) for n in nexc], dtype=object)
        if not ctx.is_mp:
            return occ.astype(float) @ np.array([float(x) for x in self.h_sites])
        hs = [to_ctx(ctx, x) for x in self.h_sites]
        out = np.empty(self.dim, dtype=object)
        for k in range(self.dim):
            out[k] = sum((hs[i] for i in range(self.N) if occ[k, i]), ctx.mpf(0))
        return out

    @property
    def dim(self) -> int:
        return 2**self.N

    # -- operators in the local basis (float64) --------------------------------------
    def _hopping_pairs(self):
        """Local indices ``(rows, cols)`` of the nonzero entries of ``H_int`` (Eq. (64)), each ``f**2``.

        ``sigma_+^(i) sigma_-^(i+1) + h.c.`` moves one excitation between neighbours i, i+1:
        it connects the two states whose bits differ exactly by swapping ``s_i != s_(i+1)``.
        Qubit i is bit ``N - i`` of the index (qubit 1 most significant).  O(N 2**N) memory.
        """
        s = np.arange(self.dim)
        rows, cols = [], []
        for i in range(1, self.N):
            lo = self.N - i - 1  # bit of qubit i + 1; qubit i is bit lo + 1
            src = s[(((s >> lo) ^ (s >> (lo + 1))) & 1).astype(bool)]
            rows.append(src)
            cols.append(src ^ (3 << lo))
        if not rows:
            return np.zeros(0, dtype=s.dtype), np.zeros(0, dtype=s.dtype)
        return np.concatenate(rows), np.concatenate(cols)

    def _band_blocks(self):
        """Yield ``(n, idx, block)`` for n = 0..N: the local indices with n excitations (ascending)
        and ``H_int[np.ix_(idx, idx)]``, built from the hopping pairs (no ``d x d`` matrix).

        ``H_int`` conserves the excitation number (it moves excitations between neighbours; for a
        uniform chain also ``[H_loc, H_int] = 0``), so every hopping pair lies inside one band.
        """
        nexc = cv.excitation_numbers(self.N)
        rows, cols = self._hopping_pairs()
        band_of_pair = nexc[rows]
        pos = np.empty(self.dim, dtype=np.intp)
        for n in range(self.N + 1):
            idx = np.flatnonzero(nexc == n)
            pos[idx] = np.arange(len(idx))
            sel = band_of_pair == n
            block = np.zeros((len(idx), len(idx)))
            block[pos[rows[sel]], pos[cols[sel]]] = self._amplitude
            yield n, idx, block

    def _check_dense(self, what, ctx, copies=1):
        """Refuse (ValueError with the estimate) a dense ``d x d`` matrix above :data:`DENSE_MEMORY_LIMIT`."""
        d = self.dim
        per_entry = 8 if not ctx.is_mp else 8 + _mp_entry_bytes(ctx)
        _check_memory(f"QubitChain(N={self.N}).{what}", copies * per_entry * d * d,
                      f"a dense {d} x {d} matrix of {ctx.name} numbers",
                      "use h_int_sparse() (O(N 2**N) memory) or a smaller N")

    def h_loc_matrix(self) -> np.ndarray:
        """``H_loc`` of Eq. (47) in the local basis (diagonal: ``h`` times excitations, or
        ``sum_i h_i s_i`` for a detuned chain)."""
        self._check_dense("h_loc_matrix()", get_context(None))
        if not self.uniform:
            return np.diag(self.local_energies())
        return np.diag(float(self.h) * cv.excitation_numbers(self.N).astype(float))

    def h_int_matrix(self) -> np.ndarray:
        """``H_int`` of Eq. (64) in the local basis (real symmetric, with ``+ h.c.``), dense.

        Raises
        ------
        ValueError
            If the ``2**N x 2**N`` matrix exceeds :data:`DENSE_MEMORY_LIMIT` (use :meth:`h_int_sparse`).
        """
        self._check_dense("h_int_matrix()", get_context(None))
        H = np.zeros((self.dim, self.dim))
        rows, cols = self._hopping_pairs()
        H[rows, cols] = self._amplitude
        return H

    def h_int_sparse(self):
        """``H_int`` of Eq. (64) as a ``scipy.sparse.csr_array`` (float64, ``(N-1) 2**N`` nonzeros)."""
        import scipy.sparse as sps

        rows, cols = self._hopping_pairs()
        return sps.csr_array((np.full(len(rows), self._amplitude), (rows, cols)), shape=(self.dim, self.dim))

    def hamiltonian(self, dps=None):
        """``H(eps)`` of Eq. (64) in the local basis, dense.

        Raises
        ------
        ValueError
            If the ``2**N x 2**N`` matrix exceeds :data:`DENSE_MEMORY_LIMIT`.
        """
        ctx = get_context(dps)
        if not ctx.is_mp:
            self._check_dense("hamiltonian()", ctx)
            H = self.h_loc_matrix()
            rows, cols = self._hopping_pairs()
            H[rows, cols] = float(self.eps) * self._amplitude
            return H
        self._check_dense(f"hamiltonian(dps={ctx.dps})", ctx, copies=4)  # diag, H_int, two products
        if not self.uniform:
            return ctx.array(np.diag(self.local_energies(ctx.dps))) + ctx.array(self.h_int_matrix()) * to_ctx(
                ctx, self.eps)
        h, eps = to_ctx(ctx, self.h), to_ctx(ctx, self.eps)
        nexc = cv.excitation_numbers(self.N)
        return ctx.array(np.diag(nexc).astype(object)) * h + ctx.array(self.h_int_matrix()) * eps

    @property
    def hopping(self):
        """Hopping amplitude between neighbours: ``4 eps`` (paper ladder) or ``eps`` (unit)."""
        return self._amplitude * float(self.eps)

    def fingerprint(self) -> tuple:
        """Identity of the chain: ``("QubitChain", N, h, eps, ladder)`` (h, eps as float64); for a
        detuned chain h is the tuple of the per-site energies.

        These determine H(eps) of Eq. (64), its energies and its eigenbasis.
        """
        if not self.uniform:
            return ("QubitChain", self.N, tuple(float(x) for x in self.h_sites), float(self.eps), self.ladder)
        return ("QubitChain", self.N, float(self.h), float(self.eps), self.ladder)

    def is_real_symmetric(self) -> bool:
        """Always True: H(eps) of Eq. (64) is real symmetric in the local basis."""
        return True

    def describe(self) -> dict:
        if not self.uniform:
            hs = [float(x) for x in self.h_sites]
            return {"system": "QubitChain", "N": self.N, "h": hs, "h_sites": hs, "eps": float(self.eps),
                    "ladder": self.ladder, "ladder_description": cv.LADDER_DESCRIPTIONS[self.ladder]}
        return {
            "system": "QubitChain",
            "N": self.N,
            "h": float(self.h),
            "eps": float(self.eps),
            "ladder": self.ladder,
            "ladder_description": cv.LADDER_DESCRIPTIONS[self.ladder],
        }

    def band_degeneracies(self):
        """``g_n = binomial(N, n)`` for n = 0..N (Fig. 1)."""
        return [math.comb(self.N, n) for n in range(self.N + 1)]

    def _compute_eigensystem(self, ctx) -> Eigensystem:
        """Band-by-band eigenbasis (:func:`band_eigensystem`), sized first (:func:`eigensystem_cost`)."""
        return band_eigensystem(self, ctx)


def _is_sequence(h) -> bool:
    """True for a list, tuple or 1-d array of per-site energies (not a string, not a scalar)."""
    if isinstance(h, (str, bytes)):
        return False
    if isinstance(h, np.ndarray):
        return h.ndim != 0
    return isinstance(h, (list, tuple))


def _parse_h(h, N):
    """Validate ``h`` (one value or N per-site values); return ``(h or None, h_sites)``.

    The first item is the common value of a uniform chain (the given object itself for a
    scalar, the first entry for a list of equal values) and None for a detuned chain.
    Equality is decided on the exact values (compared as 60-digit mpmath numbers, so that,
    e.g., ``["0.1", 0.1]`` counts as detuned: the string is one tenth, the float is not).
    """
    if not _is_sequence(h):
        _real_param("h", h, positive=True, rng="(0, inf), or a sequence of N such values (one per site)")
        return h, (h,) * N
    vals = list(h.tolist() if isinstance(h, np.ndarray) else h)
    if np.ndim(h) != 1 or any(_is_sequence(x) for x in vals):
        raise ValueError(f"h must be one value or a flat sequence of N = {N} values (got a nested sequence)")
    if len(vals) != N:
        raise ValueError(f"h must be one value or a sequence of N = {N} values, one per site (got {len(vals)} values)")
    for i, x in enumerate(vals):
        _real_param(f"h[{i}] (site {i + 1})", x, positive=True)
    ctx = get_context(60)
    exact = [to_ctx(ctx, x) for x in vals]
    if all(x == exact[0] for x in exact):
        return vals[0], tuple(vals)
    return None, tuple(vals)


def _mp_entry_bytes(ctx) -> int:
    """Estimated bytes of one mpmath number at the context's precision (:data:`MP_ENTRY_BYTES`)."""
    return MP_ENTRY_BYTES + math.ceil(ctx.dps * math.log2(10) / 8)


def _check_memory(what, nbytes, content, instead, seconds=None):
    """Raise ValueError if the estimate ``nbytes`` exceeds :data:`DENSE_MEMORY_LIMIT`.

    The message names the call, the estimated GiB (and time, if given), the limit and
    what to do instead.
    """
    if nbytes > DENSE_MEMORY_LIMIT:
        took = "" if seconds is None else f" and {_duration(seconds)}"
        raise ValueError(
            f"{what} needs about {nbytes / 2**30:.3g} GiB{took} (estimates; {content}), above the limit "
            f"symcoll.chain.DENSE_MEMORY_LIMIT = {DENSE_MEMORY_LIMIT / 2**30:.3g} GiB; {instead}, or raise "
            "the limit if the machine has the memory"
        )


def _duration(seconds) -> str:
    """``seconds`` in the largest sensible unit (s, min, h, days)."""
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.2g} s"


def eigensystem_cost(chain, ctx):
    """Estimated (bytes, seconds) of :meth:`eigensystem` in ``ctx`` (estimates, not bounds).

    Memory: the ``d x d`` eigenvector matrix, all band eigenvector blocks
    ``sum_n C(N,n)**2`` (held until the energies are sorted), one band embedded in
    ``d`` rows (the canonical basis of a degenerate level) and three copies of the
    largest block inside ``eigh``; mpmath numbers at :data:`MP_ENTRY_BYTES`.  This
    errs high: float64 traced peaks 10.8 / 166 / 654 MiB at N = 10 / 12 / 13
    (estimates 12.8 / 197 / 766 MiB).  Time: ``eigh`` of the blocks,
    ``~ sum_n C(N,n)**3``, plus ``~ d**2`` for the canonical bases, the phase rule and
    the copies, with rates fitted on a shared 2-core x86 machine (float64 measured
    1.2 / 7.6 / 42 s at N = 10 / 12 / 13, estimated 0.3 / 7.4 / 44 s; mpmath at 30
    digits 2e-4 s per ``C**3``); a rough, machine-dependent estimate.
    """
    d = chain.dim
    sizes = chain.band_degeneracies()
    cmax, sq, cube = max(sizes), sum(c * c for c in sizes), sum(c**3 for c in sizes)
    if ctx.is_mp:
        entry = _mp_entry_bytes(ctx)
        nbytes = (8 + entry) * d * d + entry * (2 * sq + d * cmax)
        seconds = 1.7e-4 * (1 + ctx.dps / 200) * cube + 2e-6 * d * d
    else:
        nbytes = 8 * (d * d + sq + d * cmax + 3 * cmax * cmax)
        seconds = 2e-9 * cube + 2e-7 * d * d
    return nbytes, seconds


def band_eigensystem(chain, ctx) -> Eigensystem:
    """Band-by-band eigenbasis: ``eps_j = n_j h + eps lambda_j`` with ``lambda_j`` from H_int.

    Since ``[H_loc, H_int] = 0`` the eigenvectors do not depend on eps > 0, and
    computing them from ``H_int`` restricted to each band keeps them exact to
    rounding however small eps is (the gap ratio does not enter).  Only the band
    blocks of ``H_int`` are built; the memory is estimated up front
    (:func:`eigensystem_cost`) and refused above :data:`DENSE_MEMORY_LIMIT`.
    """
    nbytes, seconds = eigensystem_cost(chain, ctx)
    call = "eigensystem()" if not ctx.is_mp else f"eigensystem(dps={ctx.dps})"
    _check_memory(f"QubitChain(N={chain.N}).{call}", nbytes,
                  f"the {chain.dim} x {chain.dim} eigenvector matrix and the band blocks", "use a smaller N",
                  seconds)
    if not chain.uniform:
        return _detuned_band_eigensystem(chain, ctx)
    d = 2**chain.N
    h, eps = to_ctx(ctx, chain.h), to_ctx(ctx, chain.eps)
    energies, vecs, bands, lam_all = [], [], [], []
    groups = []
    hint_max = chain._amplitude if chain.N > 1 else 0.0  # max |H_int|
    tol_lam = Tolerances(ctx.eps).degeneracy(hint_max * d, d)
    for n, idx, block in chain._band_blocks():
        if len(idx) == 1:
            lam = ctx.array([0.0])
            W = ctx.eye(1)
        else:
            lam, W = ctx.eigh(ctx.array(block))
        lamf = ctx.to_float(lam)
        if not ctx.is_mp:
            W = np.array(W, dtype=float)
        if float(chain.eps) == 0.0:
            sub = [tuple(range(len(idx)))] if len(idx) > 1 else []
        else:
            sub = _group_close(lamf, tol_lam)
        # column a of the band lives on the rows idx (zero elsewhere)
        col = _band_columns(ctx, d, idx, W, sub)
        for a in range(len(idx)):
            energies.append(n * h + eps * lam[a])
            lam_all.append(lamf[a])
            vecs.append((idx, col[a]))
            bands.append(n)
        groups.append([tuple(len(bands) - len(idx) + a for a in grp) for grp in sub])
    # accidental degeneracies between bands (possible only for large eps)
    h_max = max(float(chain.h) * float(chain.N), float(chain.eps) * hint_max)  # max |H|
    tol_e = Tolerances(ctx.eps).degeneracy(h_max * d, d)
    return _assemble_bands(ctx, d, energies, vecs, bands, lam_all, groups, tol_e)


def _band_columns(ctx, d, idx, W, groups):
    """The eigenvector columns of one band (rows ``idx``), each degenerate group in ``groups``
    replaced by its canonical basis (computed on the columns embedded in ``d`` rows, as for a dense
    U; the result vanishes outside ``idx`` too)."""
    col = [W[:, a] for a in range(len(idx))]
    for grp in groups:
        B = ctx.zeros((d, len(grp)), complex=False) if ctx.is_mp else np.zeros((d, len(grp)))
        B[idx, :] = W[:, list(grp)]
        B = _canonical_degenerate_basis(ctx, B, range(len(grp)))
        for k, a in enumerate(grp):
            col[a] = B[idx, k]
    return col


def _assemble_bands(ctx, d, energies, vecs, bands, within, groups, tol_e) -> Eigensystem:
    """The :class:`Eigensystem` from per-band eigenpairs (both band constructions).

    ``energies``, ``vecs`` (``(rows, vector)``), ``bands``, ``within`` (the within-band sort key) list
    every eigenpair band by band; ``groups`` the within-band degenerate groups (indices into those
    lists).  Orders them by (energy, band, within) (DESIGN.md), adds the accidental degeneracies
    across bands (energies within ``tol_e`` not already in one band group) and applies the phase
    rule :func:`conventions.fix_phases`.
    """
    ef = np.array([float(ctx.to_float(e)) for e in energies])
    order = sorted(range(d), key=lambda i: (ef[i], bands[i], within[i]))
    rank = {old: new for new, old in enumerate(order)}
    E = np.empty(d, dtype=object if ctx.is_mp else float)
    U = (ctx.zeros((d, d), complex=False) if ctx.is_mp else np.zeros((d, d)))
    for new, old in enumerate(order):
        E[new] = energies[old]
        rows, v = vecs[old]
        U[rows, new] = v
    vecs.clear()  # the caller's list: free the band vectors before the degeneracy work (large N)
    deg = [tuple(sorted(rank[i] for i in g)) for band_groups in groups for g in band_groups]
    in_group = {i: k for k, g in enumerate(deg) for i in g}
    for grp in _group_close(np.sort(ef), tol_e):
        k = in_group.get(grp[0])
        if k is None or any(in_group.get(i) != k for i in grp):  # not inside one band group
            deg.append(tuple(grp))
    U = cv.fix_phases(U)
    return Eigensystem(E, U, sorted(deg), np.array([bands[o] for o in order]), ctx.name)


def _detuned_band_eigensystem(chain, ctx) -> Eigensystem:
    """Band-by-band eigenbasis of a detuned chain (``h_i`` not all equal; issue 14).

    The excitation number ``n = sum_i s_i`` still commutes with ``H_loc`` and with ``H_int``
    (``H_int`` only moves excitations between neighbours), so ``H(eps)`` is block diagonal in the
    bands; but ``[H_loc, H_int] != 0``, so each band block is
    ``diag(sum_i h_i s_i) + eps H_int|band`` (Eqs. (47), (64)) and is diagonalised as a whole: the
    energies are its eigenvalues, not ``n h + eps lambda``, and the eigenvectors depend on eps.
    At ``eps = 0`` the blocks are diagonal and are not handed to ``eigh``: the energies are the
    exact sums ``sum_i h_i s_i`` and the vectors local basis states.

    Conventions as for the uniform chain (DESIGN.md): energies ascending (ties: lower band
    first, then the within-band order), the canonical basis of every degenerate level (Gram-Schmidt
    of the projected local basis vectors), then the phase rule :func:`conventions.fix_phases`.
    Degenerate levels are decided with ``Tolerances.degeneracy`` at the scale of ``max |H|``
    (the sum of the ``h_i`` or the hopping), inside a band and across bands.
    """
    d = chain.dim
    eps = to_ctx(ctx, chain.eps)
    e0 = chain.local_energies(ctx.dps if ctx.is_mp else None)
    hint_max = chain._amplitude if chain.N > 1 else 0.0
    h_max = max(sum(float(x) for x in chain.h_sites), float(chain.eps) * hint_max * 2)  # >= max |eig H|
    tol_e = Tolerances(ctx.eps).degeneracy(h_max * d, d)
    energies, vecs, bands, within = [], [], [], []
    groups = []
    for n, idx, block in chain._band_blocks():
        k = len(idx)
        if float(chain.eps) == 0.0 or k == 1:
            diag = [e0[i] for i in idx]
            order = sorted(range(k), key=lambda a: float(ctx.to_float(diag[a])))
            lam = [diag[a] for a in order]
            W = ctx.zeros((k, k), complex=False) if ctx.is_mp else np.zeros((k, k))
            for col, a in enumerate(order):
                W[a, col] = 1
        else:
            if ctx.is_mp:
                A = ctx.array(np.diag(np.array([e0[i] for i in idx], dtype=object))) + ctx.array(block) * eps
            else:
                A = np.diag(e0[idx]) + float(chain.eps) * block
            lam, W = ctx.eigh(A)
            if not ctx.is_mp:
                W = np.array(W, dtype=float)
        lamf = np.array([float(ctx.to_float(x)) for x in lam])
        sub = _group_close(lamf, tol_e)
        col = _band_columns(ctx, d, idx, W, sub)
        for a in range(k):
            energies.append(lam[a])
            vecs.append((idx, col[a]))
            bands.append(n)
            within.append(a)
        groups.append([tuple(len(bands) - k + a for a in grp) for grp in sub])
    return _assemble_bands(ctx, d, energies, vecs, bands, within, groups, tol_e)
