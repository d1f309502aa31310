"""Eigenbasis transmission amplitudes (C18)-(C23) and the delta interaction (65) as a limit of (36) (SymPy).

Two registered derivations (run by ``symcoll verify`` and by the scripts
``derivations/eigenbasis_amplitudes_C23.py`` and ``derivations/delta_limit_65.py``):

* ``eigenbasis_amplitudes_C23`` -- N = 2 chain at eps -> 0: the eigenvectors of H(eps) (47)/(64) lie
  in one band (C18); an incident wave e^{-ik_j x}|j> is the superposition (C20) of local plane waves
  (eps = 0 only); the transmitted amplitudes t_kj obtained by solving the matching conditions of (65)
  directly in the eigenbasis equal the printed matrix form (C23) with the local amplitudes
  (C13)-(C14) (c depending on s_1 as said after (C23)).
* ``delta_limit_65`` -- the barrier chi_L(x) nu V of (36) with L nu = g: its transfer matrix over
  [-L/2, L/2] tends, as L -> 0, to the matching conditions of g V delta(x), Eq. (65); and
  (g/2)(sigma_+ + sigma_-) = g sigma_x with the paper's ladder.

Functions: :func:`eigenvectors_eps0` (orthonormal eigenvectors of H_int band by band),
:func:`barrier_transfer` (transfer matrix of a constant potential slab, any number of channels,
as the series that defines it).
"""
from __future__ import annotations

import sympy as sp

from ..derive import derivation
from .chain import h_int
from .scattering import SX, _simp, g, h, hbar, lam, m, pairs

E = sp.Symbol("E", real=True)


def eigenvectors_eps0(N: int = 2):
    """Orthonormal real eigenvectors of ``H(eps) = H_loc + eps H_int`` (Eqs. (47), (64)), band by band.

    ``[H_loc, H_int] = 0``, so the eigenvectors do not depend on eps; each column of the returned
    ``U`` is an eigenvector of H_int restricted to one band (zero outside it).

    Returns
    -------
    U : sympy.Matrix (2**N x 2**N, orthogonal), bands : list of int (excitation number of each column),
    lams : list (eigenvalue of H_int, paper ladder, of each column)
    """
    Hi = sp.Matrix(h_int(N))
    cols, bands, lams = [], [], []
    for n in range(N + 1):
        idx = [i for i in range(2**N) if bin(i).count("1") == n]
        blk = Hi.extract(idx, idx)
        for val, mult, vecs in sorted(blk.eigenvects(), key=lambda t: sp.N(t[0])):
            for v in sp.GramSchmidt(vecs, orthonormal=True):
                full = sp.zeros(2**N, 1)
                for a, i in enumerate(idx):
                    full[i] = sp.radsimp(v[a])
                cols.append(full)
                bands.append(n)
                lams.append(val)
    return sp.Matrix.hstack(*cols), bands, lams


def barrier_transfer(W, L, order):
    """Transfer matrix ``(psi, psi')(L/2) = T (psi, psi')(-L/2)`` of ``psi'' = W psi`` on a slab of width L.

    ``T = exp(L A)``, ``A = [[0, I], [W, 0]]``; since ``(L A)^2 = diag(X, X)`` with ``X = L^2 W``,
    ``T = [[C(X), L S(X)], [L W S(X), C(X)]]`` with ``C(X) = sum_k X^k/(2k)!``, ``S(X) = sum_k X^k/(2k+1)!``.
    Returned truncated after ``X^order`` (the remainder is bounded by ``cosh``/``sinh`` of
    ``sqrt(||X||)`` minus their partial sums).
    """
    d = W.shape[0]
    X = L**2 * W
    C = sum((X**k / sp.factorial(2 * k) for k in range(order + 1)), sp.zeros(d, d))
    S = sum((X**k / sp.factorial(2 * k + 1) for k in range(order + 1)), sp.zeros(d, d))
    return sp.Matrix(sp.BlockMatrix([[C, L * S], [L * W * S, C]]))


