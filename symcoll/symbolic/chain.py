"""Symbolic qubit chain, Eqs. (47) and (64), for any N (SymPy).

Conventions are those of :mod:`symcoll.conventions` (the same as
:class:`symcoll.QubitChain`): local basis ``|s_1 ... s_N>`` with qubit 1 the most
significant bit, one-qubit order ``(|0>, |1>)``, ``sigma_+ = f |1><0|`` with
``f = 2`` for the paper's ladder ``sigma_pm = sigma_x pm i sigma_y`` and ``f = 1``
for unit ladder operators.  ``h`` and ``eps`` are SymPy symbols (or numbers).

Named outputs (each documented with its equation):

* :func:`h_loc` -- ``H_loc = sum_i h (sigma_z^(i) + I)/2`` (Eq. (47));
* :func:`h_int` -- ``H_int = sum_i [sigma_+^(i) sigma_-^(i+1) + h.c.]`` (Eq. (64));
* :func:`hamiltonian` -- ``H(eps) = H_loc + eps H_int``;
* :func:`band_block` -- ``H_int`` restricted to the band with n excitations;
* :func:`band1_energies` -- closed form ``n=1`` spectrum ``h + 2 t cos(k pi/(N+1))``;
* :func:`exact_degeneracies` -- exact multiple eigenvalues of ``H_int`` inside each
  band (they stay degenerate at every eps, e.g. the double level ``2h`` for N = 4).

The derivations registered at the bottom are run by ``symcoll verify`` and by the
scripts ``derivations/chain_hamiltonian.py`` and ``derivations/chain_spectrum.py``.
"""
from __future__ import annotations

import math
from functools import lru_cache

import sympy as sp

from ..conventions import LADDER_CONVENTIONS, check_ladder
from ..derive import derivation

h, eps = sp.symbols("h epsilon", positive=True)
lam = sp.Symbol("lambda")

MAX_SYMBOLIC_N = 12
"""Largest N accepted by the symbolic chain (the matrices are 2**N x 2**N)."""


def _check_N(N):
    if isinstance(N, bool) or not isinstance(N, int):
        raise TypeError(f"N must be an integer number of qubits (got {N!r})")
    if not 1 <= N <= MAX_SYMBOLIC_N:
        raise ValueError(f"N must be in 1..{MAX_SYMBOLIC_N} for the symbolic chain (got {N})")
    return N


def _popcount(i: int) -> int:
    return bin(i).count("1")


def ladder_factor(ladder: str = "paper"):
    """``f`` with ``sigma_+ = f |1><0|``: ``2`` (paper, Eq. (64)) or ``1`` (unit), as a SymPy Integer."""
    return sp.Integer(int(LADDER_CONVENTIONS[check_ladder(ladder)]))


def hopping(ladder: str = "paper"):
    """Hopping amplitude ``t = f**2``: ``<..10..|H_int|..01..> = t`` (4 for the paper's ladder, 1 for unit)."""
    return ladder_factor(ladder) ** 2


@lru_cache(maxsize=None)
def _h_int_cached(N: int, ladder: str):
    d = 2**N
    t = hopping(ladder)
    entries = {}
    for i in range(1, N):  # pair of qubits (i, i+1), 1-based; bit of qubit q is N - q
        bi, bj = N - i, N - i - 1
        for idx in range(d):
            # sigma_+^(i) sigma_-^(i+1): |.. 0_i 1_{i+1} ..> -> t |.. 1_i 0_{i+1} ..>
            if not (idx >> bi) & 1 and (idx >> bj) & 1:
                new = idx | (1 << bi)
                new &= ~(1 << bj)
                entries[(new, idx)] = entries.get((new, idx), 0) + t
                entries[(idx, new)] = entries.get((idx, new), 0) + t  # + h.c.
    return sp.ImmutableSparseMatrix(d, d, entries)


def h_int(N: int, ladder: str = "paper") -> sp.ImmutableSparseMatrix:
    """``H_int`` of Eq. (64) (read with "+ h.c.") in the local basis.

    ``H_int = sum_{i=1}^{N-1} [sigma_+^(i) sigma_-^(i+1) + h.c.]`` with
    ``sigma_+ = f |1><0|``; the matrix is real symmetric with entries ``t = f**2``
    between local states that differ by moving one excitation between neighbours.

    Parameters
    ----------
    N : int
        Number of qubits, ``1 <= N <= 12``.
    ladder : {"paper", "unit"}

    References
    ----------
    Eq. (64) of the paper (printed with "+ c.c.", see README_derivations.md).
    """
    return _h_int_cached(_check_N(N), check_ladder(ladder))


