"""Symbolic scattering matrices of the delta interaction, Appendix C of the paper (SymPy).

Setting: a unit of mass ``m`` hits a system with Hamiltonian H through ``g V delta(x)``
(Eq. (65), ``V = sigma_x`` on qubit 1).  ``hbar`` is kept as a symbol.  Wave numbers
``k_j = sqrt(2 m (E - eps_j))/hbar`` use the branch ``+i sqrt(|.|)`` for closed
channels (``E < eps_j``, evanescent, decaying away from the scatterer); the SymPy
function :class:`csqrt` carries that branch so that generated code cannot pick the
wrong one (numpy's ``sqrt(-4-0j) = -2j``).

Named outputs (each with its equation):

* :func:`smatrix_C1` -- ``s^(+) = K^{1/2} [I + i (m g/hbar^2) K^{-1} V]^{-1} K^{-1/2}`` (C1), ``s^(-) = s^(+) - I`` (C2);
* :func:`matching_solution` -- transmitted/reflected amplitudes from the matching
  conditions of the delta potential (the derivation of (C1)-(C2));
* :func:`one_qubit_block` -- the one-qubit closed form (C4)-(C8), in terms of wave numbers;
* :func:`one_qubit_smatrix` -- the same as a function of E (open/closed channels masked);
* :func:`c_one_qubit` -- ``c`` of (C6) and ``c^2`` of (C8);
* :func:`block_smatrix_k` / :func:`block_smatrix_eps0` -- the N-qubit eps = 0 s-matrix
  (C24)-(C28) as a direct sum of one-qubit blocks at shifted energies (local basis);
* :func:`c_pm_E`, :func:`c_pm_p` -- ``c_pm`` of (C25) and of the momentum form (C32);
* :func:`mu_eff` -- effusion distribution (40).

Matrices of this module use the one-qubit order ``(|0>, |1>)`` of
:mod:`symcoll.conventions` unless the name says ``appc`` (Appendix C's ``(|1>, |0>)``).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..derive import derivation

E = sp.Symbol("E", real=True)
h, m, g, hbar, p = sp.symbols("h m g hbar p", positive=True)
beta = sp.Symbol("beta", positive=True)
lam = m * g / hbar**2
"""``lambda = m g / hbar^2``, the strength of the derivative jump (half of ``2 m g/hbar^2``)."""

SX = sp.Matrix([[0, 1], [1, 0]])
SY_APPC = sp.Matrix([[0, -sp.I], [sp.I, 0]])  # textbook sigma_y in Appendix C's order (|1>, |0>)
SX_APPC = SX
SZ_APPC = sp.Matrix([[1, 0], [0, -1]])

MAX_BLOCK_N = 12


class csqrt(sp.Function):
    """Square root with the evanescent branch: ``sqrt(x)`` for ``x >= 0``, ``+i sqrt(-x)`` for ``x < 0``.

    Used for ``K = sqrt(2 m (E - H))/hbar`` in (C1): a closed channel has
    ``K_j = +i sqrt(2 m (eps_j - E))/hbar`` (wave decaying away from the scatterer).
    Evaluates when the sign of the argument is known (assumptions or numbers).
    """

    is_commutative = True

    @classmethod
    def eval(cls, x):
        if x.is_nonnegative:
            return sp.sqrt(x)
        if x.is_negative:
            return sp.I * sp.sqrt(-x)
        return None

    def _eval_evalf(self, prec):
        x = self.args[0].evalf(prec)
        if x.is_number and x.is_extended_real:
            return (sp.sqrt(x) if x >= 0 else sp.I * sp.sqrt(-x)).evalf(prec)
        return None


def wave_number(x):
    """``k = csqrt(2 m x)/hbar`` for kinetic energy ``x = E - eps_j`` (closed channel: ``+i kappa``)."""
    return csqrt(2 * m * x) / hbar


# ----------------------------------------------------------------------------- (C1)-(C2)
def _inv(A):
    """Symbolic inverse as adjugate/determinant (much faster than SymPy's default for symbolic entries)."""
    return A.adjugate() / A.det(method="berkowitz")


def smatrix_C1(ks, V, literal=False):
    """``s^(+)`` of Eq. (C1) for diagonal ``K = diag(ks)`` and symmetric ``V``.

    Parameters
    ----------
    ks : sequence of SymPy expressions
        Wave numbers ``k_j`` of the channels (eigenbasis of H).
    V : sympy.Matrix
        Coupling operator in the same basis.
    literal : bool
        ``True``: the printed form ``K^{1/2} [I + i lam K^{-1} V]^{-1} K^{-1/2}``;
        ``False``: the equivalent ``K^{1/2} (K + i lam V)^{-1} K^{1/2}`` (finite at thresholds).

    Returns
    -------
    (s_plus, s_minus) : sympy.Matrix
        ``s^(-) = s^(+) - I`` (Eq. (C2)).
    """
    d = len(ks)
    K = sp.diag(*ks)
    Kh = sp.diag(*[sp.sqrt(k) for k in ks])
    if literal:
        Kmh = sp.diag(*[1 / sp.sqrt(k) for k in ks])
        Kinv = sp.diag(*[1 / k for k in ks])
        sp_ = Kh * _inv(sp.eye(d) + sp.I * lam * Kinv * V) * Kmh
    else:
        sp_ = Kh * _inv(K + sp.I * lam * V) * Kh
    return sp_, sp_ - sp.eye(d)


def matching_solution(ks, V, j, direction=+1, jump=None):
    """Amplitudes of the scattering state entering in channel ``j`` (derivation of (C1)-(C2)).

    ``direction=+1`` (incident from the left, symcoll's convention):
    ``psi(x<0) = e^{i k_j x}|j> + sum_k r_k e^{-i k_k x}|k>``, ``psi(x>0) = sum_k t_k e^{i k_k x}|k>``.
    ``direction=-1`` (incident from the right, as printed in (C10)-(C12)): ``x -> -x`` in both.
    Matching at the delta potential of (65): continuity ``psi(0-) = psi(0+)`` and the jump
    ``psi'(0+) - psi'(0-) = (2 m g/hbar^2) V psi(0)`` (``jump`` replaces ``2 m g/hbar^2``, e.g. by a number).

    Returns
    -------
    t, r : sympy.Matrix (column vectors, amplitudes, not flux normalised)
    """
    if direction not in (+1, -1):
        raise ValueError(f"direction must be +1 (from the left) or -1 (from the right) (got {direction!r})")
    d = len(ks)
    t = sp.Matrix(sp.symbols(f"t0:{d}"))
    r = sp.Matrix(sp.symbols(f"r0:{d}"))
    e = sp.Matrix([1 if i == j else 0 for i in range(d)])
    K = sp.diag(*ks) * direction  # d/dx of e^{i direction k x} is i direction k
    eqs = list(e + r - t)  # continuity
    # side of the incident wave: incoming e and reflected r; the other side: transmitted t
    d_in = sp.I * K * e - sp.I * K * r
    d_out = sp.I * K * t
    dpsi = (d_out - d_in) if direction == +1 else (d_in - d_out)  # psi'(0+) - psi'(0-)
    eqs += list(dpsi - (2 * m * g / hbar**2 if jump is None else jump) * V * t)
    A, b = sp.linear_eq_to_matrix(eqs, list(t) + list(r))
    x = A.LUsolve(b)
    if not (A.free_symbols or b.free_symbols):  # exact numbers: evaluate the nested Gaussian-rational arithmetic
        x = x.applyfunc(sp.expand)
    return x[:d, :], x[d:, :]


def matched_smatrix(ks, V, direction=+1, jump=None):
    """Flux-normalised ``(s^(+), s^(-))`` assembled column by column from :func:`matching_solution`.

    ``s^(alpha)_kj = sqrt(k_k/k_j) amplitude_k`` (current ``hbar k |amp|^2/m``); the derivation of (C1)-(C2).
    """
    d = len(ks)
    Sp, Sm = sp.zeros(d, d), sp.zeros(d, d)
    for j in range(d):
        t, r = matching_solution(ks, V, j, direction, jump)
        for k in range(d):
            Sp[k, j] = sp.sqrt(ks[k]) / sp.sqrt(ks[j]) * t[k]
            Sm[k, j] = sp.sqrt(ks[k]) / sp.sqrt(ks[j]) * r[k]
    return Sp, Sm


# ----------------------------------------------------------------------------- one qubit
def one_qubit_block(k0, k1):
    """One-qubit ``s^(+)`` (Eq. (C4)) in the order (|0>, |1>) as a function of the wave numbers.

    ``s^(+) = (I + i c sigma_x)^{-1} = (I - i c sigma_x)/(1 + c^2)``, ``c = lam/sqrt(k0 k1)``
    (Eq. (C15)), written as ``[[k0 k1, -i lam sqrt(k0) sqrt(k1)], [., k0 k1]]/(k0 k1 + lam^2)``
    which is finite at the thresholds ``k -> 0``.
    """
    den = k0 * k1 + lam**2
    off = -sp.I * lam * sp.sqrt(k0) * sp.sqrt(k1) / den
    diag = k0 * k1 / den
    return sp.Matrix([[diag, off], [off, diag]])


def c_one_qubit(E_=E, h_=h):
    """``c`` of Eq. (C6): ``(g/hbar) sqrt(m/2) [E (E - h)]^{-1/4}`` (open, ``E > h``)."""
    return g / hbar * sp.sqrt(m / 2) / (E_ * (E_ - h_)) ** sp.Rational(1, 4)


def c2_closed_one_qubit(E_=E, h_=h):
    """``c^2`` of Eq. (C8): ``-i g^2 m / (2 hbar^2 [E (h - E)]^{1/2})`` for ``0 < E < h``."""
    return -sp.I * g**2 * m / hbar**2 / (2 * sp.sqrt(E_ * (h_ - E_)))


def _open(x):
    return x >= 0


def one_qubit_smatrix(alpha=+1, E_=E, e0=0, e1=h):
    """One-qubit ``s^(alpha)(E)`` (Eqs. (C4)-(C8)) in the order (|0>, |1>), closed channels set to 0.

    ``e0, e1`` are the channel energies (``0`` and ``h`` for the bare qubit).  Each entry
    is a ``Piecewise``: nonzero only if both its channels are open (``E >= e``).
    """
    k0, k1 = wave_number(E_ - e0), wave_number(E_ - e1)
    S = one_qubit_block(k0, k1)
    if alpha == -1:
        S = S - sp.eye(2)
    elif alpha != +1:
        raise ValueError(f"alpha must be +1 (transmitted) or -1 (reflected) (got {alpha!r})")
    opens = [_open(E_ - e0), _open(E_ - e1)]
    return sp.Matrix(2, 2, lambda a, b: sp.Piecewise((S[a, b], sp.And(opens[a], opens[b])), (0, True)))


# ----------------------------------------------------------------------------- N qubits, eps = 0
def _check_block_N(N):
    if isinstance(N, bool) or not isinstance(N, int):
        raise TypeError(f"N must be an integer number of qubits (got {N!r})")
    if not 1 <= N <= MAX_BLOCK_N:
        raise ValueError(f"N must be in 1..{MAX_BLOCK_N} for the block s-matrix (got {N})")
    return N


def band_wave_numbers(N):
    """Symbols ``k_0..k_N``: wave number of the band with n excitations (energy ``n h`` at eps = 0)."""
    return sp.symbols(f"k0:{N + 1}")


def pairs(N):
    """Local-basis index pairs ``(|0 r>, |1 r>)`` coupled by ``V = sigma_x^(1)``, with ``n_r``.

    Qubit 1 is the most significant bit (conventions), so ``|0 r>`` has index ``r`` and
    ``|1 r>`` index ``2**(N-1) + r``; ``n_r`` is the number of excitations of qubits 2..N.
    """
    _check_block_N(N)
    half = 2 ** (N - 1)
    return [(r, half + r, bin(r).count("1")) for r in range(half)]


def block_smatrix_k(N, ks=None):
    """N-qubit ``s^(+)`` at eps = 0 (Eqs. (C24)-(C28)) in the local basis, in band wave numbers.

    ``V = sigma_x^(1)`` only couples ``|0 r>`` (energy ``n_r h``) and ``|1 r>`` (energy
    ``(n_r+1) h``), and ``K`` is diagonal in the local basis at eps = 0, so (C1) is a
    direct sum of one-qubit blocks ``one_qubit_block(k_{n_r}, k_{n_r+1})``: no
    ``2^N x 2^N`` inversion.  Closed channels are not removed here (see
    :func:`block_smatrix_eps0`).
    """
    ks = band_wave_numbers(N) if ks is None else ks
    d = 2**N
    entries = {}
    for i0, i1, n in pairs(N):
        B = one_qubit_block(ks[n], ks[n + 1])
        for a, ia in enumerate((i0, i1)):
            for b, ib in enumerate((i0, i1)):
                entries[(ia, ib)] = B[a, b]
    return sp.Matrix(sp.SparseMatrix(d, d, entries))


@lru_cache(maxsize=None)
def block_smatrix_eps0(N, alpha=+1):
    """N-qubit ``s^(alpha)(E)`` at eps = 0 (Eqs. (C24)-(C31)) in the local basis, closed channels 0.

    Band n has energy ``n h``; its wave number is ``csqrt(2 m (E - n h))/hbar``.  Entry
    ``(k, j)`` is a ``Piecewise`` that is nonzero only when both channels are open.
    ``alpha=-1`` gives ``s^(-) = s^(+) - I`` on the open channels (Eq. (C2)).

    Returns
    -------
    sympy.ImmutableMatrix (2**N x 2**N), entries functions of ``E, h, m, g, hbar``.
    """
    _check_block_N(N)
    if alpha not in (+1, -1):
        raise ValueError(f"alpha must be +1 (transmitted) or -1 (reflected) (got {alpha!r})")
    ks = [wave_number(E - n * h) for n in range(N + 1)]
    d = 2**N
    entries = {}
    for i0, i1, n in pairs(N):
        B = one_qubit_block(ks[n], ks[n + 1])
        if alpha == -1:
            B = B - sp.eye(2)
        opens = [_open(E - n * h), _open(E - (n + 1) * h)]
        for a, ia in enumerate((i0, i1)):
            for b, ib in enumerate((i0, i1)):
                entries[(ia, ib)] = sp.Piecewise((B[a, b], sp.And(opens[a], opens[b])), (0, True))
    return sp.ImmutableMatrix(sp.SparseMatrix(d, d, entries))


def c_pm_E(sign, E_=E, eps_j=0, h_=h):
    """``c_pm`` of Eq. (C25) with ``h`` (the printed ``hbar`` is a misprint):

    ``c_pm = (g/hbar) sqrt(m/2) [(E - eps_j)(E - eps_j pm h)]^{-1/4}``.
    """
    return g / hbar * sp.sqrt(m / 2) / ((E_ - eps_j) * (E_ - eps_j + sign * h_)) ** sp.Rational(1, 4)


def c_pm_p(sign, p_=p, h_=h):
    """``c_pm(p)`` of Eq. (C32) with ``h``: ``(g m/hbar) [p sqrt(p^2 pm 2 m h)]^{-1/2}``.

    The inner square root takes the evanescent branch (:class:`csqrt`) for
    ``p^2 - 2 m h < 0``, so that ``c_-(p)^2`` is the imaginary number of (C8).
    """
    return g * m / hbar / sp.sqrt(p_ * csqrt(p_**2 + sign * 2 * m * h_))


def mu_eff(p_=p, beta_=beta, m_=m):
    """Effusion distribution ``mu_eff(p) = (beta p/m) exp(-beta p^2/(2m))`` for p > 0, Eq. (40)."""
    return sp.Piecewise((beta_ * p_ / m_ * sp.exp(-beta_ * p_**2 / (2 * m_)), p_ > 0), (0, True))


# ----------------------------------------------------------------------------- helpers for checks
def _numerically_nonzero(expr):
    """True if ``expr`` evaluates (30 digits) to a number of modulus > 1e-12 at a fixed rational point.

    A nonzero value at one point proves that ``expr`` is not identically zero, so the slow
    ``simplify`` can be skipped for a residual that is not zero (a misprint).  Symbols are set to
    distinct positive rationals; any failure to evaluate returns False (then ``simplify`` decides).
    """
    syms = sorted(expr.free_symbols, key=str)
    point = {s_: sp.Rational(17 + 7 * i, 13 + 2 * i) for i, s_ in enumerate(syms)}
    try:
        val = complex(sp.N(expr.subs(point), 30))
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return val == val and abs(val) > 1e-12 and abs(val) != float("inf")


def _simp(expr):
    """Fast exact simplification for ``Derivation.compare``: cancel rational functions; a residual that is
    numerically nonzero at a point is returned as is (it cannot simplify to 0); else ``simplify``."""
    e = sp.cancel(sp.together(expr))
    if e == 0 or _numerically_nonzero(e):
        return e
    return sp.simplify(e)


def _is_zero(expr):
    return _simp(expr) == 0


def _zero_matrix(M):
    return all(_is_zero(x) for x in M)


def _rational_numbers(exprs, ks, vals):
    """Evaluate a matrix ``exprs`` at exact rationals ``vals`` and 50 digits (the d = 3 checks)."""
    return sp.Matrix(exprs).subs(vals).evalf(50)


#: (C25) and (C32) as printed (hbar where the qubit energy h is meant, discrepancy 2 of README_derivations.md).
def c_pm_E_printed(sign, E_=E, eps_j=0):
    """``c_pm`` of (C25) exactly as printed: ``(g/hbar) sqrt(m/2) [(E - eps_j)(E - eps_j pm hbar)]^{-1/4}``."""
    return c_pm_E(sign, E_, eps_j, h_=hbar)


def c_pm_p_printed(sign, p_=p):
    """``c_pm(p)`` of (C32) exactly as printed: ``(g m/hbar) [p sqrt(p^2 pm 2 m hbar)]^{-1/2}``."""
    return g * m / hbar / sp.sqrt(p_ * sp.sqrt(p_**2 + sign * 2 * m * hbar))


# ----------------------------------------------------------------------------- derivations
@derivation("scattering_delta_matching", equations=["(C1)", "(C2)"])
def derive_delta_matching(d):
    """(C1)-(C2) from continuity, the derivative jump (2 m g/hbar^2) V psi(0) and flux normalisation."""
    d.step("psi(x<0) = e^{ik_j x}|j> + sum r_k e^{-ik_k x}|k>, psi(x>0) = sum t_k e^{ik_k x}|k>")
    d.step("continuity: e_j + r = t;  jump: iK t - iK(e_j - r) = (2mg/hbar^2) V t  =>  (K + i lam V) t = K e_j")
    d.step("flux normalisation: s_kj = sqrt(k_k/k_j) amplitude_k (current hbar k |amp|^2/m)")
    for dim in (2, 3):
        ks = sp.symbols(f"k0:{dim}", positive=True)
        vs = {}
        V = sp.Matrix(dim, dim, lambda a, b: vs.setdefault((min(a, b), max(a, b)), sp.Symbol(f"v{min(a, b)}{max(a, b)}", real=True)))
        num = {m: sp.Rational(1, 10), g: 50, hbar: 1}
        if dim == 3:  # exact rationals (k squares of rationals): a generic d=3 simplification is slow
            V = V.subs({v: sp.Rational(2 * i - 3, 5) for i, v in enumerate(vs.values())})
            ks = [sp.Rational(3 + 2 * i, 2 + i) ** 2 for i in range(dim)]
            S_p, S_m = matched_smatrix(ks, V, jump=(2 * lam).subs(num))
        else:
            S_p, S_m = matched_smatrix(ks, V)
        Kh = sp.diag(*[sp.sqrt(k) for k in ks])
        Kmh = sp.diag(*[1 / sp.sqrt(k) for k in ks])
        A = sp.eye(dim) + sp.I * lam * sp.diag(*[1 / k for k in ks]) * V
        if dim == 2:
            s_lit, sm_lit = smatrix_C1(ks, V, literal=True)
            d.compare("(C1)", "d=2, generic real symmetric V: s^(+) from the matching conditions = "
                      "K^(1/2)[I + i m g/hbar^2 K^-1 V]^-1 K^(-1/2)", S_p, s_lit, simplify=_simp)
            d.compare("(C2)", "d=2: s^(-) from the reflected amplitudes = s^(+) - I", S_m, sm_lit, simplify=_simp)
            s_alt, _ = smatrix_C1(ks, V, literal=False)
            d.compare("(C1)", "d=2: symcoll's threshold-safe form K^(1/2)(K + i lam V)^-1 K^(1/2) = printed (C1)",
                      s_alt, s_lit, simplify=_simp)
        else:
            # (C1) multiplied by its bracket: s = K^(1/2) A^-1 K^(-1/2)  <=>  A K^(-1/2) s K^(1/2) = I (A invertible)
            d.compare("(C1)", "d=3, exact rational V, k, m, g, hbar: (C1) multiplied out, [I + i lam K^-1 V] K^(-1/2) "
                      "s^(+) K^(1/2) = I with s^(+) from the matching conditions", A.subs(num) * Kmh * S_p * Kh,
                      sp.eye(dim), simplify=_simp, method="exact rationals")
            d.compare("(C2)", "d=3: s^(-) from the reflected amplitudes = s^(+) - I", S_m, S_p - sp.eye(dim), simplify=_simp, method="exact rationals")
    # text after (C2): which channels are open
    Ej = sp.Symbol("epsilon_j", real=True)
    kin = sp.simplify((hbar * sp.sqrt(2 * m * (E - Ej)) / hbar) ** 2 / (2 * m))
    x = sp.Symbol("x", positive=True)
    d.check("(C2)", "wave_number: K_j real for E - eps_j = x > 0, K_j = +i kappa for E - eps_j = -x < 0",
            wave_number(x).is_positive and (wave_number(-x) / sp.I).is_positive)
    d.compare("(C2)", "open channel: the quantity that must be positive, (hbar K_j)^2/2m = E - eps_j; "
              "the text after (C2) prints 'eps_j > E', i.e. eps_j - E > 0",
              kin, Ej - E, correction=E - Ej, simplify=_simp)
    return d


@derivation("one_qubit_smatrix", equations=["(C3)", "(C4)", "(C5)", "(C6)", "(C7)", "(C8)", "(C13)", "(C14)", "(C15)"])
def derive_one_qubit(d):
    """One-qubit closed forms (C3)-(C8) from (C1), including the evanescent branch below threshold."""
    x, y, z = sp.symbols("x y z", positive=True)
    d.step("E > h: write E = h + x (x > 0); both channels open, K = diag(k_0, k_1) real")
    Eo = h + x
    k0, k1 = wave_number(Eo), wave_number(Eo - h)
    d.compare("(C3)", "K in Appendix C order (|1>,|0>) = sqrt(2m)/hbar diag(sqrt(E-h), sqrt(E))",
              sp.diag(k1, k0), sp.sqrt(2 * m) / hbar * sp.diag(sp.sqrt(Eo - h), sp.sqrt(Eo)), simplify=_simp)
    s_p, s_m = smatrix_C1([k0, k1], SX, literal=True)
    c = c_one_qubit(Eo)
    C4 = 1 / (1 + c**2) * sp.Matrix([[1, -sp.I * c], [-sp.I * c, 1]])
    C5 = -c / (1 + c**2) * sp.Matrix([[c, sp.I], [sp.I, c]])
    d.compare("(C4)", "E > h: s^(+) from (C1) = (1/(1+c^2))[[1, -ic], [-ic, 1]], c of (C6)", s_p, C4, simplify=_simp)
    d.compare("(C5)", "E > h: s^(-) = s^(+) - I = (-c/(1+c^2))[[c, i], [i, c]]", s_m, C5, simplify=_simp)
    d.compare("(C4)", "symcoll's one_qubit_block(k0, k1) (threshold-safe form, used by the kernels) = (C4)",
              one_qubit_block(k0, k1), C4, simplify=_simp)
    c_derived = sp.I * s_p[0, 1] / s_p[0, 0]  # s_01/s_00 = -ic
    d.compare("(C6)", "c read off the derived s^(+) (c = i s_01/s_00) = (g/hbar) sqrt(m/2) [E(E-h)]^(-1/4)",
              c_derived, c, simplify=_simp)
    d.compare("(C15)", "c = i s_01/s_00 = (m g/hbar^2)/sqrt(k k')", c_derived, m * g / hbar**2 / sp.sqrt(k0 * k1),
              simplify=_simp)
    d.step("0 < E < h: write E = z, h = z + y; channel |1> is closed, K_1 = +i sqrt(2m(h-E))/hbar (evanescent branch)")
    Ec, hc = z, z + y
    k0c, k1c = wave_number(Ec), wave_number(Ec - hc)
    d.check("(C7)", "0 < E < h: K_1 = +i sqrt(2m(h-E))/hbar (csqrt branch, decaying away from the scatterer)",
            _is_zero(k1c - sp.I * sp.sqrt(2 * m * y) / hbar))
    sc_p, sc_m = smatrix_C1([k0c, k1c], SX, literal=False)
    c2 = c2_closed_one_qubit(Ec, hc)
    d.compare("(C7)", "0 < E < h: (s^(+)_00, s^(-)_00) from (C1) = (1/(1+c^2), -c^2/(1+c^2)) with c^2 of (C8)",
              sp.Matrix([sc_p[0, 0], sc_m[0, 0]]), sp.Matrix([1 / (1 + c2), -c2 / (1 + c2)]), simplify=_simp)
    c2_derived = 1 / sc_p[0, 0] - 1
    d.compare("(C8)", "c^2 = 1/s^(+)_00 - 1 (derived) = -i g^2 m/(2 hbar^2 [E(h-E)]^(1/2))", c2_derived, c2,
              simplify=_simp)
    flux = sp.Abs(sc_p[0, 0]) ** 2 + sp.Abs(sc_m[0, 0]) ** 2
    d.check("(C7)", "0 < E < h: |s^(+)_00|^2 + |s^(-)_00|^2 = 1 (flux kept in the one open channel)",
            _is_zero(sp.expand_complex(flux) - 1))
    d.step("(C13)-(C14): amplitudes t = K^(-1/2) s K^(1/2), i.e. t_kj = sqrt(k_j/k_k) s_kj (j incoming)")
    t = sp.diag(1 / sp.sqrt(k0), 1 / sp.sqrt(k1)) * s_p * sp.diag(sp.sqrt(k0), sp.sqrt(k1))
    d.compare("(C13)", "(t_00, t_11) = (1/(1+c^2), 1/(1+c^2))", sp.Matrix([t[0, 0], t[1, 1]]),
              sp.Matrix([1, 1]) / (1 + c**2), simplify=_simp)
    amp = -sp.I * c / (1 + c**2)
    d.compare("(C14)", "(t_10, t_01) (t_{out,in}): printed 't_01 = t_10 = sqrt(k_s/k_sbar)(-ic)/(1+c^2)' (read with s = 0); "
              "correction: t_{sbar s} = sqrt(k_s/k_sbar)(-ic)/(1+c^2), so t_10/t_01 = k_0/k_1 != 1 (the flux-normalised "
              "s of (C4) is the symmetric one)",
              sp.Matrix([t[1, 0], t[0, 1]]), sp.Matrix([1, 1]) * sp.sqrt(k0 / k1) * amp,
              correction=sp.Matrix([sp.sqrt(k0 / k1) * amp, sp.sqrt(k1 / k0) * amp]), simplify=_simp)
    return d


def _appc_matrix(S, col1, col0):
    """2x2 matrix in Appendix C order (|1>, |0>) of qubit 1 from a local-basis matrix ``S``.

    ``col1 = (i1, i0)``: local indices (|1 r>, |0 r>) of the pair whose column has s1 = 1;
    ``col0 = (i1, i0)``: the pair whose column has s1 = 0.  Entry [a, b] = <a|M|b> with a, b in (1, 0).
    """
    return sp.Matrix([[S[col1[0], col1[0]], S[col0[0], col0[1]]], [S[col1[1], col1[0]], S[col0[1], col0[1]]]])


@derivation("block_smatrix_eps0", equations=["(C9)", "(C10)", "(C11)", "(C12)", "(C13)", "(C16)", "(C17)", "(C24)",
                                             "(C25)", "(C26)", "(C27)", "(C28)"])
def derive_block(d):
    """N-qubit s-matrix at eps = 0 as a direct sum of one-qubit blocks at shifted energies, (C9)-(C17), (C24)-(C28)."""
    d.step("At eps = 0, K = sqrt(2m(E - H_loc))/hbar is diagonal in the local basis; V = sigma_x^(1) couples only "
           "|0 r> (energy n_r h) and |1 r> (energy (n_r+1) h), so (C1) is a direct sum of one-qubit blocks "
           "at the shifted energy E - n_r h")
    for N in (1, 2, 3):
        ks = sp.symbols(f"k0:{N + 1}", positive=True)
        Kd = [ks[bin(i).count("1")] for i in range(2**N)]
        V = sp.Matrix(sp.kronecker_product(SX, sp.eye(2 ** (N - 1)))) if N > 1 else SX
        blk = block_smatrix_k(N, ks)
        if N <= 2:
            full, _ = smatrix_C1(Kd, V, literal=False)
            d.compare("(C24)", f"N={N}: direct sum of one-qubit blocks = K^(1/2)(K + i lam sigma_x^(1))^-1 K^(1/2) of (C1)",
                      blk, full, simplify=_simp)
        else:
            vals = {k: sp.Rational(7 + 3 * i, 5) ** 2 for i, k in enumerate(ks)}  # sqrt(k) rational
            vals.update({m: sp.Rational(1, 10), g: 50, hbar: 1})
            Kn = sp.diag(*[k.subs(vals) for k in Kd])
            Khn = sp.diag(*[sp.sqrt(k.subs(vals)) for k in Kd])
            full = Khn * (Kn + sp.I * lam.subs(vals) * V).inv() * Khn  # (C1), threshold-safe form, exact
            d.compare("(C24)", f"N={N}: direct sum of one-qubit blocks = (C1) (exact rationals k, m, g, hbar)",
                      blk.subs(vals), full, method="exact rationals")
    # (C9), (C16): thresholds
    S2 = sp.Symbol("S_2", nonnegative=True)  # h sum_{i>=2} s_i = n_r h
    d.compare("(C9)", "N=3: a pair (|0 r>, |1 r>) has both channels open iff E > (largest channel energy) = (n_r + 1) h "
              "= h sum_{i>=2} s_i + h, for every r", sp.Matrix([(n + 1) * h for _, _, n in pairs(3)]),
              sp.Matrix([h * sum(int(b) for b in format(r, "02b")) + h for r in range(4)]))
    lower = sp.solve(sp.Eq(2 * m * (E - S2 * h), 0), E)[0]  # elastic channel |0 r> opens
    upper = sp.solve(sp.Eq(2 * m * (E - S2 * h - h), 0), E)[0]  # inelastic channel |1 r> opens
    d.compare("(C16)", "s1 = 0: thresholds where k = 0 (k of |0 r>, k of |1 r>) = (h sum_{i>=2} s_i, "
              "h sum_{i>=2} s_i + h)", sp.Matrix([lower, upper]), sp.Matrix([S2 * h, S2 * h + h]))
    # (C10)-(C12): incidence from the right as printed, N = 2, all channels open
    kk = sp.symbols("k0:3", positive=True)
    Kd = [kk[bin(i).count("1")] for i in range(4)]
    V2 = sp.Matrix(sp.kronecker_product(SX, sp.eye(2)))
    xx = sp.Symbol("x", real=True)
    s_loc = sp.symbols("s_1 s_2", nonnegative=True, integer=True)
    Hloc2 = sp.diag(*[h * bin(i).count("1") for i in range(4)])
    psi_cols, Epsi_cols = [], []
    for idx in range(4):
        n = bin(idx).count("1")
        kp = sp.sqrt(2 * m * (E - h * n)) / hbar  # printed k_{s_i} of (C10)
        psi = sp.exp(-sp.I * kp * xx) * sp.Matrix([1 if i == idx else 0 for i in range(4)])
        psi_cols.append(-hbar**2 / (2 * m) * psi.diff(xx, 2) + Hloc2 * psi)
        Epsi_cols.append(E * psi)
    d.compare("(C10)", "N=2: e^{-i k_s x}|s> with k_s = sqrt(2m(E - h sum s_i))/hbar solves (p^2/2m + H(0)) psi = E psi",
              sp.Matrix.hstack(*psi_cols), sp.Matrix.hstack(*Epsi_cols), simplify=_simp)
    T_right = sp.Matrix.hstack(*[matching_solution(Kd, V2, j, direction=-1)[0] for j in range(4)])
    T_left = sp.Matrix.hstack(*[matching_solution(Kd, V2, j, direction=+1)[0] for j in range(4)])
    T_print = sp.zeros(4, 4)
    for i0, i1, n in pairs(2):
        for s_in, s_out in ((i0, i1), (i1, i0)):
            ks_, kb = Kd[s_in], Kd[s_out]
            cc = lam / sp.sqrt(ks_ * kb)  # (C15)
            T_print[s_in, s_in] = 1 / (1 + cc**2)  # (C11) with (C13)
            T_print[s_out, s_in] = sp.sqrt(ks_ / kb) * (-sp.I * cc) / (1 + cc**2)  # (C12) with (C14) (right side)
    d.compare("(C11)", "N=2, incidence from the right as printed in (C10): the transmitted waves of the matching "
              "solution are t_{s1 s1}|s1 s2> and t_{sbar1 s1}|sbar1 s2> only, with t of (C13) and the right side of (C14)",
              T_right, T_print, simplify=_simp)
    d.compare("(C12)", "N=2: the same amplitudes for incidence from the left (symcoll's convention; parity of the "
              "delta potential)", T_left, T_right, simplify=_simp)
    # (C13) for an N-qubit pair, (C17) below the upper threshold
    x, y, n = sp.symbols("x y n", positive=True)
    eps_j = n * h
    Eo = eps_j + h + x
    B = one_qubit_block(wave_number(Eo - eps_j), wave_number(Eo - eps_j - h))
    cpair = lam / sp.sqrt(wave_number(Eo - eps_j) * wave_number(Eo - eps_j - h))
    d.compare("(C13)", "pair (|0 r>, |1 r>) at eps_j = n h, E > eps_j + h: (t_00, t_11) = (1/(1+c^2), 1/(1+c^2)), "
              "c of (C15)", sp.Matrix([B[0, 0], B[1, 1]]), sp.Matrix([1, 1]) / (1 + cpair**2), simplify=_simp)
    hc = x + y  # eps_j < E = eps_j + x < eps_j + h
    kel, kin = wave_number(x), wave_number(x - hc)
    Bc = one_qubit_block(kel, kin)
    c2c = lam**2 / (kel * kin)  # (C15) squared, continued: k' = +i kappa
    d.compare("(C17)", "s1 = 0, eps_j < E < eps_j + h: t_00 = 1/(1+c^2) with c^2 = (mg/hbar^2)^2/(k k') of (C15)",
              Bc[0, 0], 1 / (1 + c2c), simplify=_simp)
    d.compare("(C17)", "... and c^2 is imaginary (k' = +i kappa): Re c^2 = 0", sp.re(sp.expand(c2c)), sp.Integer(0))
    # (C24)-(C26): amplitudes t_{out,in} in Appendix C order, column s1 = 0 at eps_j, column s1 = 1 at eps_j
    d.step("Column s1 = 0 of (C24): pair n_r h = eps_j, partner |1 r> at eps_j + h; column s1 = 1: pair n_r h = eps_j - h, "
           "partner |0 r> at eps_j - h; t_kj = sqrt(k_j/k_k) s_kj")

    def amplitudes(E_):
        ke, kup, kdn = wave_number(E_ - eps_j), wave_number(E_ - eps_j - h), wave_number(E_ - eps_j + h)
        b0 = one_qubit_block(ke, kup)  # column s1 = 0: (|0 r>, |1 r>) = (eps_j, eps_j + h)
        b1 = one_qubit_block(kdn, ke)  # column s1 = 1: (|0 r'>, |1 r'>) = (eps_j - h, eps_j)
        t10 = sp.sqrt(ke / kup) * b0[1, 0]
        t01 = sp.sqrt(ke / kdn) * b1[0, 1]
        return sp.Matrix([[b1[1, 1], t10], [t01, b0[0, 0]]]), (b0, b1)

    T, (b0, b1) = amplitudes(Eo)

    def C24(cp, cm, hh):
        return sp.Matrix([[1 / (1 + cp**2), ((Eo - eps_j) / (Eo - eps_j - hh)) ** sp.Rational(1, 4) * (-sp.I * cm) / (1 + cm**2)],
                          [((Eo - eps_j) / (Eo - eps_j + hh)) ** sp.Rational(1, 4) * (-sp.I * cp) / (1 + cp**2), 1 / (1 + cm**2)]])

    cp_h, cm_h = c_pm_E(+1, Eo, eps_j), c_pm_E(-1, Eo, eps_j)
    cp_pr, cm_pr = c_pm_E_printed(+1, Eo, eps_j), c_pm_E_printed(-1, Eo, eps_j)
    d.compare("(C24)", "E > eps_j + h: amplitudes [[t_11, t_10], [t_01, t_00]]; printed with hbar in "
              "((E-eps_j)/(E-eps_j -+ hbar))^(1/4) and in c_pm; correction: h", T, C24(cp_pr, cm_pr, hbar),
              correction=C24(cp_h, cm_h, h), simplify=_simp)
    kin_pr = sp.sqrt(2 * m * (Eo - eps_j) - hbar)
    d.compare("(C24)", "text before (C24): hbar k' of the inelastic channel for s1 = 0, printed sqrt(2m(E-eps_j) - hbar); "
              "correction sqrt(2m(E - eps_j - h))", hbar * wave_number(Eo - eps_j - h), kin_pr,
              correction=sp.sqrt(2 * m * (Eo - eps_j - h)), simplify=_simp)
    d.compare("(C25)", "c_- = i s_10/s_00 of the column s1 = 0 (derived); printed (g/hbar) sqrt(m/2) [(E-eps_j)(E-eps_j-hbar)]^(-1/4); "
              "correction: h for hbar", sp.I * b0[1, 0] / b0[0, 0], cm_pr, correction=cm_h, simplify=_simp)
    d.compare("(C25)", "c_+ = i s_01/s_11 of the column s1 = 1 (derived); printed with + hbar; correction: + h",
              sp.I * b1[0, 1] / b1[1, 1], cp_pr, correction=cp_h, simplify=_simp)
    # (C26): eps_j < E < eps_j + h, h = x + y
    Ew = eps_j + x
    sub_h = {h: x + y}
    Tw, _ = amplitudes(Ew)
    Tw = Tw.subs(sub_h)
    Tw[0, 1] = 0  # the channel |1 r> of column s1 = 0 is closed: no transmitted wave in it
    cpw, cmw = c_pm_E(+1, Ew, eps_j).subs(sub_h), lam / sp.sqrt(wave_number(x) * wave_number(-y))

    def C26(cp, cm, hh):
        return sp.Matrix([[1 / (1 + cp**2), 0],
                          [((Ew - eps_j) / (Ew - eps_j + hh)) ** sp.Rational(1, 4) * (-sp.I * cp) / (1 + cp**2), 1 / (1 + cm**2)]])

    d.compare("(C26)", "eps_j < E < eps_j + h: amplitudes (column s1 = 0 has only the elastic wave, c_-^2 imaginary); "
              "printed with hbar in ((E-eps_j)/(E-eps_j+hbar))^(1/4) and in c_+; correction: h",
              Tw, C26(c_pm_E_printed(+1, Ew, eps_j).subs(sub_h), cmw, hbar).subs(sub_h),
              correction=C26(cpw, cmw, h).subs(sub_h), simplify=_simp)
    # (C27), (C28): the package's block_smatrix_eps0 (Piecewise open/closed masks), N = 2, eps_j = h (band 1)
    d.step("(C27)-(C28) from symcoll's block_smatrix_eps0(2) (the open/closed masks of the kernels), band 1: "
           "column s1 = 1 is |10> (pair |00>,|10>), column s1 = 0 is |01> (pair |01>,|11>)")
    S2p = block_smatrix_eps0(2, +1)
    S2m = block_smatrix_eps0(2, -1)
    col1, col0 = (2, 0), (3, 1)

    def C27(cp, cm, upper_open=True):
        return sp.Matrix([[1 / (1 + cp**2), (-sp.I * cm / (1 + cm**2)) if upper_open else 0],
                          [-sp.I * cp / (1 + cp**2), 1 / (1 + cm**2)]])

    E27 = 2 * h + x
    M27p = _appc_matrix(S2p.subs(E, E27), col1, col0)
    M27m = _appc_matrix(S2m.subs(E, E27), col1, col0)
    P27 = C27(c_pm_E(+1, E27, h), c_pm_E(-1, E27, h))
    d.compare("(C27)", "E > eps_j + h: s^(+) = <k|[[1/(1+c_+^2), -ic_-/(1+c_-^2)], [-ic_+/(1+c_+^2), 1/(1+c_-^2)]] (x) I|j>, "
              "c_pm of (C25) with h", M27p, P27, simplify=_simp)
    d.compare("(C27)", "E > eps_j + h: s^(-) = s^(+) - delta_kj", M27m, P27 - sp.eye(2), simplify=_simp)
    E28 = h + x
    M28p = _appc_matrix(S2p.subs(E, E28).subs(sub_h), col1, col0)
    M28m = _appc_matrix(S2m.subs(E, E28).subs(sub_h), col1, col0)
    P28 = C27(c_pm_E(+1, E28, h), c_pm_E(-1, E28, h), upper_open=False).subs(sub_h)
    d.compare("(C28)", "eps_j < E < eps_j + h: s^(+) = <k|[[1/(1+c_+^2), 0], [-ic_+/(1+c_+^2), 1/(1+c_-^2)]] (x) I|j>, "
              "c_-^2 of (C25) continued (principal branch, imaginary)", M28p, P28, simplify=_simp)
    d.compare("(C28)", "eps_j < E < eps_j + h: s^(-) = s^(+) - delta_kj on the open channels", M28m,
              P28 - sp.diag(1, 1), simplify=_simp)
    d.step("(C29) is printed empty (an equation number with no content); (C27)-(C28) cover every E > eps_j")
    return d


@derivation("momentum_form_C32", equations=["(C30)", "(C31)", "(C32)", "(C33)", "(40)", "(55)", "(59)", "(62)"])
def derive_momentum(d):
    """c_pm(p) of (C32) from (C25) at E = p^2/2m + eps_j; thresholds sqrt(2 m h); mu_eff (40) normalised."""
    w = sp.Symbol("w", positive=True)
    d.step("E - eps_j = E_p = p^2/2m; c_+ for every p > 0; c_- above threshold: h = (p^2 - w^2)/2m, below: h = (p^2 + w^2)/2m")
    Ep = p**2 / (2 * m)
    d.compare("(C32)", "c_+(p) = c_+ of (C25) (with h) at E - eps_j = p^2/2m; printed (g m/hbar)[p sqrt(p^2 + 2m hbar)]^(-1/2); "
              "correction: 2mh", c_pm_E(+1, Ep, 0), c_pm_p_printed(+1), correction=c_pm_p(+1), simplify=_simp)
    above = {h: (p**2 - w**2) / (2 * m)}
    d.compare("(C32)", "p > sqrt(2mh): c_-(p) = c_- of (C25) at E - eps_j = p^2/2m; printed 'p^2 - 2m hbar'; correction: 2mh",
              c_pm_E(-1, Ep, 0).subs(above), c_pm_p_printed(-1), correction=c_pm_p(-1).subs(above), simplify=_simp)
    below = {h: (p**2 + w**2) / (2 * m)}
    kk = wave_number(Ep) * wave_number(Ep - h.subs(below))
    d.compare("(C31)", "p < sqrt(2mh): c_-(p)^2 of the corrected (C32) (evanescent branch) = lam^2/(k k') of (C15), "
              "purely imaginary as in (C8)", lam**2 / kk, (c_pm_p(-1) ** 2).subs(below), simplify=_simp)
    d.check("(C31)", "p < sqrt(2mh): Re c_-(p)^2 = 0", sp.re(sp.expand((c_pm_p(-1) ** 2).subs(below))) == 0)
    # (C30): the s-matrix entries as functions of p (column s1 = 0: c_-; column s1 = 1: c_+ at eps_j -> eps_j + h)
    Bp = one_qubit_block(wave_number(Ep), wave_number(Ep - h)).subs(above)
    cm_p = c_pm_p(-1).subs(above)
    d.compare("(C30)", "E_p > h: column s1 = 0 of (C30), (1/(1+c_-(p)^2), -ic_-(p)/(1+c_-(p)^2)), from (C1)",
              sp.Matrix([Bp[0, 0], Bp[1, 0]]), sp.Matrix([1, -sp.I * cm_p]) / (1 + cm_p**2), simplify=_simp)
    pth = sp.solve(sp.Eq(p**2 / (2 * m), h), p)[0]
    d.step(f"the up-transition channel (Delta = +h) opens at E_p = h, i.e. p = {pth}")
    for eq in ("(55)", "(59)", "(62)", "(C33)"):
        d.compare(eq, "lower limit of the p-integral (range) = threshold p with E_p = h; printed sqrt(2m hbar); correction sqrt(2mh)",
                  pth, sp.sqrt(2 * m * hbar), correction=sp.sqrt(2 * m * h))
    norm = sp.integrate(beta * p / m * sp.exp(-beta * p**2 / (2 * m)), (p, 0, sp.oo))
    d.check("(40)", "mu_eff(p) = (beta p/m) exp(-beta p^2/2m) is normalised on p > 0", sp.simplify(norm - 1) == 0, 0)
    return d


@derivation("flux_unitarity_symmetry", equations=["(C1)", "(C2)", "(C27)", "(C28)", "(42)"])
def derive_unitarity(d):
    """Flux unitarity sum_{k open, alpha} |s^(alpha)_kj|^2 = 1 and symmetry s_kj = s_jk, proven symbolically."""
    d.step("With M = K^{-1/2} V K^{-1/2} (real symmetric for open channels): s^(+) = (I + i lam M)^{-1}, "
           "s^(-) = -i lam M (I + i lam M)^{-1}; s+^dag s+ + s-^dag s- = (I - i lam M)^{-1}(I + lam^2 M^2)(I + i lam M)^{-1} = I")
    d.step("Closed channels (K_c = i kappa_c) eliminate to an effective real symmetric V_eff = V_oo - lam V_oc "
           "(kappa + lam V_cc)^{-1} V_co on the open block, so the open block has the same structure")
    # all channels open, any d (shown for a generic real symmetric 3x3 M): A = I + i lam M, A^dag A = I + lam^2 M^2
    Ms = {}
    M = sp.Matrix(3, 3, lambda a, b: Ms.setdefault((min(a, b), max(a, b)), sp.Symbol(f"M{min(a, b)}{max(a, b)}", real=True)))
    A = sp.eye(3) + sp.I * lam * M
    d.check("(C2)", "all open: A^dag A = I + (lam M)^T (lam M) for A = I + i lam M, M real symmetric, hence "
            "s+^dag s+ + s-^dag s- = A^-dag (I + lam^2 M^2) A^-1 = I",
            (A.H * A - sp.eye(3) - (lam * M).T * (lam * M)).expand().is_zero_matrix, 0)
    d.check("(C1)", "M = K^(-1/2) V K^(-1/2) symmetric => s^(+) = (I + i lam M)^-1 symmetric (inverse of a symmetric matrix)",
            (_inv(A) - _inv(A).T).expand().is_zero_matrix, 0)
    for dim, n_open in ((2, 1), (3, 2), (3, 1)):  # all open: proven for any d above
        ko = sp.symbols(f"k0:{n_open}", positive=True)
        kc = sp.symbols(f"kappa{n_open}:{dim}", positive=True)
        vs = {}
        V = sp.Matrix(dim, dim, lambda a, b: vs.setdefault((min(a, b), max(a, b)), sp.Symbol(f"v{min(a, b)}{max(a, b)}", real=True)))
        exact = dim == 2
        if not exact:  # 3 channels with closed ones: exact rational values (symbolic simplification is slow)
            vals = {s_: sp.Rational(3 + 2 * i, 7) * (-1) ** i for i, s_ in enumerate(list(ko) + list(kc) + list(vs.values()))}
            vals.update({k_: abs(vals[k_]) for k_ in list(ko) + list(kc)})
            vals.update({m: sp.Rational(1, 10), g: 50, hbar: 1})
            ko = [vals[k_] for k_ in ko]
            kc = [vals[k_] for k_ in kc]
            V = V.subs(vals)
        ks = list(ko) + [sp.I * kap for kap in kc]
        s_p, s_m = smatrix_C1(ks, V, literal=False)
        So, Ro = s_p[:n_open, :n_open], s_m[:n_open, :n_open]
        U = So.H * So + Ro.H * Ro - sp.eye(n_open)
        if exact:
            ok_u = _zero_matrix(U.applyfunc(sp.expand_complex))
            ok_s = _zero_matrix(s_p - s_p.T)
            res, meth = 0, "symbolic"
        else:
            res = max(abs(complex(sp.N(e.subs(vals), 50))) for e in list(U) + list(s_p - s_p.T))
            ok_u = ok_s = res < 1e-40
            meth = "exact rationals, 50 digits"
        d.check("(C1)", f"d={dim}, {n_open} open, {dim - n_open} closed: s^(+) = s^(+)^T for real symmetric V", ok_s, res, meth)
        d.check("(C2)", f"d={dim}, {n_open} open, {dim - n_open} closed: open block s+^dag s+ + s-^dag s- = I", ok_u, res, meth)
    for N in (1, 2, 3):
        ks = band_wave_numbers(N)
        S = block_smatrix_k(N, ks)
        d.check("(C27)", f"N={N}: block s-matrix (C24)-(C28) is symmetric, s_kj = s_jk", (S - S.T).is_zero_matrix, 0)
        for q in range(N + 1):  # bands 0..q open
            kp = sp.symbols(f"q0:{N + 1}", positive=True)
            sub = {ks[n]: (kp[n] if n <= q else sp.I * kp[n]) for n in range(N + 1)}
            Sq = S.subs(sub)
            op = [i for i in range(2**N) if bin(i).count("1") <= q]
            So = Sq.extract(op, op)
            Ro = So - sp.eye(len(op))
            U = (So.H * So + Ro.H * Ro - sp.eye(len(op))).applyfunc(sp.expand_complex)
            d.check("(C28)", f"N={N}, bands 0..{q} open ({q}h <= E < {q + 1}h): flux unitarity on "
                    f"the {len(op)} open channels", _zero_matrix(U), 0)
    d.step("In the eigenbasis of H(eps -> 0), s = U^T s_loc U with U real orthogonal and band-diagonal: "
           "symmetry and unitarity carry over (open sets are unions of bands)")
    return d


@derivation("local_map_labels", equations=["(50)", "(51)", "(53)", "(60)"])
def derive_local_labels(d):
    """Bookkeeping of (50)-(51): ladder factor 1/2, the a_0/a_1 labels against (60) and (C27), Delta_{j'j}."""
    a0, a1, ap, am = sp.symbols("a_0 a_1 a_+ a_-")
    sig_p = SX_APPC + sp.I * SY_APPC  # paper's sigma_+ = sigma_x + i sigma_y (after (64)), order (|1>, |0>)
    sig_m = SX_APPC - sp.I * SY_APPC
    d.step("In Appendix C order (|1>,|0>) the paper's sigma_+ = sigma_x + i sigma_y = 2|1><0| is the upper-right "
           "entry 2, so (50), with a_+ at the upper right, is written in that order")
    d.compare("(51)", "sigma_+ = sigma_x + i sigma_y in Appendix C order = 2|1><0|", sig_p, sp.Matrix([[0, 2], [0, 0]]))
    M50 = sp.Matrix([[a0, ap], [am, a1]])
    xp, xm = sp.symbols("x_+ x_-")
    sol = sp.solve(list(M50 - (sp.diag(a0, a1) + xp * sig_p + xm * sig_m)), [xp, xm], dict=True)[0]
    derived51 = sp.diag(a0, a1) + sol[xp] * sig_p + sol[xm] * sig_m
    printed51 = sp.diag(a0, a1) + ap * sig_p + am * sig_m
    d.compare("(51)", "(50) written as diag(a_0, a_1) + x_+ sigma_+ + x_- sigma_- (solved: x_pm = a_pm/2); printed "
              "(51) has x_pm = a_pm (the factor 1/2 is missing)", derived51, printed51,
              correction=sp.diag(a0, a1) + ap / 2 * sig_p + am / 2 * sig_m)
    coef = sp.simplify(sol[xp] * sp.conjugate(sol[xp]) / (ap * sp.conjugate(ap)))
    d.compare("(53)", "prefactor of a_+ <j'|sigma_+|j> [a_+ <k'|sigma_+|k>]^* in the map, |x_+/a_+|^2 (derived) = the "
              "printed 1/4 of (53)", coef, sp.Rational(1, 4))
    # which diagonal entry belongs to s1 = 1?
    x = sp.Symbol("x", positive=True)
    ks = band_wave_numbers(2)
    S = block_smatrix_k(2)
    Eo = 2 * h + x  # band 1 (n = 1), all channels open
    subs = {ks[0]: wave_number(Eo), ks[1]: wave_number(Eo - h), ks[2]: wave_number(Eo - 2 * h)}
    el_1, el_0 = S[2, 2].subs(subs), S[1, 1].subs(subs)  # <10|s|10> (s1 = 1), <01|s|01> (s1 = 0)
    # (50)'s labels in terms of (C27): (50) and (C27) have the same layout, so a_0 = upper left = 1/(1+c_+^2)
    labels = {a0: 1 / (1 + c_pm_E(+1, Eo, h) ** 2), a1: 1 / (1 + c_pm_E(-1, Eo, h) ** 2)}
    d.compare("(60)", "diagonal amplitudes (s1 = 1, s1 = 0) of a local state with n = 1 excitation (derived from (C1)); "
              "printed (60): (a_1, a_0) with a_0, a_1 the entries of (50) (same layout as (C27): a_0 = 1/(1+c_+^2)); "
              "correction: labels swapped, (a_0, a_1)", sp.Matrix([el_1, el_0]), sp.Matrix([a1, a0]).subs(labels),
              correction=sp.Matrix([a0, a1]).subs(labels), simplify=_simp)
    # text after (51): Delta_{j'j'} vs Delta_{j'j}
    from .chain import h_loc

    Hl = h_loc(2)
    j, jp = 1, 3  # |01> (band 1) -> |11> (band 2): an up-transition
    delta = Hl[jp, jp] - Hl[j, j]
    d.compare("(51)", "text after (51): energy change of an up-transition, Delta_{j'j} = eps_j' - eps_j (derived from "
              "H_loc: h); printed 'Delta_{j'j'} = h', i.e. eps_j' - eps_j' = 0; correction Delta_{j'j}",
              delta, Hl[jp, jp] - Hl[jp, jp], correction=h)
    return d


# the derivations of (C18)-(C23) and (65) live in their own module; importing it registers them
from . import amplitudes as _amplitudes  # noqa: E402,F401