@derivation("eigenbasis_amplitudes_C23", equations=["(C18)", "(C19)", "(C20)", "(C21)", "(C22)", "(C23)"])
def derive_eigenbasis(d):
    """Transmission amplitudes in the eigenbasis at eps -> 0 (C18)-(C23), N = 2, by matching in the eigenbasis."""
    N = 2
    U, bands, lams = eigenvectors_eps0(N)
    dim = 2**N
    d.step(f"N=2: eigenvectors of H(eps) (columns of U), bands {bands}, H_int eigenvalues {lams} (paper ladder); "
           "eps_j = n_j h + eps lam_j")
    Nop = sp.diag(*[bin(i).count("1") for i in range(dim)])
    d.compare("(C18)", "[H_loc, H_int] = 0: each eigenvector has a well-defined excitation number, n|j> - n_j|j> = 0",
              Nop * U - U * sp.diag(*bands), sp.zeros(dim, dim))
    eps = sp.Symbol("epsilon", positive=True)
    ks = sp.symbols(f"k0:{N + 1}", positive=True)  # band wave numbers at eps = 0: k_n = sqrt(2m(E - n h))/hbar
    x = sp.Symbol("x", real=True)

    def k_of(energy):
        return sp.sqrt(2 * m * (E - energy)) / hbar

    # (C19)-(C20): at eps = 0 every local state of band n_j has k_{s} = k_j
    energies = [sp.limit(n * h + eps * lv, eps, 0) for n, lv in zip(bands, lams)]
    local = sp.Matrix.hstack(*[sp.Matrix([U[s, j] * sp.exp(-sp.I * k_of(h * bin(s).count("1")) * x) for s in range(dim)])
                               for j in range(dim)])
    incident = sp.Matrix.hstack(*[U[:, j] * sp.exp(-sp.I * k_of(energies[j]) * x) for j in range(dim)])
    d.compare("(C20)", "eps -> 0: sum_s <s|j> e^{-i k_s x}|s> = e^{-i k_j x}|j> (C19), k_j = sqrt(2m(E - eps_j))/hbar "
              "(for eps > 0, eps_j = n_j h + eps lam_j and k_j != k_s)", local, incident, simplify=_simp)
    d.compare("(C21)", "completeness used in (C21)-(C22): sum_k <k|s> |k> = |s> (U U^T = I)", U * U.T, sp.eye(dim))
    # (C23): matching in the eigenbasis vs the printed matrix form
    K = sp.diag(*[ks[n] for n in bands])
    Veig = U.T * sp.Matrix(sp.kronecker_product(SX, sp.eye(2 ** (N - 1)))) * U
    def t_local(ks_in, ks_out):  # (C13) and the right side of (C14), c of (C15)
        c = lam / sp.sqrt(ks_in * ks_out)
        return 1 / (1 + c**2), sp.sqrt(ks_in / ks_out) * (-sp.I * c) / (1 + c**2)

    cols_line2 = []
    for j in range(dim):
        n = bands[j]
        t00, t10 = t_local(ks[n], ks[n + 1]) if n < N else (0, 0)  # column s1 = 0: partner in band n + 1
        t11, t01 = t_local(ks[n], ks[n - 1]) if n > 0 else (0, 0)  # column s1 = 1: partner in band n - 1
        Mj = sp.Matrix([[t00, t01], [t10, t11]])  # order (|0>, |1>) = [[t11, t10], [t01, t00]] in (|1>, |0>)
        cols_line2.append(U.T * sp.Matrix(sp.kronecker_product(Mj, sp.eye(2 ** (N - 1)))) * U[:, j])
    line2 = sp.Matrix.hstack(*cols_line2)
    Amat = K + sp.I * lam * Veig  # matching in the eigenbasis: (K + i lam V) t = K e_j (incidence from the right)
    d.check("(C23)", "the eigenbasis matching matrix K + i lam U^T sigma_x^(1) U is invertible (det != 0), so its "
                     "solution is unique", not _simp(Amat.det(method="berkowitz")) == 0)
    d.compare("(C23)", "N=2, eps -> 0: the printed matrix form <k|[[t_11, t_10], [t_01, t_00]] (x) I|j> (t of "
              "(C13)-(C14) at the energies of column s1; c depends on s1) solves the matching conditions written in "
              "the eigenbasis (K = diag(k_j), V = U^T sigma_x^(1) U): (K + i lam V) T = K",
              Amat * line2, K, simplify=_simp)
    T_loc = sp.zeros(dim, dim)
    for i0, i1, n in pairs(N):
        for s_in, s_out, n_in, n_out in ((i0, i1, n, n + 1), (i1, i0, n + 1, n)):
            T_loc[s_in, s_in], T_loc[s_out, s_in] = t_local(ks[n_in], ks[n_out])
    d.compare("(C22)", "(C20) combined with (C21)-(C22): sum_s <s|j>[t_{s1 s1}<k|s> + t_{sbar1 s1}<k|sbar1 s>] "
              "(= U^T T_loc U, first line of (C23)) = the matrix form, second line of (C23)", U.T * T_loc * U, line2,
              simplify=_simp)
    return d