def h_int_printed(N: int, ladder: str = "paper") -> sp.Matrix:
    """``H_int`` with the printed "+ c.c." (entrywise complex conjugate) of Eq. (64).

    Built from the operator definition ``sigma_pm = sigma_x pm i sigma_y`` through
    Kronecker products, so it is an independent construction; it is *not* Hermitian
    (the conjugate of the real matrix ``sigma_+ (x) sigma_-`` is itself).
    """
    return _h_int_kron(N, ladder, lambda term: term.conjugate())


def h_int_from_paulis(N: int, ladder: str = "paper") -> sp.Matrix:
    """``H_int`` with "+ h.c." built from Pauli matrices and Kronecker products (independent check)."""
    return _h_int_kron(N, ladder, lambda term: term.H)


def _h_int_kron(N, ladder, partner):
    """``sum_i [sigma_+^(i) sigma_-^(i+1) + partner(...)]`` of (64) from Pauli Kronecker products."""
    _check_N(N)
    f = ladder_factor(ladder) / 2
    sx = sp.Matrix([[0, 1], [1, 0]])
    sy = sp.Matrix([[0, sp.I], [-sp.I, 0]])  # order (|0>,|1>): sigma_z = diag(-1, 1)
    sp_, sm_ = f * (sx + sp.I * sy), f * (sx - sp.I * sy)
    total = sp.zeros(2**N, 2**N)
    for i in range(1, N):
        ops = [sp.eye(2)] * N
        ops[i - 1], ops[i] = sp_, sm_
        term = ops[0]
        for o in ops[1:]:
            term = sp.kronecker_product(term, o)
        total += term + partner(term)
    return total


def h_loc(N: int, h_sym=h) -> sp.ImmutableSparseMatrix:
    """``H_loc = sum_i h (sigma_z^(i) + I)/2`` of Eq. (47): diagonal, ``h`` times the excitation number."""
    _check_N(N)
    d = 2**N
    return sp.ImmutableSparseMatrix(d, d, {(i, i): h_sym * _popcount(i) for i in range(d) if _popcount(i)})


def hamiltonian(N: int, h_sym=h, eps_sym=eps, ladder: str = "paper") -> sp.Matrix:
    """``H(eps) = H_loc + eps H_int`` (Eqs. (47), (64)) as a SymPy matrix in the local basis."""
    return sp.Matrix(h_loc(N, h_sym)) + eps_sym * sp.Matrix(h_int(N, ladder))


def band_indices(N: int, n: int) -> list:
    """Local-basis indices of the band with ``n`` excitations (ascending)."""
    _check_N(N)
    if not 0 <= n <= N:
        raise ValueError(f"n must be in 0..N = 0..{N} (got {n})")
    return [i for i in range(2**N) if _popcount(i) == n]


def band_block(N: int, n: int, ladder: str = "paper") -> sp.Matrix:
    """``H_int`` restricted to band n (a ``binomial(N, n)`` square integer matrix)."""
    idx = band_indices(N, n)
    H = h_int(N, ladder)
    return sp.Matrix(len(idx), len(idx), lambda a, b: H[idx[a], idx[b]])


def band1_energies(N: int, ladder: str = "paper", h_sym=h, eps_sym=eps) -> list:
    """Closed-form one-excitation energies ``h + 2 t eps cos(k pi/(N+1))``, k = 1..N.

    ``t = 4`` for the paper's ladder (Eq. (64) literal), ``t = 1`` for unit ladder
    operators.  Derived in :func:`derive_chain_spectrum` from the Chebyshev recursion
    of the path-graph characteristic polynomial.
    """
    _check_N(N)
    t = hopping(ladder)
    return [h_sym + 2 * t * eps_sym * sp.cos(sp.pi * k / (N + 1)) for k in range(1, N + 1)]


