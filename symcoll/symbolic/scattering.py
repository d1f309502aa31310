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


def matching_solution(ks, V, j):
    """Amplitudes of the scattering state entering in channel ``j`` (derivation of (C1)-(C2)).

    ``psi(x<0) = e^{i k_j x}|j> + sum_k r_k e^{-i k_k x}|k>``,
    ``psi(x>0) = sum_k t_k e^{i k_k x}|k>``; matching at the delta potential:
    continuity ``psi(0-) = psi(0+)`` and the jump
    ``psi'(0+) - psi'(0-) = (2 m g/hbar^2) V psi(0)``.

    Returns
    -------
    t, r : sympy.Matrix (column vectors)
    """
    d = len(ks)
    t = sp.Matrix(sp.symbols(f"t0:{d}"))
    r = sp.Matrix(sp.symbols(f"r0:{d}"))
    e = sp.Matrix([1 if i == j else 0 for i in range(d)])
    K = sp.diag(*ks)
    eqs = list(e + r - t)  # continuity
    dpsi_plus = sp.I * K * t
    dpsi_minus = sp.I * K * e - sp.I * K * r
    eqs += list(dpsi_plus - dpsi_minus - 2 * m * g / hbar**2 * V * t)
    A, b = sp.linear_eq_to_matrix(eqs, list(t) + list(r))
    x = A.LUsolve(b)
    return x[:d, :], x[d:, :]


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
def _is_zero(expr):
    """Exact zero test: cancel rational functions first, fall back to ``simplify``."""
    e = sp.cancel(sp.together(expr))
    if e == 0:
        return True
    return sp.simplify(e) == 0


def _zero_matrix(M):
    return all(_is_zero(x) for x in M)


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
        if dim == 3:  # symbolic k's, exact rational V (generic V makes the simplification slow)
            V = V.subs({v: sp.Rational(2 * i - 3, 5) for i, v in enumerate(vs.values())})
        s_lit, sm_lit = smatrix_C1(ks, V, literal=True)
        s_alt, _ = smatrix_C1(ks, V, literal=False)
        K = sp.diag(*ks)
        Kmh = sp.diag(*[1 / sp.sqrt(k) for k in ks])
        Kh = sp.diag(*[sp.sqrt(k) for k in ks])
        Mmat = K + sp.I * lam * V
        for j in range(dim):
            t, r = matching_solution(ks, V, j)
            col_p = sp.Matrix([sp.sqrt(ks[k] / ks[j]) * t[k] for k in range(dim)])
            col_m = sp.Matrix([sp.sqrt(ks[k] / ks[j]) * r[k] for k in range(dim)])
            ej = sp.Matrix([1 if i == j else 0 for i in range(dim)])
            if dim == 2:
                ok_p = _zero_matrix(col_p - s_lit[:, j])
                how = "entrywise"
            else:
                # s = K^(1/2) M^(-1) K^(1/2) with M = K + i lam V invertible  <=>  M K^(-1/2) s e_j = K^(1/2) e_j
                ok_p = _zero_matrix(Mmat * Kmh * col_p - Kh * ej) and not _is_zero(Mmat.det(method="berkowitz"))
                how = "via M K^(-1/2) s_j = K^(1/2) e_j, det M != 0"
            ok_m = _zero_matrix(col_m - col_p + ej)
            d.check("(C1)", f"d={dim}, {'generic' if dim == 2 else 'rational'} symmetric V, incoming channel {j}: sqrt(k_k/k_j) t_k = s^(+)_kj ({how})", ok_p, 0)
            d.check("(C2)", f"d={dim}, incoming channel {j}: sqrt(k_k/k_j) r_k = s^(+)_kj - delta_kj", ok_m, 0)
        d.check(
            "(C1)",
            f"d={dim}: K^(1/2)[I + i lam K^-1 V]^-1 K^(-1/2) = K^(1/2)(K + i lam V)^-1 K^(1/2)",
            _zero_matrix(s_lit - s_alt),
            0,
        )
    x = sp.Symbol("x", positive=True)
    k_open, k_closed = wave_number(x), wave_number(-x)
    d.check(
        "(C2)",
        "K_j = sqrt(2m(E - eps_j))/hbar is real (propagating, open) iff E >= eps_j; the text after (C2) "
        "prints 'eps_j > E' for open channels",
        k_open.is_positive and (k_closed / sp.I).is_positive,
        0,
    )
    return d