@derivation("delta_limit_65", equations=["(36)", "(65)"])
def derive_delta_limit(d):
    """(65) as the L -> 0, nu -> oo, L nu = g limit of the slab chi_L(x) nu V of (36), for one qubit."""
    L = sp.Symbol("L", positive=True)
    sx = SX
    paper_sp, paper_sm = sp.Matrix([[0, 0], [2, 0]]), sp.Matrix([[0, 2], [0, 0]])  # order (|0>,|1>): 2|1><0|, 2|0><1|
    d.compare("(65)", "paper ladder sigma_pm = sigma_x pm i sigma_y: (g/2)(sigma_+ + sigma_-) = g sigma_x",
              g / 2 * (paper_sp + paper_sm), g * sx)
    unit_sp, unit_sm = paper_sp / 2, paper_sm / 2
    d.compare("(65)", "unit ladder sigma_+ = |1><0| (symcoll's 'unit'): (g/2)(sigma_+ + sigma_-) = (g/2) sigma_x",
              g / 2 * (unit_sp + unit_sm), g * sx,
              convention="ladder normalisation: the paper's sigma_pm are 2x the unit ones, so its (g/2)(sigma_+ + "
                         "sigma_-) is g(sigma_+ + sigma_-) in unit ladder operators",
              to_convention=lambda P: P / 2)
    d.step("Inside [-L/2, L/2]: -hbar^2/2m psi'' + (H + nu V) psi = E psi, i.e. psi'' = W psi with "
           "W = (2m/hbar^2)(H - E + (g/L) V) (nu = g/L); outside, the free motion of the delta case")
    Hq = sp.diag(0, h)
    W = 2 * m / hbar**2 * (Hq - E * sp.eye(2) + g / L * sx)
    A = sp.Matrix(sp.BlockMatrix([[sp.zeros(2, 2), sp.eye(2)], [W, sp.zeros(2, 2)]]))
    X = L**2 * W
    d.compare("(36)", "(L A)^2 = diag(X, X) with X = L^2 W, so exp(L A) = [[C(X), L S(X)], [L W S(X), C(X)]]",
              (L * A) ** 2, sp.diag(X, X), simplify=_simp)
    T2 = barrier_transfer(W, L, 2)
    d.compare("(36)", "barrier_transfer(W, L, 2) (C, S to X^2) = sum_{k<=5} (L A)^k/k!, the exponential series",
              T2, sum(((L * A) ** k / sp.factorial(k) for k in range(6)), sp.zeros(4, 4)), simplify=_simp)
    d.check("(65)", "X = L^2 W -> 0 as L -> 0 (each entry is O(L)), so C(X) -> I and S(X) -> I: the remainders are "
                    "bounded by cosh(sqrt||X||) - 1 and sinh(sqrt||X||)/sqrt||X|| - 1, which tend to 0",
            all(sp.limit(e, L, 0, "+") == 0 for e in X))
    lim_first = (L * W).applyfunc(lambda e: sp.limit(e, L, 0, "+"))
    T_lim = sp.Matrix(sp.BlockMatrix([[sp.eye(2), sp.zeros(2, 2)], [lim_first, sp.eye(2)]]))
    T_delta = sp.Matrix(sp.BlockMatrix([[sp.eye(2), sp.zeros(2, 2)], [2 * m * g / hbar**2 * sx, sp.eye(2)]]))
    d.compare("(65)", "lim_{L->0, L nu = g} of the slab transfer matrix = [[I, 0], [(2mg/hbar^2) sigma_x, I]], the "
              "matching conditions of g sigma_x delta(x) (continuity, psi' jump (2mg/hbar^2) V psi(0)) used for (C1)",
              T_lim, T_delta, simplify=_simp)
    return d
