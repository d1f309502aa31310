"""Appendices A and B of the paper, checked with SymPy.

Appendix A, Eqs. (A1)-(A7): generalized local operators.  If ``H = H_loc + H_int`` with
``[H_loc, H_int] = 0`` (A1), the eigenbasis ``|j>`` of ``H`` is also an eigenbasis of ``H_loc``
((A2)-(A3)), so ``<s|j> = 0`` unless ``eps^(0)_s = eps^(0)_j``; hence for any function ``f``

    f(eps^(0)_j) <s|j> = f(eps^(0)_s) <s|j>           (A4), corrected: no complex conjugate
    f(eps^(0)_j)^* <j|s> = f(eps^(0)_s)^* <j|s>        (A5), corrected: conjugate on both sides

(the printed forms put a ``*`` on one side only: right for real ``f`` only).  An operator whose
eigenbasis matrix is ``lambda(eps^(0)_j', eps^(0)_j) <j'|L^(1) x I|j>`` (A6) then has the
local-basis matrix ``lambda(eps^(0)_{s'}, eps^(0)_s) <s'_1|L^(1)|s_1> delta_{s'_2 s_2} ...`` (A7),
i.e. it is local in the generalized sense (10).  The same result turns the eigenbasis Kraus
operators (57)-(59) into the local-basis matrices (60)-(62).

Appendix B, Eqs. (B1)-(B3): Kraus operators of the exact map (37)-(38).  With
``rho_U = int dp0 mu(p0) |phi_p0><phi_p0|`` (B1), the operators (B2) reproduce (37) through (18)
(the ``E_out`` integral of two delta functions), (B2) integrates to (B3) (the root
``p = sqrt(2m(Delta_{j'j} + E_out))`` of the delta argument, Jacobian ``m/p``), the Kraus sum with
``E_out -> p`` is the integrand of (38) with its lower limit ``p_inf``, and the Kraus form is
trace preserving given flux conservation (C2).  (B1) presupposes ``rho_U >= 0``: the Gaussian
model (41) restricted to ``p > 0`` is not a positive kernel (a 2x2 principal minor is negative),
which is why the exact map built from (41) is only approximately CP (README_derivations.md,
issue 4).

Conventions are those of :mod:`symcoll.conventions`: local basis ``|s_1 ... s_N>`` with qubit 1
the most significant bit, one-qubit order ``(|0>, |1>)`` unless said otherwise, the paper's
ladder ``sigma_+ = sigma_x + i sigma_y = 2|1><0|``, ``Delta_{j'j} = eps_j' - eps_j``.

Public functions:

* :func:`chain_eigenbasis` -- exact eigenvectors (columns) of the chain (64), N = 1..3;
* :func:`generic_commuting_pair` -- a generic commuting pair (A1) for two qubits (generic unitary on the degenerate level);
* :func:`eigen_to_local_A7` -- the local-basis matrix of the operator (A6);
* :func:`printed_A7` -- the printed right-hand side of (A7);
* :func:`kraus_B3_printed`, :func:`kraus_B2_integrated` -- (B3) as printed and (B2) integrated;
* :func:`gaussian_rhoU_minor_ratio` -- the 2x2 minor ratio of (41) showing it is not positive.

Derivations registered: ``generalized_local_A`` and ``kraus_outgoing_energy_B`` (scripts
``derivations/generalized_local_A.py`` and ``derivations/kraus_outgoing_energy_B.py``).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..derive import derivation
from .chain import band_indices, h, h_int, h_loc

# ----------------------------------------------------------------------------- symbols
f_c = sp.Function("f")  # a generic (complex-valued) function
f_r = sp.Function("f_r", real=True)  # a real-valued function
lam_f = sp.Function("lambda")  # the two-argument factor of (A6)
L1 = sp.Matrix(2, 2, sp.symbols("L00 L01 L10 L11"))  # generic complex one-qubit operator, order (|0>,|1>)
E_p = sp.Symbol("E_p", positive=True)
mu = sp.Symbol("mu", positive=True)
a0, a1, a_p, a_m = (sp.Function(n) for n in ("a_0", "a_1", "a_+", "a_-"))

m = sp.Symbol("m", positive=True)
p, q = sp.symbols("p q", positive=True)  # q stands for pi(p) > 0 in (38)
E_out = sp.Symbol("E_out", nonnegative=True)
w = sp.Symbol("w", positive=True)  # w = Delta_{j'j} + E_out when positive
e_j, e_jp, e_k, e_kp = sp.symbols("epsilon_j epsilon_j' epsilon_k epsilon_k'", real=True)
D1, D2 = sp.symbols("Delta_j'j Delta_k'k", real=True)
phi = sp.Function("phi")
s_f = sp.Function("s")  # s^(alpha)_{j'j}(E), generic
t_f = sp.Function("t")  # s^(alpha)_{k'k}(E), generic


def _rel_n(i: int) -> int:
    return bin(i).count("1")


# ----------------------------------------------------------------------------- Appendix A objects
@lru_cache(maxsize=None)
def chain_eigenbasis(N: int):
    """Exact eigenbasis of the chain ``H = H_loc + eps H_int`` (Eqs. (47), (64), paper ladder), 0 < eps << h.

    Since ``[H_loc, H_int] = 0`` the eigenvectors are those of each band block of ``H_int``
    (integer matrices); for ``N <= 3`` they are exact algebraic numbers (``sqrt(2)``).
    Ordering: bands ascending, then the ``H_int`` eigenvalue ascending (the order of ``H(eps)`` for
    ``0 < eps << h``); phase rule of :mod:`symcoll.conventions` (first local component with modulus
    at least half the largest is positive).

    Returns
    -------
    (U, eps0, lam_int) : (sympy.Matrix, list, list)
        ``U[:, j] = |j>`` in the local basis, ``eps0[j] = n_j h`` (Eq. (A3)), ``lam_int[j]`` the
        eigenvalue of ``H_int`` (so ``eps_j = n_j h + eps * lam_int[j]``).
    """
    if isinstance(N, bool) or not isinstance(N, int):
        raise TypeError(f"N must be an int (got {N!r})")
    if not 1 <= N <= 3:
        raise ValueError(f"N must be in 1..3 for exact eigenvectors (got {N})")
    Hi = sp.Matrix(h_int(N))
    d = 2**N
    cols, eps0, lams = [], [], []
    for n in range(N + 1):
        idx = band_indices(N, n)
        B = Hi.extract(idx, idx)
        vecs = []
        for ev, mult, vs in B.eigenvects():
            if mult != 1:
                raise ValueError(f"degenerate band block for N={N} (not expected for N <= 3)")
            vecs.append((ev, vs[0]))
        vecs.sort(key=lambda t: float(t[0]))
        for ev, v in vecs:
            v = v / sp.sqrt(sum(x**2 for x in v))
            big = max(abs(x) for x in v)
            first = next(x for x in v if abs(x) >= big / 2)
            if first < 0:
                v = -v
            full = sp.zeros(d, 1)
            for a, i in enumerate(idx):
                full[i] = sp.radsimp(v[a])
            cols.append(full)
            eps0.append(n * h)
            lams.append(ev)
    return sp.Matrix.hstack(*cols), eps0, lams


_gc, _gs = sp.symbols("c s", real=True)
_GENERIC_REL = _gc**2 + _gs**2 - 1


def generic_commuting_pair():
    """A generic commuting pair (A1) on two qubits, with exact eigenvectors.

    ``H_loc = diag(e0, e1, e1, e2)`` (local basis ``|00>, |01>, |10>, |11>``; the one-excitation
    level is degenerate, as for (47)); ``H_int = U diag(l0, l1, l2, l3) U^dagger`` with
    ``U = 1 (+) B (+) 1`` and ``B = [[a, -b^* e^{i psi}], [b, a^* e^{i psi}]]``,
    ``a = c e^{i chi}``, ``b = s e^{i phi}``, ``c^2 + s^2 = 1``: a generic unitary on the
    degenerate level (up to the phase of the first column, which drops out of every check).
    Simplify with :func:`simplify_generic` (expansion modulo ``c^2 + s^2 = 1``).

    Returns
    -------
    (H_loc, H_int, U, eps0)
    """
    e0, e1, e2 = sp.symbols("e0 e1 e2", real=True)
    chi, phi_, psi = sp.symbols("chi phi psi", real=True)
    ls = sp.symbols("l0:4", real=True)
    a, b = _gc * sp.exp(sp.I * chi), _gs * sp.exp(sp.I * phi_)
    B = sp.Matrix([[a, -sp.conjugate(b) * sp.exp(sp.I * psi)], [b, sp.conjugate(a) * sp.exp(sp.I * psi)]])
    U = sp.diag(1, B, 1)
    Hl = sp.diag(e0, e1, e1, e2)
    Hi = (U * sp.diag(*ls) * U.H).applyfunc(simplify_generic)
    return Hl, Hi, U, [e0, e1, e1, e2]


def simplify_generic(e):
    """Expand and reduce modulo ``c^2 + s^2 = 1`` (the unitarity of :func:`generic_commuting_pair`)."""
    e = sp.expand(e)
    if e == 0 or not e.has(_gs):
        return e
    return sp.expand(sp.rem(e, _GENERIC_REL, _gs))


def _lam_matrix(vals):
    return sp.Matrix(len(vals), len(vals), lambda a, b: lam_f(vals[a], vals[b]))


def eigen_to_local_A7(U, eps0, L1_=None):
    """Local-basis matrix of the operator ``L`` defined by (A6) in the eigenbasis.

    ``<j'|L|j> = lambda(eps^(0)_j', eps^(0)_j) <j'|L^(1) x I x ... x I|j>`` (A6);
    returns ``U (Lambda o U^dagger (L^(1) x I) U) U^dagger`` (``o`` = entrywise product), the
    left-hand side of (A7) evaluated with the completeness relation (first line of (A7)).
    """
    L1_ = L1 if L1_ is None else L1_
    d = U.shape[0]
    Lloc = sp.kronecker_product(L1_, sp.eye(d // 2))
    Leig = U.H * Lloc * U
    return U * Leig.multiply_elementwise(_lam_matrix(eps0)) * U.H


def printed_A7(N_or_eps0_loc, L1_=None):
    """Printed right-hand side of (A7): ``lambda(eps^(0)_{s'}, eps^(0)_s) <s'_1|L^(1)|s_1> delta ...``.

    ``N_or_eps0_loc``: the number of qubits of the chain (``eps^(0)_s = h * #excitations``), or the
    list of local energies ``eps^(0)_s`` (Eq. (A2)).
    """
    L1_ = L1 if L1_ is None else L1_
    if isinstance(N_or_eps0_loc, int):
        vals = [h * _rel_n(i) for i in range(2**N_or_eps0_loc)]
    else:
        vals = list(N_or_eps0_loc)
    d = len(vals)
    return sp.kronecker_product(L1_, sp.eye(d // 2)).multiply_elementwise(_lam_matrix(vals))


def _paper_sigma(sign):
    """Paper's ladder ``sigma_+ = 2|1><0|``, ``sigma_- = 2|0><1|`` in the order (|0>, |1>)."""
    return sp.Matrix([[0, 0], [2, 0]]) if sign > 0 else sp.Matrix([[0, 2], [0, 0]])


# ----------------------------------------------------------------------------- Appendix B objects
def kraus_B3_printed(D=D1, E=E_out, eps_jp=e_jp, mu_=mu, s=s_f):
    """(B3) as printed: ``sqrt(m mu) Theta(D + E) [2m(D + E)]^{-1/4} phi(sqrt(2m(D + E))) s(E + eps_j')``."""
    return (sp.sqrt(m * mu_) * sp.Heaviside(D + E) / (2 * m * (D + E)) ** sp.Rational(1, 4)
            * phi(sp.sqrt(2 * m * (D + E))) * s(E + eps_jp))


def kraus_B2_integrated():
    """(B2) integrated over p by SymPy for ``Delta_{j'j} + E_out = w > 0``.

    ``int_0^oo dp sqrt(p mu/m) phi(p) delta(p^2/2m - w) s(p^2/2m + eps_j)``, with
    ``eps_j' = eps_j + Delta_{j'j}`` and ``Delta_{j'j} = w - E_out``.  Returns
    ``(result, printed)`` with ``printed`` = (B3) at ``Delta_{j'j} = w - E_out``.
    """
    integrand = sp.sqrt(p * mu / m) * phi(p) * sp.DiracDelta(p**2 / (2 * m) - w) * s_f(p**2 / (2 * m) + e_j)
    res = sp.integrate(integrand, (p, 0, sp.oo))
    D = w - E_out
    printed = kraus_B3_printed(D=D, eps_jp=e_j + D)
    return res, printed


def gaussian_rhoU(p1, p2, beta_, m_, sigma_):
    """The incident state (41): ``mu_eff((p+p')/2) exp(-(p-p')^2/(2 sigma_p^2))``, ``mu_eff`` of (40)."""
    mu_eff = lambda x: beta_ * x / m_ * sp.exp(-beta_ * x**2 / (2 * m_))  # noqa: E731
    return mu_eff((p1 + p2) / 2) * sp.exp(-((p1 - p2) ** 2) / (2 * sigma_**2))


def gaussian_rhoU_minor_ratio():
    """``R = |rho_U(p,p')|^2 / (rho_U(p,p) rho_U(p',p'))`` for (41); ``R > 1`` means a negative 2x2 minor.

    Returns ``(R, closed_form)`` with ``closed_form = ((p+p')^2/(4pp')) exp((beta/(4m) - 1/sigma^2)(p-p')^2)``.
    """
    b_, s_ = sp.symbols("beta sigma_p", positive=True)
    pp = sp.Symbol("p'", positive=True)
    R = gaussian_rhoU(p, pp, b_, m, s_) ** 2 / (gaussian_rhoU(p, p, b_, m, s_) * gaussian_rhoU(pp, pp, b_, m, s_))
    closed = (p + pp) ** 2 / (4 * p * pp) * sp.exp((b_ / (4 * m) - 1 / s_**2) * (p - pp) ** 2)
    return R, closed, (b_, s_, pp)


# ----------------------------------------------------------------------------- derivations
def _expand(e):
    return sp.expand(e)


@derivation("generalized_local_A", equations=["(A1)", "(A2)", "(A3)", "(A4)", "(A5)", "(A6)", "(A7)",
                                              "(10)", "(57)", "(58)", "(59)", "(60)", "(61)", "(62)"])
def derive_generalized_local(d):
    """Appendix A: generalized local operators (A1)-(A7) on the chain (N = 2, 3) and a generic commuting pair; (57)-(59) -> (60)-(62)."""
    cases = []
    for N in (2, 3):
        U, eps0, lams = chain_eigenbasis(N)
        Hl, Hi = sp.Matrix(h_loc(N)), sp.Matrix(h_int(N))
        loc = [h * _rel_n(i) for i in range(2**N)]
        cases.append((f"chain N={N}", Hl, Hi, U, eps0, loc, _expand, lams))
    Hl, Hi, U, eps0 = generic_commuting_pair()
    cases.append(("generic pair", Hl, Hi, U, eps0, [Hl[i, i] for i in range(4)], simplify_generic, None))
    d.step("Chain (64), N = 2, 3: eigenvectors of each band block of H_int, exact (sqrt(2) for N = 3), ordered as "
           "H(eps) for 0 < eps << h; generic pair: H_loc = diag(e0, e1, e1, e2), H_int = U diag(l) U^dag with U a "
           "generic unitary [[a, -b^* e^(i psi)], [b, a^* e^(i psi)]] on the degenerate level")
    for name, Hl, Hi, U, eps0, loc, simp, lams in cases:
        dim = U.shape[0]
        d.check("(A1)", f"{name}: U is unitary (U^dag U = I)", (U.H * U - sp.eye(dim)).applyfunc(simp).is_zero_matrix, 0)
        d.compare("(A1)", f"{name}: [H_loc, H_int] = 0", (Hl * Hi - Hi * Hl).applyfunc(simp), sp.zeros(dim, dim),
                  simplify=simp)
        if lams is not None:
            eps_ = sp.Symbol("epsilon", positive=True)
            Hfull = Hl + eps_ * Hi
            d.compare("(9)", f"{name}: H|j> = eps_j|j> with eps_j = n_j h + eps lambda_j",
                      Hfull * U, U * sp.diag(*[e0 + eps_ * lm for e0, lm in zip(eps0, lams)]), simplify=simp)
        else:
            d.check("(9)", f"{name}: H_int|j> = l_j|j> (columns of U)",
                    (Hi * U - U * sp.diag(*sp.symbols("l0:4", real=True))).applyfunc(simp).is_zero_matrix, 0)
        d.compare("(A2)", f"{name}: H_loc|s> = eps^(0)_s|s> (H_loc diagonal in the local basis)", Hl, sp.diag(*loc),
                  simplify=simp)
        d.compare("(A3)", f"{name}: H_loc|j> = eps^(0)_j|j>", Hl * U, U * sp.diag(*eps0), simplify=simp)
        # (A4): f(eps0_j) <s|j>  vs printed f(eps0_s)^* <s|j>
        Fj = sp.diag(*[f_c(e) for e in eps0])
        Fs = sp.diag(*[f_c(e) for e in loc])
        d.compare("(A4)", f"{name}: f(eps^(0)_j)<s|j> = f(eps^(0)_s)^* <s|j> for a complex-valued f",
                  U * Fj, Fs.conjugate() * U, correction=Fs * U, simplify=simp)
        Rj = sp.diag(*[f_r(e) for e in eps0])
        Rs = sp.diag(*[f_r(e) for e in loc])
        d.compare("(A4)", f"{name}: the printed (A4) holds for a real-valued f (f^* = f)", U * Rj,
                  Rs.conjugate() * U, simplify=simp)
        d.compare("(A5)", f"{name}: f(eps^(0)_j)^* <j|s> = f(eps^(0)_s) <j|s> for a complex-valued f",
                  Fj.conjugate() * U.H, U.H * Fs, correction=U.H * Fs.conjugate(), simplify=simp)
        # the step of (A7): lambda(eps0_j', eps0_j) <s'|j'><j|s> = lambda(eps0_s', eps0_s) <s'|j'><j|s>
        ok = True
        for sp_i in range(dim):
            for jp in range(dim):
                if U[sp_i, jp] == 0:
                    continue
                for j in range(dim):
                    if all(U[s_i, j] == 0 for s_i in range(dim)):
                        continue
                    for s_i in range(dim):
                        if U[s_i, j] == 0:
                            continue
                        if simp(lam_f(eps0[jp], eps0[j]) - lam_f(loc[sp_i], loc[s_i])) != 0:
                            ok = False
        d.check("(A7)", f"{name}: step 2 -> 3 of (A7): lambda(eps^(0)_j', eps^(0)_j) may be replaced by "
                        f"lambda(eps^(0)_s', eps^(0)_s) wherever <s'|j'><j|s> != 0 (corrected (A4)-(A5), complex lambda)",
                ok, 0)
        derived = eigen_to_local_A7(U, eps0).applyfunc(simp)
        d.compare("(A7)", f"{name}: local-basis matrix of L defined by (A6) = lambda(eps^(0)_s', eps^(0)_s) "
                          f"<s'_1|L^(1)|s_1> delta_(s'_2 s_2)... (generic complex L^(1), generic complex lambda)",
                  derived, printed_A7(loc), simplify=simp)
    d.step("(A4)-(A5) hold because <s|j> = 0 unless eps^(0)_s = eps^(0)_j (A2)-(A3); the printed conjugate on one "
           "side is wrong for complex f (it holds for real f only). (A7) uses them for the complex factor lambda "
           "in the corrected form; its printed result is right. (A7) has the form (10) with "
           "lambda({s'},{s}) = lambda(eps^(0)_s', eps^(0)_s)")

    # (57)-(59) -> (60)-(62): the Kraus operators of the eps -> 0 local map, paper ladder
    d.step("(57)-(59) are sums of operators of the form (A6) (lambda depends on the second argument only: "
           "a(E_p + eps^(0)_j)); by (A7) their local-basis matrices follow. The diagonal matrix of (57) is read in "
           "Appendix C order (|1>,|0>), as (50) requires (a_+ upper right with sigma_+ = 2|1><0|)")
    for N in (2, 3):
        U, eps0, _ = chain_eigenbasis(N)
        dim = 2**N
        loc = [h * _rel_n(i) for i in range(dim)]
        rest = sp.eye(dim // 2)
        P1 = sp.kronecker_product(sp.Matrix([[0, 0], [0, 1]]), rest)  # |1><1| on qubit 1
        P0 = sp.kronecker_product(sp.Matrix([[1, 0], [0, 0]]), rest)
        alpha = sp.Symbol("alpha")

        def eig_op(op, fn):  # <j'|M|j> = fn(E_p + eps0_j) <j'|op|j>
            Me = U.H * op * U
            return sp.Matrix(dim, dim, lambda a, b: fn(E_p + eps0[b]) * Me[a, b])

        # (57), diag(a_0, a_1) in Appendix C order: a_0 on |1>, a_1 on |0>
        M0e = sp.sqrt(mu) * (eig_op(P1, lambda x: a0(alpha, x)) + eig_op(P0, lambda x: a1(alpha, x)))
        M0 = (U * M0e * U.H).applyfunc(_expand)
        n_ = [_rel_n(i) for i in range(dim)]
        s1 = [(i >> (N - 1)) & 1 for i in range(dim)]
        pr60 = sp.diag(*[sp.sqrt(mu) * (a1(alpha, E_p + n_[i] * h) if s1[i] else a0(alpha, E_p + n_[i] * h))
                         for i in range(dim)])
        fix60 = sp.diag(*[sp.sqrt(mu) * (a0(alpha, E_p + n_[i] * h) if s1[i] else a1(alpha, E_p + n_[i] * h))
                          for i in range(dim)])
        d.compare("(60)", f"N={N}: <s|M_(alpha,p,0)|s> from (57) by (A7): a_0 belongs to s_1 = 1 in (50)'s order; "
                          f"printed (60) attaches a_1 to s_1 = 1 (labels swapped, README item 6)",
                  M0, pr60, correction=fix60, simplify=_expand)
        for sign, eqk, eql, af in ((-1, "(58)", "(61)", a_m), (+1, "(59)", "(62)", a_p)):
            sig = sp.kronecker_product(_paper_sigma(sign), rest)
            Me = sp.sqrt(mu) / 2 * eig_op(sig, lambda x: af(alpha, x))
            Mloc = (U * Me * U.H).applyfunc(_expand)
            printed = sp.zeros(dim, dim)
            for i in range(dim):
                if s1[i] == (1 if sign < 0 else 0):
                    tgt = i - (1 << (N - 1)) if sign < 0 else i + (1 << (N - 1))
                    printed[tgt, i] = sp.sqrt(mu) * af(alpha, E_p + n_[i] * h)
            d.compare(eql, f"N={N}: local matrix of M_(alpha,p,{'-' if sign < 0 else '+'}) from {eqk} by (A7): "
                           f"<s_1 {'-' if sign < 0 else '+'} 1, ...|M|s> = sqrt(mu_eff) a(E_p + n h), n = excitations of "
                           f"the ket (paper ladder: the 1/2 of {eqk} cancels the 2 of sigma)",
                      Mloc, printed, simplify=_expand)
    return d


@derivation("kraus_outgoing_energy_B", equations=["(B1)", "(B2)", "(B3)", "(18)", "(37)", "(38)", "(41)"])
def derive_kraus_B(d):
    """Appendix B: Kraus operators of the exact map in the outgoing energy E_out, (B1)-(B3) against (18), (37), (38)."""
    # --- (B1) + (B2) + (18) -> (37)
    d.step("(B1) as a finite mixture rho_U(p,p'') = sum_k mu_k phi_k(p) phi_k(p'')^* (the p0 integral as a sum); "
           "(B2): <j'|M|j> = int dp sqrt(p mu/m) phi(p) delta(p^2/2m - Delta_j'j - E_out) s_j'j(p^2/2m + eps_j)")
    p2 = sp.Symbol("p''", positive=True)
    Ex = sp.Symbol("E_x", real=True)  # E_out as an integration variable
    A_ = p**2 / (2 * m) - D1
    B_ = p2**2 / (2 * m) - D2
    mus = sp.symbols("mu_1:3", positive=True)
    phis = [sp.Function(f"phi_{k}") for k in (1, 2)]
    S1 = s_f(p**2 / (2 * m) + e_j)
    S2 = t_f(p2**2 / (2 * m) + e_k)
    # sum_{p0} <j'|M|j><k'|M|k>^* under the p, p'' integrals, then int_0^oo dE_out
    kern = sum(sp.sqrt(p * mk / m) * ph(p) * sp.sqrt(p2 * mk / m) * sp.conjugate(ph(p2)) for mk, ph in zip(mus, phis))
    deltas = sp.integrate(sp.DiracDelta(A_ - Ex) * sp.DiracDelta(B_ - Ex), (Ex, 0, sp.oo))
    # SymPy returns delta(B - A) (1 - Theta(-A)); Theta(-x) = 1 - Theta(x) (SymPy's Theta(0) = 1/2) gives Theta(A)
    deltas = sp.expand(deltas.replace(lambda e: isinstance(e, sp.Heaviside) and sp.expand(e.args[0] + A_) == 0,
                                      lambda e: 1 - sp.Heaviside(-e.args[0])))
    d.step(f"int_0^oo dE_out delta(A - E_out) delta(B - E_out) = {sp.sstr(deltas)}  (A = E_p - Delta_j'j, "
           "B = E_p'' - Delta_k'k; SymPy deltaintegrate)")
    derived37 = sp.expand(kern * deltas * S1 * sp.conjugate(S2))
    rhoU = sum(mk * ph(p) * sp.conjugate(ph(p2)) for mk, ph in zip(mus, phis))
    printed37 = (rhoU * sp.sqrt(p * p2) / m * sp.DiracDelta(p**2 / (2 * m) - p2**2 / (2 * m) - D1 + D2)
                 * S1 * sp.conjugate(S2) * sp.Heaviside(p**2 / (2 * m) - D1))
    d.compare("(37)", "sum_p0 int_0^oo dE_out <j'|M|j><k'|M|k>^* ((18) with (B2), (B1)) = integrand of (37) on its "
                      "range E_p >= Delta_j'j (delta(A-E)delta(B-E) integrated over E >= 0 gives delta(A-B) Theta(A))",
              derived37, sp.expand(printed37))
    # --- (B2) -> (B3)
    res, printedB3 = kraus_B2_integrated()
    d.compare("(B3)", "(B2) integrated over p for Delta_j'j + E_out = w > 0 (SymPy deltaintegrate) = printed (B3)",
              res, printedB3)
    v = sp.Symbol("v", positive=True)
    d.check("(B3)", "Delta_j'j + E_out = -v < 0: the delta argument p^2/2m + v > 0 on p >= 0 has no root, (B2) = 0 = "
                    "Theta(Delta_j'j + E_out) (B3)", (p**2 / (2 * m) + v).is_positive is True, 0)
    Eo_p = p**2 / (2 * m) - D1
    d.compare("(B2)", "change of variables E_out = p^2/2m - Delta_j'j: |dp/dE_out| = m/p (the Jacobian of (B3))",
              1 / sp.diff(Eo_p, p), m / p)
    # --- Kraus sum in E_out -> (38)
    d.step("S^{jk}_{j'k'} = sum_alpha int dp0 int_0^oo dE_out <j'|M|j><k'|M|k>^* with (B3); E_out -> p = "
           "sqrt(2m(Delta_j'j + E_out)), dE_out = p dp/m, q = sqrt(2m(Delta_k'k + E_out))")
    E_of_p = p**2 / (2 * m) - D1
    q_derived = sp.sqrt(sp.expand(2 * m * (D2 + E_of_p)))
    pi_printed = sp.sqrt(p**2 - 2 * m * (D1 - D2))
    d.compare("(38)", "q = sqrt(2m(Delta_k'k + E_out)) at E_out = p^2/2m - Delta_j'j equals pi(p) of (38)",
              q_derived, pi_printed)
    # integrand with q a positive symbol (q = pi(p) by the previous check); e_jp = e_j + D1, e_kp = e_k + D2
    Mj = [sp.sqrt(m * mk) / p ** sp.Rational(1, 2) * ph(p) * s_f(E_of_p + e_j + D1) for mk, ph in zip(mus, phis)]
    Mk = [sp.sqrt(m * mk) / q ** sp.Rational(1, 2) * ph(q) * t_f(E_of_p + e_kp) for mk, ph in zip(mus, phis)]
    derived38 = sp.expand(sum(a * sp.conjugate(b) for a, b in zip(Mj, Mk)) * sp.diff(E_of_p, p))
    rhoUq = sum(mk * ph(p) * sp.conjugate(ph(q)) for mk, ph in zip(mus, phis))
    printed38 = sp.expand(rhoUq * sp.sqrt(p / q) * s_f(p**2 / (2 * m) + e_j)
                          * sp.conjugate(t_f(p**2 / (2 * m) - D1 + e_kp)))
    d.compare("(38)", "Kraus sum (B3) in the variable p = integrand of (38): rho_U(p, pi(p)) sqrt(p/pi(p)) "
                      "s_j'j(E_p + eps_j) s_k'k(E_p - Delta_j'j + eps_k')^*", derived38, printed38)
    Ep_ = sp.Symbol("E_p", real=True)
    conds = [E_of_p.subs(p**2, 2 * m * Ep_),  # E_out >= 0
             D1 + E_of_p.subs(p**2, 2 * m * Ep_),  # Theta(Delta_j'j + E_out): p real
             D2 + E_of_p.subs(p**2, 2 * m * Ep_)]  # Theta(Delta_k'k + E_out): pi(p) real
    Einf = sp.Max(*[sp.solve(c, Ep_)[0] for c in conds])
    d.compare("(38)", "lower limit: E_out >= 0, Theta(Delta_j'j + E_out), Theta(Delta_k'k + E_out) solved for E_p "
                      "give p_inf^2 = 2m max{0, Delta_j'j, Delta_j'j - Delta_k'k}",
              2 * m * Einf, 2 * m * sp.Max(0, D1, D1 - D2))
    # --- trace preservation
    Et = sp.Symbol("E_tot", real=True)
    c_j = kraus_B3_printed(D=e_jp - e_j, E=Et - e_jp, eps_jp=e_jp, s=lambda x: 1)
    d.check("(B3)", "at fixed total energy E_tot = E_out + eps_j' the prefactor of (B3) depends on j only "
                    "(Delta_j'j + E_out = E_tot - eps_j): <j'|M|j> = c_j(E_tot) s_j'j(E_tot)",
            sp.diff(sp.simplify(c_j), e_jp) == 0, 0)
    dd = 3
    cs = sp.symbols(f"c0:{dd}")
    sa = [sp.Matrix(dd, dd, lambda a, b: sp.Symbol(f"s{al}_{a}{b}")) for al in ("p", "m")]
    Cm = sp.diag(*cs)
    lhs = sum(((s * Cm).H * (s * Cm) for s in sa), sp.zeros(dd, dd))
    rhs = Cm.H * sum((s.H * s for s in sa), sp.zeros(dd, dd)) * Cm
    d.check("(B3)", "sum_(alpha, j') <j'|M|j>^* <j'|M|k> = c_j^* c_k [sum_alpha s^(alpha)dag s^(alpha)]_jk "
                    "(generic 3x3 s^(+-), generic c)", (lhs - rhs).applyfunc(sp.expand).is_zero_matrix, 0)
    from .scattering import smatrix_C1
    from .scattering import g as g_s, hbar as hbar_s, m as m_s
    vals = {m_s: sp.Rational(1, 10), g_s: 50, hbar_s: 1}
    ks = [sp.Rational(3, 2), sp.Rational(7, 5), sp.Rational(1, 3)]
    V = sp.Matrix([[0, 1, 0], [1, 0, sp.Rational(1, 2)], [0, sp.Rational(1, 2), 0]])
    sP, sM = (x.subs(vals) for x in smatrix_C1(ks, V))
    W = (Cm.H * (sP.H * sP + sM.H * sM) * Cm).applyfunc(sp.nsimplify).applyfunc(sp.expand)
    d.compare("(B3)", "with the delta-interaction s of (C1)-(C2) (3 open channels, exact rationals; general proof in "
                      "flux_unitarity_symmetry): sum M^dag M at fixed E_tot = diag(|c_j|^2)",
              W, sp.diag(*[c * sp.conjugate(c) for c in cs]), simplify=sp.expand, method="symbolic, exact rationals")
    cj = sp.sqrt(m * mu) / (2 * m * w) ** sp.Rational(1, 4) * phi(sp.sqrt(2 * m * w))
    cj2 = cj * sp.conjugate(cj)
    # E_tot - eps_j = w = p^2/2m: int dE_tot |c_j|^2 = int dp (p/m) |c_j|^2
    d.compare("(B3)", "E_tot - eps_j = p^2/2m: dE_tot |c_j|^2 = mu |phi(p)|^2 dp, so sum M^dag M = "
                      "int dp0 mu(p0) int dp |phi(p;p0)|^2 I = Tr(rho_U) I (trace preserving)",
              sp.simplify((cj2.subs(w, p**2 / (2 * m))) * p / m), mu * phi(p) * sp.conjugate(phi(p)))
    sig = sp.Symbol("sigma", positive=True)
    ph_ex = lambda x: sp.sqrt(2 * x / sig**2) * sp.exp(-x**2 / (2 * sig**2))  # noqa: E731 normalised on p > 0
    integ = sp.integrate((sp.sqrt(m) / (2 * m * w) ** sp.Rational(1, 4) * ph_ex(sp.sqrt(2 * m * w))) ** 2, (w, 0, sp.oo))
    d.compare("(B3)", "example phi(p) = sqrt(2p/sigma^2) exp(-p^2/2sigma^2) (normalised on p > 0): "
                      "int_{eps_j}^oo dE_tot |c_j|^2/mu = 1", sp.simplify(integ), sp.Integer(1))
    # --- (41) is not a positive kernel: (B1) has no real positive mu for it
    R, closed, (b_, s_, pp) = gaussian_rhoU_minor_ratio()
    d.compare("(41)", "2x2 minor ratio R = |rho_U(p,p')|^2/(rho_U(p,p) rho_U(p',p')) of the Gaussian state (41)",
              sp.simplify(sp.powsimp(R, force=True)), closed)
    lim = sp.limit(closed, pp, 0, "+")
    d.check("(41)", "R -> oo as p' -> 0+ for every beta, m, sigma_p, p > 0: the minor rho_U(p,p) rho_U(p',p') - "
                    "|rho_U(p,p')|^2 < 0, so (41) on p > 0 is not >= 0 and (B1) has no real positive mu(p0) for it "
                    "(cause of the small negative Choi eigenvalues of the exact map)", lim == sp.oo, 0)
    paper = {b_: sp.Rational(1, 10), m: sp.Rational(1, 10), s_: sp.Rational(1, 2), p: 1, pp: sp.Rational(1, 10000)}
    val = sp.N(closed.subs(paper), 30)
    d.check("(41)", f"paper parameters beta = m = 0.1, sigma_p = 0.5: R(p=1, p'=1e-4) = {sp.N(val, 6)} > 1",
            val > 1, val, "exact expression evaluated at 30 digits")
    return d