@derivation("one_qubit_smatrix", equations=["(C3)", "(C4)", "(C5)", "(C6)", "(C7)", "(C8)", "(C13)", "(C14)", "(C15)"])
def derive_one_qubit(d):
    """One-qubit closed forms (C3)-(C8) from (C1), including the evanescent branch below threshold."""
    x, y, z = sp.symbols("x y z", positive=True)
    # open: E = h + x
    Eo = h + x
    k0, k1 = wave_number(Eo), wave_number(Eo - h)
    K_appc = sp.diag(k1, k0)  # (|1>, |0>)
    d.check("(C3)", "K = sqrt(2m)/hbar diag(sqrt(E-h), sqrt(E)) in Appendix C order (|1>,|0>)",
            _zero_matrix(K_appc - sp.sqrt(2 * m) / hbar * sp.diag(sp.sqrt(Eo - h), sp.sqrt(Eo))), 0)
    s_p, s_m = smatrix_C1([k0, k1], SX, literal=True)
    c = c_one_qubit(Eo)
    C4 = 1 / (1 + c**2) * sp.Matrix([[1, -sp.I * c], [-sp.I * c, 1]])
    C5 = -c / (1 + c**2) * sp.Matrix([[c, sp.I], [sp.I, c]])
    d.check("(C4)", "E > h: s^(+) from (C1) equals (1/(1+c^2))[[1, -ic], [-ic, 1]] with c of (C6)", _zero_matrix(s_p - C4), 0)
    d.check("(C5)", "E > h: s^(-) = s^(+) - I equals (-c/(1+c^2))[[c, i], [i, c]]", _zero_matrix(s_m - C5), 0)
    d.check("(C4)", "one_qubit_block(k0, k1) (threshold-safe form) equals (C1)", _zero_matrix(one_qubit_block(k0, k1) - s_p), 0)
    d.check("(C6)", "c of (C6) equals lam/sqrt(k0 k1) = m g/(hbar^2 sqrt(k k')) of (C15): consistent",
            _is_zero(c - lam / sp.sqrt(k0 * k1)), 0)
    # closed: 0 < E = z < h = z + y
    Ec, hc = z, z + y
    k0c, k1c = wave_number(Ec), wave_number(Ec - hc)
    d.check("(C7)", "0 < E < h: channel |1> is closed, K_1 = +i sqrt(2m(h-E))/hbar (evanescent branch)",
            sp.simplify(k1c - sp.I * sp.sqrt(2 * m * y) / hbar) == 0, 0)
    sc_p, sc_m = smatrix_C1([k0c, k1c], SX, literal=False)
    c2 = c2_closed_one_qubit(Ec, hc)
    d.check("(C7)", "s^(+)_00 = 1/(1+c^2) and s^(-)_00 = -c^2/(1+c^2) with c^2 of (C8)",
            _is_zero(sc_p[0, 0] - 1 / (1 + c2)) and _is_zero(sc_m[0, 0] + c2 / (1 + c2)), 0)
    d.check("(C8)", "c^2 of (C8) = lam^2/(k0 K_1) (analytic continuation of (C6), branch +i): purely imaginary",
            _is_zero(c2 - lam**2 / (k0c * k1c)) and sp.re(sp.expand(c2)) == 0, 0)
    flux = sp.Abs(sc_p[0, 0]) ** 2 + sp.Abs(sc_m[0, 0]) ** 2
    d.check("(C7)", "0 < E < h: |s^(+)_00|^2 + |s^(-)_00|^2 = 1 (flux kept in the one open channel)",
            _is_zero(sp.expand_complex(flux) - 1), 0)
    # (C13)-(C15): amplitudes t = K^{-1/2} s K^{1/2}
    t = sp.diag(1 / sp.sqrt(k0), 1 / sp.sqrt(k1)) * s_p * sp.diag(sp.sqrt(k0), sp.sqrt(k1))
    d.check("(C13)", "t_00 = t_11 = 1/(1+c^2)", _is_zero(t[0, 0] - 1 / (1 + c**2)) and _is_zero(t[1, 1] - t[0, 0]), 0)
    ratio = sp.simplify(t[1, 0] / t[0, 1])
    d.check("(C14)", f"t_10/t_01 = k_0/k_1 = {ratio} != 1: the printed 't_01 = t_10' fails; the s-matrix (C4) is symmetric",
            _is_zero(ratio - k0 / k1) and not _is_zero(ratio - 1), ratio)
    t_pr = sp.sqrt(k0 / k1) * (-sp.I * c) / (1 + c**2)
    d.check("(C14)", "t_10 (0 -> 1) = sqrt(k_{s}/k_{sbar}) (-ic)/(1+c^2) with s = 0 as printed", _is_zero(t[1, 0] - t_pr), 0)
    return d