def exact_degeneracies(N: int, ladder: str = "paper") -> list:
    """Exact degeneracies of ``H(eps)`` that hold for every eps (inside bands).

    Since ``[H_loc, H_int] = 0`` every eigenvalue is ``n h + eps lambda`` with
    ``lambda`` a root of the band-n characteristic polynomial of ``H_int``.  A
    repeated root (found exactly by square-free factorisation over the integers) is a
    degeneracy at every eps.

    Returns
    -------
    list of dict
        ``{"band": n, "factor": polynomial in lambda, "root": root if rational/solvable,
        "multiplicity": k, "energy": n h + eps root}`` for every factor with ``k >= 2``.
    """
    out = []
    for n in range(N + 1):
        if math.comb(N, n) < 2:
            continue
        poly = band_block(N, n, ladder).charpoly(lam)
        _, factors = sp.sqf_list(poly.as_expr(), lam)
        for fac, mult in factors:
            if mult < 2:
                continue
            for root in sp.Poly(fac, lam).all_roots():
                out.append(
                    {
                        "band": n,
                        "factor": fac,
                        "root": root,
                        "multiplicity": int(mult),
                        "energy": n * h + eps * root,
                    }
                )
    return out


def describe_degeneracies(N: int, ladder: str = "paper") -> str:
    """Human-readable report of :func:`exact_degeneracies`."""
    degs = exact_degeneracies(N, ladder)
    if not degs:
        return f"N={N} ({ladder} ladder): no exact degeneracy; every band is split by eps H_int"
    parts = [
        f"band n={d['band']}: level {d['energy']} has multiplicity {d['multiplicity']}" for d in degs
    ]
    return f"N={N} ({ladder} ladder): exact degeneracies at every eps: " + "; ".join(parts)


# ----------------------------------------------------------------------------- derivations
def h_loc_from_paulis(N: int, h_sym=h) -> sp.Matrix:
    """``sum_i h (sigma_z^(i) + I)/2`` of Eq. (47) from Kronecker products, ``sigma_z = |1><1| - |0><0|``."""
    return h_loc_detuned_from_paulis(N, [h_sym] * N)


@derivation("chain_hamiltonian", equations=["(47)", "(64)", "(C18)"])
def derive_chain_hamiltonian(d):
    """Chain Hamiltonian (47)/(64): Hermiticity needs '+ h.c.', [H_loc, H_int] = 0, bands of size binomial(N, n)."""
    d.step("symcoll builds H_int by a bit rule: sigma_+^(i) sigma_-^(i+1) moves an excitation from qubit i+1 to i "
           "with amplitude t = f^2 (f = 2 for the paper's sigma_pm = sigma_x pm i sigma_y, f = 1 for unit ladders), "
           "plus the Hermitian conjugate")
    for N in (2, 3):
        built = sp.Matrix(h_int(N, "paper"))
        printed = h_int_printed(N, "paper")
        herm_defect = (printed - printed.H).norm()
        d.compare("(64)", f"N={N}, paper ladder: bit-rule H_int vs (64) from Pauli Kronecker products; printed "
                  f"'+ c.c.' is not Hermitian (|H - H^dag| = {herm_defect}); correction '+ h.c.'",
                  built, printed, correction=h_int_from_paulis(N, "paper"))
        d.compare("(64)", f"N={N}, unit ladder sigma_+ = |1><0|: bit-rule H_int vs (64) read with '+ h.c.' "
                  "(paper ladder)", sp.Matrix(h_int(N, "unit")), h_int_from_paulis(N, "paper"),
                  convention="ladder normalisation: the paper's sigma_pm are 2x the unit ones, so its hopping "
                             "sigma_+ sigma_- is 4x the unit one (4 eps vs eps)",
                  to_convention=lambda P: P / 4)
    for N in range(1, 9):
        Hl, Hi = h_loc(N), h_int(N)
        if N <= 4:
            d.compare("(47)", f"N={N}: diagonal H_loc (h x excitation number) = sum_i h (sigma_z^(i) + I)/2",
                      sp.Matrix(Hl), h_loc_from_paulis(N))
            d.compare("(C18)", f"N={N}: [H_loc, H_int] = 0 (the condition stated before (C19))",
                      sp.Matrix(Hl) * sp.Matrix(Hi) - sp.Matrix(Hi) * sp.Matrix(Hl), sp.zeros(2**N, 2**N))
        else:
            # [D, A]_{ab} = (D_aa - D_bb) A_ab for diagonal D: zero iff A couples equal excitation numbers only
            d.check("(47)", f"N={N}: [H_loc, H_int] = 0 (H_int couples only local states with equal excitation number)",
                    all(_popcount(a) == _popcount(b) for (a, b) in Hi.todok().keys()))
        sizes = [sum(1 for i in range(2**N) if Hl[i, i] == n * h) for n in range(N + 1)]
        d.check("(47)", f"N={N}: band n of H_loc has degeneracy binomial(N, n) = {sizes}",
                sizes == [math.comb(N, n) for n in range(N + 1)])
    return d