@derivation("block_smatrix_eps0", equations=["(C9)", "(C13)", "(C16)", "(C24)", "(C25)", "(C26)", "(C27)", "(C28)", "(C29)"])
def derive_block(d):
    """N-qubit s-matrix at eps = 0 as a direct sum of one-qubit blocks at shifted energies, (C24)-(C28)."""
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
            ok = _zero_matrix(full - blk)
            meth = "symbolic"
        else:
            full, _ = smatrix_C1(Kd, V, literal=False)
            vals = {k: sp.Rational(7 + 3 * i, 5) for i, k in enumerate(ks)}
            vals.update({m: sp.Rational(1, 10), g: 50, hbar: 1})
            res = max(abs(complex(sp.N((full[a, b] - blk[a, b]).subs(vals), 50))) for a in range(8) for b in range(8))
            ok, meth = res < 1e-45, "exact rationals, 50 digits"
        d.check("(C24)", f"N={N}: K^(1/2)(K + i lam sigma_x^(1))^-1 K^(1/2) = direct sum of one-qubit blocks", ok, 0, meth)
    # (C25)/(C27): entries in Appendix C order with c_pm (h, not hbar)
    x, y, n = sp.symbols("x y n", positive=True)
    eps_j = n * h
    # column with s1 = 0 at eps_j: partner |1 r> at eps_j + h; all open: E = eps_j + h + x
    Eo = eps_j + h + x
    B = one_qubit_block(wave_number(Eo - eps_j), wave_number(Eo - eps_j - h))
    cm = c_pm_E(-1, Eo, eps_j)
    cp_ = c_pm_E(+1, Eo, eps_j + h)  # column with s1 = 1 sits at eps_j + h
    d.check("(C27)", "E > eps_j + h: <0r|s|0r> = 1/(1+c_-^2), <1r|s|0r> = -i c_-/(1+c_-^2) (column eps_j, s1=0)",
            _is_zero(B[0, 0] - 1 / (1 + cm**2)) and _is_zero(B[1, 0] + sp.I * cm / (1 + cm**2)), 0)
    d.check("(C27)", "<1r|s|1r> = 1/(1+c_+^2), <0r|s|1r> = -i c_+/(1+c_+^2) with eps_j -> eps_j + h (column s1=1)",
            _is_zero(B[1, 1] - 1 / (1 + cp_**2)) and _is_zero(B[0, 1] + sp.I * cp_ / (1 + cp_**2)), 0)
    d.check("(C13)", "elastic amplitudes of the pair coincide: s_00 = s_11 (same c for both columns)",
            _is_zero(B[0, 0] - B[1, 1]), 0)
    # (C28): eps_j < E < eps_j + h, s1 = 0 column: only the elastic channel open
    hc = x + y
    Bc = one_qubit_block(wave_number(x), wave_number(x - hc))
    cmc2 = lam**2 / (wave_number(x) * wave_number(-y))
    d.check("(C28)", "eps_j < E < eps_j + h: <0r|s|0r> = 1/(1+c_-^2), c_-^2 = lam^2/(k k') imaginary (k' = +i kappa)",
            _is_zero(Bc[0, 0] - 1 / (1 + cmc2)) and sp.re(sp.expand(cmc2)) == 0, 0)
    # printed (C25) with hbar instead of h
    vals = {h: 4, hbar: 1, m: sp.Rational(1, 10), g: 50, x: sp.Rational(3, 2), n: 1}
    wrong = g / hbar * sp.sqrt(m / 2) / ((Eo - eps_j) * (Eo - eps_j - hbar)) ** sp.Rational(1, 4)
    res_wrong = abs(complex(sp.N((1 / (1 + wrong**2) - B[0, 0]).subs(vals), 30)))
    res_right = abs(complex(sp.N((1 / (1 + cm**2) - B[0, 0]).subs(vals), 30)))
    d.check("(C25)", f"printed 'E - eps_j pm hbar' gives a different s_00 (residual {res_wrong:.3e} at h=4, hbar=1); "
            "'E - eps_j pm h' is the derived form", res_wrong > 1e-3 and res_right < 1e-25, res_wrong,
            "exact rationals, 30 digits")
    kk = wave_number(Eo - eps_j - h)
    d.check("(C24)", "inelastic wave number for s1 = 0 is sqrt(2m(E - eps_j - h))/hbar (printed sqrt(2m(E-eps_j) - hbar))",
            _is_zero(kk - sp.sqrt(2 * m * (Eo - eps_j - h)) / hbar), 0)
    d.check("(C16)", "for s1 = 0, the upper channel opens at E = eps_j + h (K real iff E >= eps_j + h)",
            wave_number(x).is_positive and (wave_number(-y) / sp.I).is_positive, 0)
    d.check("(C29)", "(C29) is printed empty; (C27)-(C28) already cover E > eps_j (nothing to check)", True, None,
            "text")
    return d


@derivation("momentum_form_C32", equations=["(C30)", "(C31)", "(C32)", "(40)", "(55)", "(59)", "(62)"])
def derive_momentum(d):
    """c_pm(p) of (C32) from (C25) at E = p^2/2m + eps_j; thresholds sqrt(2 m h); mu_eff (40) normalised."""
    w = sp.Symbol("w", positive=True)
    # c_+: all p > 0; set E - eps_j = p^2/2m
    Ep = p**2 / (2 * m)
    cp = c_pm_E(+1, Ep, 0)
    d.check("(C32)", "c_+(p) = (g m/hbar)[p sqrt(p^2 + 2mh)]^{-1/2} equals c_+ of (C25) at E = E_p + eps_j",
            _is_zero(cp - c_pm_p(+1)), 0)
    # c_-: p > sqrt(2mh): h = (p^2 - w^2)/(2m)
    sub = {h: (p**2 - w**2) / (2 * m)}
    cm = c_pm_E(-1, Ep, 0).subs(sub)
    d.check("(C32)", "c_-(p) = (g m/hbar)[p sqrt(p^2 - 2mh)]^{-1/2} equals c_- of (C25) for p > sqrt(2mh)",
            _is_zero(cm - c_pm_p(-1).subs(sub)), 0)
    # below threshold: c_-^2 imaginary, equals lam^2/(k k')
    sub2 = {h: (p**2 + w**2) / (2 * m)}
    cm2 = (c_pm_p(-1) ** 2).subs(sub2)
    kk = wave_number(Ep) * wave_number(Ep - h.subs(sub2))
    d.check("(C31)", "p < sqrt(2mh): c_-(p)^2 (evanescent branch) = lam^2/(k k') is purely imaginary, as (C8)",
            _is_zero(cm2 - lam**2 / kk) and sp.re(sp.expand(cm2)) == 0, 0)
    # printed with hbar
    vals = {h: 4, hbar: 1, m: sp.Rational(1, 10), g: 50, p: 3}
    wrong = g * m / hbar / sp.sqrt(p * sp.sqrt(p**2 + 2 * m * hbar))
    res = abs(complex(sp.N((wrong - c_pm_p(+1)).subs(vals), 30)))
    d.check("(C32)", f"printed 'p^2 pm 2 m hbar' differs from the derived 'p^2 pm 2 m h' (residual {res:.3e} at h=4, hbar=1)",
            res > 1e-3, res, "exact rationals, 30 digits")
    pth = sp.solve(sp.Eq(p**2 / (2 * m), h), p)
    d.check("(55)", f"the up-transition channel (Delta = +h) opens at E_p = h, i.e. p = {pth[0]}: lower limit sqrt(2mh) "
            "of (55), (59), (62) and (C33) (printed sqrt(2m hbar))", pth == [sp.sqrt(2 * m * h)], 0)
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
    for dim, n_open in ((2, 2), (2, 1), (3, 2), (3, 1)):
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