@derivation("chain_spectrum", equations=["(47)", "(64)", "Fig. 1"])
def derive_chain_spectrum(d):
    """Band-1 spectrum h + 2 t eps cos(k pi/(N+1)) (t = 4 paper, 1 unit) and exact degeneracies of the chain."""
    x = sp.Symbol("x")
    d.step(
        "Band 1 of H_int is t times the adjacency matrix A_N of the path graph (t = f**2); "
        "expanding det(x - A_N) along the last row gives P_N = x P_{N-1} - P_{N-2}, P_0 = 1, P_1 = x, "
        "i.e. P_N(x) = U_N(x/2) (Chebyshev U), whose roots are 2 cos(k pi/(N+1))"
    )
    for ladder in ("paper", "unit"):
        t = hopping(ladder)
        for N in range(1, 9):
            B = band_block(N, 1, ladder)
            A = B / t
            path = sp.Matrix(N, N, lambda a, b: 1 if abs(a - b) == 1 else 0)
            # band-1 local states ordered by index: |0..01>, |0..10>, ..., |10..0> -> path order reversed
            is_path = (A - path).is_zero_matrix
            cheb = sp.expand(sp.chebyshevu(N, x / 2))
            cp = A.charpoly(x).as_expr()
            d.check(
                "(64)",
                f"{ladder} N={N}: band-1 H_int = {t} * path adjacency, det(x - A_N) = U_N(x/2)",
                is_path and sp.expand(cp - cheb) == 0,
                0,
            )
    # U_N(cos theta) = sin((N+1) theta)/sin(theta) vanishes at theta = k pi/(N+1); verify the eigenvectors too
    i_, k_, N_ = sp.symbols("i k N", integer=True, positive=True)
    th = sp.pi * k_ / (N_ + 1)
    recur = sp.sin((i_ - 1) * th) + sp.sin((i_ + 1) * th) - 2 * sp.cos(th) * sp.sin(i_ * th)
    d.check(
        "(64)",
        "general N: v_i = sin(i k pi/(N+1)) obeys v_{i-1} + v_{i+1} = 2 cos(k pi/(N+1)) v_i, v_0 = v_{N+1} = 0",
        sp.simplify(sp.expand_trig(recur)) == 0
        and sp.sin(0 * th) == 0
        and sp.simplify(sp.sin((N_ + 1) * th)) == 0,
        0,
    )
    d.step("Band-1 energies: h + 2 t eps cos(k pi/(N+1)), t = 4 eps-units (paper ladder) or 1 (unit ladder)")
    for ladder in ("paper", "unit"):
        for N in (2, 3, 5):
            H1 = band_block(N, 1, ladder)
            ev = sorted(_np_eigs(H1))
            closed = sorted(float((2 * hopping(ladder) * sp.cos(sp.pi * k / (N + 1)))) for k in range(1, N + 1))
            res = max(abs(float(a) - b) for a, b in zip(ev, closed))
            d.check("(64)", f"{ladder} N={N}: band-1 eigenvalues of H_int = 2 t cos(k pi/(N+1))", res < 1e-12, res,
                    "numeric cross-check")
    for N in range(1, 7):
        degs = exact_degeneracies(N)
        found = {(g["band"], g["root"], g["multiplicity"]) for g in degs}
        if N == 4:
            ok = (2, 0, 2) in found
            stmt = "N=4: exact double level 2h + eps*0 in band 2 (Sec. VI A assumes no degeneracy)"
        elif N <= 3:
            ok = not found
            stmt = f"N={N}: no exact degeneracy (every band split by eps H_int)"
        else:
            ok = bool(found)
            stmt = f"N={N}: exact degeneracies found: " + ", ".join(
                f"band {b} lambda={r} x{mlt}" for b, r, mlt in sorted(found, key=str)
            )
        d.check("Fig. 1", stmt, ok, 0)
        d.step(describe_degeneracies(N))
    return d


def _np_eigs(M):
    import numpy as np

    return np.linalg.eigvalsh(np.array(M.tolist(), dtype=float))


# ----------------------------------------------------------------------------- detuned chains (issue 14)
def site_energies(N: int) -> list:
    """Symbols ``h_1, ..., h_N`` (positive): one qubit energy per site of a detuned chain."""
    _check_N(N)
    return list(sp.symbols(f"h_1:{N + 1}", positive=True))


def h_loc_detuned(N: int, hs=None) -> sp.ImmutableSparseMatrix:
    """``H_loc = sum_i h_i (sigma_z^(i) + I)/2`` (Eq. (47) with one energy per site), diagonal in the local basis.

    Entry of ``|s_1 ... s_N>``: ``sum_i h_i s_i`` (qubit 1 the most significant bit).  ``hs``
    defaults to :func:`site_energies`; ``hs = [h] * N`` gives :func:`h_loc`.
    """
    _check_N(N)
    hs = site_energies(N) if hs is None else list(hs)
    if len(hs) != N:
        raise ValueError(f"hs must have N = {N} entries (got {len(hs)})")
    d = 2**N
    ent = {}
    for i in range(d):
        v = sum((hs[q] for q in range(N) if (i >> (N - 1 - q)) & 1), sp.Integer(0))
        if v != 0:
            ent[(i, i)] = v
    return sp.ImmutableSparseMatrix(d, d, ent)


def h_loc_detuned_from_paulis(N: int, hs=None) -> sp.Matrix:
    """``sum_i h_i (sigma_z^(i) + I)/2`` from Kronecker products (independent of :func:`h_loc_detuned`)."""
    _check_N(N)
    hs = site_energies(N) if hs is None else list(hs)
    sz = sp.diag(-1, 1)  # order (|0>, |1>)
    total = sp.zeros(2**N, 2**N)
    for i in range(N):
        ops = [sp.eye(2)] * N
        ops[i] = (sz + sp.eye(2)) / 2
        term = ops[0]
        for o in ops[1:]:
            term = sp.kronecker_product(term, o)
        total += hs[i] * term
    return total


def hamiltonian_detuned(N: int, hs=None, eps_sym=eps, ladder: str = "paper") -> sp.Matrix:
    """``H(eps) = sum_i h_i (sigma_z^(i) + I)/2 + eps H_int`` (Eqs. (47), (64) with per-site h)."""
    return sp.Matrix(h_loc_detuned(N, hs)) + eps_sym * sp.Matrix(h_int(N, ladder))


def detuned_two_qubit_energies(ladder: str = "paper", h1=None, h2=None, eps_sym=eps) -> list:
    """Closed-form spectrum of two detuned qubits: ``0``, ``(h1+h2)/2 -+ sqrt(((h1-h2)/2)^2 + (t eps)^2)``, ``h1+h2``.

    ``t = f**2`` is the hopping amplitude of (64): 4 for the paper's ladder ``sigma_pm = sigma_x pm
    i sigma_y``, 1 for unit ladders (derived in :func:`derive_detuned_chain`).  Order: band 0, the
    two band-1 levels (lower first), band 2 (not sorted by energy: for ``t eps`` large the lower
    band-1 level is negative).
    """
    if h1 is None or h2 is None:
        h1, h2 = site_energies(2)
    t = hopping(ladder)
    r = sp.sqrt(((h1 - h2) / 2) ** 2 + (t * eps_sym) ** 2)
    return [sp.Integer(0), (h1 + h2) / 2 - r, (h1 + h2) / 2 + r, h1 + h2]