@derivation("local_map_labels", equations=["(50)", "(51)", "(53)", "(57)", "(60)"])
def derive_local_labels(d):
    """Bookkeeping of (50)-(51): ladder factor 1/2 and the a_0/a_1 labels against (60) and (C27)."""
    a0, a1, ap, am = sp.symbols("a_0 a_1 a_+ a_-")
    sig_p = SX_APPC + sp.I * SY_APPC  # paper's sigma_+ = sigma_x + i sigma_y, order (|1>, |0>)
    sig_m = SX_APPC - sp.I * SY_APPC
    d.check("(51)", "in Appendix C order (|1>,|0>), sigma_+ = sigma_x + i sigma_y = 2|1><0| (upper right, raising)",
            sig_p == sp.Matrix([[0, 2], [0, 0]]), 0)
    M50 = sp.Matrix([[a0, ap], [am, a1]])
    printed51 = sp.diag(a0, a1) + ap * sig_p + am * sig_m
    fixed51 = sp.diag(a0, a1) + ap / 2 * sig_p + am / 2 * sig_m
    d.check("(51)", "(50) = diag + (a_+/2) sigma_+ + (a_-/2) sigma_-: the printed (51) lacks the factor 1/2",
            (M50 - fixed51).is_zero_matrix and not (M50 - printed51).is_zero_matrix, 0)
    d.check("(53)", "with the factor 1/2, |a_+/2|^2 gives the 1/4 of (53) and the 1/2 of (58)-(59): consistent",
            sp.simplify((ap / 2) * sp.conjugate(ap / 2) - ap * sp.conjugate(ap) / 4) == 0, 0)
    # which diagonal entry belongs to s1 = 1?  (C27) top-left (|1>,|1>) = 1/(1+c_+^2) = elastic amplitude of s1 = 1
    x = sp.Symbol("x", positive=True)
    S = block_smatrix_k(2)
    ks = band_wave_numbers(2)
    # local basis N=2: |0 0> = 0, |1 0> = 2: pair r=0, n_r = 0; element <1 0|s|1 0>
    elastic_1 = S[2, 2]
    Eo = h + x
    cp_ = c_pm_E(+1, Eo, h)
    val = elastic_1.subs({ks[0]: wave_number(Eo), ks[1]: wave_number(Eo - h)})
    d.check("(60)", "<1 r|s|1 r> = 1/(1+c_+^2) is the s1 = 1 amplitude; in (50)'s order (|1>,|0>) it is the upper-left "
            "entry, labelled a_0, whereas (60) attaches a_1 to delta_{s1,1}: labels swapped",
            _is_zero(val - 1 / (1 + cp_**2)) and M50[0, 0] == a0, 0)
    d.check("(51)", "text after (51): Delta_{j'j'} = eps_j' - eps_j' = 0 identically, Delta_{j'j} = pm h is meant",
            sp.Symbol("e") - sp.Symbol("e") == 0, 0, "text")
    return d