@derivation("detuned_chain", equations=["(47)", "(64)"])
def derive_detuned_chain(d):
    """Detuned chain (issue 14): H_loc = sum_i h_i (sigma_z^(i)+1)/2; two-qubit spectrum; [H_loc, H_int] != 0, n conserved."""
    d.step("H_loc with one energy per site: the entry of |s_1..s_N> is sum_i h_i s_i (bit rule), compared with the "
           "Kronecker build sum_i h_i (sigma_z^(i) + I)/2, sigma_z = diag(-1, 1) in the order (|0>, |1>)")
    for N in (1, 2, 3):
        d.compare("(47)", f"N={N}: bit-rule H_loc = sum_i h_i (sigma_z^(i) + I)/2 (Kronecker products)",
                  sp.Matrix(h_loc_detuned(N)), h_loc_detuned_from_paulis(N))
    for N in (2, 3):
        hs = site_energies(N)
        Hl, Hi = sp.Matrix(h_loc_detuned(N)), sp.Matrix(h_int(N))
        comm = Hl * Hi - Hi * Hl
        # [D, A]_{ab} = (D_aa - D_bb) A_ab for diagonal D: built entry by entry as the expected form
        expect = sp.Matrix(2**N, 2**N, lambda a, b: (Hl[a, a] - Hl[b, b]) * Hi[a, b])
        d.compare("(64)", f"N={N}: [H_loc, H_int]_ab = (E_a - E_b) (H_int)_ab, nonzero for detuned sites",
                  comm, expect)
        d.check("(64)", f"N={N}: [H_loc, H_int] != 0 for generic h_i and = 0 when every h_i = h",
                not comm.is_zero_matrix and comm.subs({x: h for x in hs}).is_zero_matrix)
        nop = sp.diag(*[_popcount(i) for i in range(2**N)])
        d.check("(64)", f"N={N}: the excitation number n = sum_i (sigma_z^(i) + 1)/2 commutes with H_loc and "
                        "H_int (bands survive detuning)",
                (nop * Hl - Hl * nop).is_zero_matrix and (nop * Hi - Hi * nop).is_zero_matrix)
    h1, h2 = site_energies(2)
    x = sp.Symbol("x")
    for ladder in ("paper", "unit"):
        t = hopping(ladder)
        H = hamiltonian_detuned(2, [h1, h2], eps, ladder)
        idx = band_indices(2, 1)  # |01> (energy h2), |10> (energy h1)
        B = sp.Matrix(2, 2, lambda a, b: H[idx[a], idx[b]])
        d.compare("(64)", f"{ladder} ladder: band-1 block [[h2, t eps], [t eps, h1]] with t = f^2 = {t} "
                          "(sigma_+^(1) sigma_-^(2) |01> = f^2 |10>)",
                  B, sp.Matrix([[h2, t * eps], [t * eps, h1]]))
        E = detuned_two_qubit_energies(ladder, h1, h2)
        d.compare("(64)", f"{ladder} ladder: det(x - band-1 block) = (x - E_-)(x - E_+), "
                          f"E_pm = (h1+h2)/2 pm sqrt(((h1-h2)/2)^2 + ({t} eps)^2)",
                  sp.expand(B.charpoly(x).as_expr()), sp.expand((x - E[1]) * (x - E[2])))
        d.compare("(64)", f"{ladder} ladder: bands 0 and 2 are 1x1: energies 0 and h1 + h2",
                  sp.Matrix([H[0, 0], H[3, 3]]), sp.Matrix([E[0], E[3]]))
        d.compare("(64)", f"{ladder} ladder: h1 = h2 = h gives the uniform n h + eps lambda, lambda = -+{t}",
                  sp.Matrix([sp.simplify(e.subs({h1: h, h2: h})) for e in E[1:3]]),
                  sp.Matrix([h - t * eps, h + t * eps]))
    # numeric: symcoll.QubitChain at 30 digits against the closed form
    import mpmath

    from ..model import QubitChain

    worst = 0
    for ladder in ("paper", "unit"):
        for hv, ev in (((4.0, 4.5), 0.1), ((1.0, 3.0), 0.7), ((4.5, 4.0), 1e-6)):
            es = QubitChain(2, list(hv), ev, ladder=ladder).eigensystem(30)
            subs = {h1: sp.Float(hv[0], 40), h2: sp.Float(hv[1], 40), eps: sp.Float(ev, 40)}
            closed = sorted(sp.N(e.subs(subs), 40) for e in detuned_two_qubit_energies(ladder, h1, h2))
            with mpmath.workdps(40):
                worst = max(worst, max(abs(mpmath.mpf(str(c)) - es.energies[i]) for i, c in enumerate(closed)))
    d.check("(64)", "QubitChain(2, h=[h1, h2], eps).eigensystem(30) equals the closed form (both ladders, "
                    "h = (4, 4.5), (1, 3), (4.5, 4); eps = 0.1, 0.7, 1e-6)", worst < mpmath.mpf(10) ** -27,
            float(worst), "numeric, 30 digits")
    return d
