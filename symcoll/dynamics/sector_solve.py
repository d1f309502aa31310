"""Steady state, spectral gap and exact-in-time propagation of the generator (71), sector by sector.

The sectors come from :mod:`symcoll.dynamics.sectors` (exact invariant subspaces of L).

Propagation of one sector (``x`` its part of ``vec rho(0)``):

``dense`` (sector size ``<= DENSE_SECTOR_MAX``)
    float64 ``L_s = V diag(lambda) V^{-1}`` (LAPACK ``geev``) and ``sum_i c_i exp(lambda_i t) v_i``
    with the stationary eigenvalue snapped to 0, rounding estimate as for the dense ``"eig"``
    propagator (:func:`~symcoll.dynamics.propagate.eig_rounding_estimate`); if ``cond(V) >
    COND_V_MAX``: ``expm(L_s t)`` per time of ``x - x_ss`` (scaling and squaring).
``rational-krylov`` (larger sectors, the default: :data:`LARGE_SECTOR_METHOD`)
    a fast phase by the sector's exponential operator to ``||L_s||_1 t_1 = 2e3``, then a Galerkin
    approximation on a rational Krylov space with poles from ``t_1`` to the last time, grown until its
    Duhamel defect estimate (trace-norm contraction of the semigroup, as below) is under
    :data:`RATIONAL_TOL`: :mod:`~symcoll.dynamics.rational_krylov`.  Needed at small ``eps``, where
    thousands of modes are slow and the slow-mode expansion below never takes over.
``slow-modes`` (larger sectors, ``LARGE_SECTOR_METHOD = "slow-modes"``)
    ``x - x_ss`` is propagated by chained Taylor steps (``scipy.sparse.linalg.expm_multiply``,
    Al-Mohy and Higham) only until its part *outside* the ``k`` slowest eigenvectors (largest
    ``Re lambda``, Arnoldi on ``exp(L tau)``: :func:`slow_modes`) is below ``switch_tol``; from there on ``y(t) = V exp(Lambda (t - t_s)) c``.
    Why this is controlled at t = 1e5: the exact semigroup ``exp(L s)`` of a CPTP map is a
    contraction in trace norm for all ``s >= 0`` (also on non-Hermitian operators, diamond norm 1),
    so the dropped remainder ``r = y(t_s) - V c`` contributes at most ``||r||_1 <= sqrt(d) ||r||_2``
    at **every** later time, and an eigenpair residual ``e_i = L v_i - lambda_i v_i`` at most
    ``|c_i| ||e_i||_1 min(s, 1/|Re lambda_i|)`` (Duhamel).  The Taylor phase costs ``~ ||L_s|| t_s``
    matrix-vector products with ``t_s`` the time the fast modes need to decay, not ``||L|| t_max``.
    Errors made in the Taylor phase are not amplified later (the same contraction).
    For the local map, whose sectors come with a rectangle containing their numerical range,
    ``exp(L_s t) x`` is applied by the Chebyshev (Jacobi-Anger) expansion :class:`ChebExp` (truncation
    bound by Crouzeix-Palencia, ~4x fewer sparse products than Taylor), both in the Arnoldi filter and
    in the Taylor phase.

All errors here are **estimates** (float64 eigen-decompositions, ARPACK and SuperLU are not
enclosed); the propagation structure (contraction, Duhamel) is proven, see
README_derivations.md, "Sector structure of the generators (issue 16)".
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from .propagate import eig_rounding_estimate
from .tolerances import FLOAT64_EPS, DynamicsTolerances

__all__ = ["DENSE_SECTOR_MAX", "SLOW_MODES", "SlowModesBudgetExceeded", "propagate_sector", "sector_steady_state", "sector_gap", "slow_modes",
           "steady_from_slow_modes"]

DENSE_SECTOR_MAX = 1200
"""Sectors up to this size are diagonalised densely (complex ``geev``: ~1 s at 1200 on one core)."""

SLOW_MODES = 60
"""Number of slowest eigenpairs (Arnoldi on ``exp(L_s tau)``, :func:`slow_modes`) of a large sector's
slow-mode expansion."""

LARGE_SECTOR_METHOD = "auto"
"""Propagation of sectors above :data:`DENSE_SECTOR_MAX`: ``"slow-modes"`` (the k slowest eigenpairs; fast when
few modes are slow: N = 8 local, eps = 0.1: 34 s Arnoldi + 6 s), ``"rational-krylov"``
(:mod:`~symcoll.dynamics.rational_krylov`; needed when thousands of modes are slow, eps = 1e-3, but slower at
eps = 0.1: > 10 min at N = 8), or ``"auto"``: slow modes within :data:`AUTO_SLOW_MODE_PRODUCTS` sparse products
whose propagation estimate stays below :data:`AUTO_ESTIMATE_MAX`, else rational Krylov."""

AUTO_SLOW_MODE_PRODUCTS = 2e5
"""Sparse products the ``"auto"`` method grants the slow-mode Arnoldi run (N = 8, eps = 0.1 needs 6.8e4)."""

AUTO_ESTIMATE_MAX = 1e-8
"""Largest trace-norm error estimate of a slow-mode propagation the ``"auto"`` method accepts."""

RATIONAL_TOL = 1e-10
"""Relative trace-norm error estimate the rational Krylov basis is grown to (``||x - x_ss||_2`` units)."""

MAX_TAYLOR_NORM_T = 2e6
"""Largest ``||L_s||_1 t`` of the chained Taylor phase of a large sector before the slow-mode
expansion must have taken over (ValueError with the number otherwise)."""


def _lu(A):
    return spla.splu(sps.csc_array(A), permc_spec="COLAMD")


class TaylorExp:
    """``exp(A t) x`` by ``s`` truncated-Taylor steps of the shifted ``A - mu I`` (Al-Mohy and Higham,
    SIAM J. Sci. Comput. 33 (2011)): with ``m = 40`` terms at most and ``||(A - mu I) t / s||_1 <=
    theta_40 = 4.7`` (their table for a backward error ``<= 2^-53``), each step is exact to a relative
    backward error of about u (an estimate: ``||.||_1`` is taken exactly from the sparse matrix, no
    norm estimator), with the early stop ``|term| <= u |sum|`` of their code.  Unlike calling
    ``scipy.sparse.linalg.expm_multiply`` repeatedly, the parameters are set up once per matrix.
    """

    M, THETA = 40, 4.7

    def __init__(self, A):
        A = sps.csr_array(A)
        n = A.shape[0]
        self.mu = complex(A.diagonal().sum() / n)
        self.B = (A - self.mu * sps.eye_array(n, format="csr")).tocsr()
        self.norm1 = float(sps.linalg.norm(self.B, 1))
        self.matvecs = 0

    def steps(self, t):
        return max(1, int(math.ceil(self.norm1 * abs(t) / self.THETA)))

    def rounding(self, t, ynorm):
        """Rounding estimate of the last ``self(x, t)``: backward error ~u per step (Al-Mohy & Higham)."""
        return FLOAT64_EPS * (self.steps(t) * 4.0 + 1.0) * ynorm

    def __call__(self, x, t):
        s = self.steps(t)
        h = t / s
        eta = np.exp(self.mu * h)
        F = np.asarray(x, dtype=complex).copy()
        u = FLOAT64_EPS
        for _ in range(s):
            b = F.copy()
            c1 = np.linalg.norm(b, np.inf)
            for j in range(1, self.M + 1):
                b = (h / j) * (self.B @ b)
                self.matvecs += 1
                F = F + b
                c2 = np.linalg.norm(b, np.inf)
                if c1 + c2 <= u * np.linalg.norm(F, np.inf):
                    break
                c1 = c2
            F = eta * F
            b = F
        return F


class ChebExp:
    """``exp(A t) x`` by a Chebyshev (Jacobi-Anger) expansion, for a sector whose numerical range
    ``W(A)`` lies in a known rectangle ``[re_lo, re_hi] x i[im_lo, im_hi]`` (:mod:`sectors`:
    ``W(-i[H, .]) = i [Bohr range]`` plus ``W(Gamma (S - I))`` from the 4 x 4 site map, both exact up to
    the rounding of the energies).  The local generators are dominated by the anti-Hermitian
    commutator: ``W`` is a thin vertical strip, for which the expansion needs ``~ rho t`` products
    (``rho`` = half-height of the strip, enlarged by ``GROW``) instead of the Taylor method's
    ``~ 8.5 ||A||_1 t``.

    With ``mu`` the rectangle's centre and ``Z = -i (A - mu) / rho'`` (``rho' = GROW rho``),
    ``exp(A t) = e^{mu t} exp(i omega Z)``, ``omega = rho' t``, and ``exp(i omega z) = J_0(omega) +
    2 sum_k i^k J_k(omega) T_k(z)`` (Jacobi-Anger).  ``W(Z)`` lies in ``[-1/GROW, 1/GROW] x i[-b, b]``,
    ``b = half-width / rho'``, inside the Bernstein ellipse ``E_r`` (``r = e^xi`` the smallest containing
    the rectangle).  Truncation after ``K`` terms: ``||exp(A t) - p_K(A)||_2 <= (1 + sqrt 2) |e^{mu t}|
    sum_{k > K} 2 |J_k(omega)| r^k`` (Crouzeix-Palencia, ``||f(Z)|| <= (1 + sqrt 2) max_{W(Z)} |f|``,
    and ``|T_k| <= r^k`` on ``E_r``); ``K`` is chosen so that this is ``<= u``-relative to the size
    of ``exp`` on ``W``.  Long times are split into steps with ``omega sinh(xi) <= 8`` (the growth of
    the Chebyshev terms on ``E_r`` relative to ``e^{t re_hi}``, hence the rounding amplification).
    The truncation statement is a bound for exact arithmetic; the float64 recurrence's rounding
    is estimated (``K u`` times the largest term): an estimate.
    """

    GROW = 1.5

    def __init__(self, A, rect):
        from scipy.special import jv

        self._jv = jv
        A = sps.csr_array(A)
        n = A.shape[0]
        re_lo, re_hi, im_lo, im_hi = (float(v) for v in rect)
        self.mu = complex(0.5 * (re_lo + re_hi), 0.5 * (im_lo + im_hi))
        self.rho = self.GROW * max(0.5 * (im_hi - im_lo), 1e-3)
        half_w = 0.5 * (re_hi - re_lo)
        b = half_w / self.rho
        x0 = 1.0 / self.GROW
        lo, hi = 1e-8, 5.0  # smallest xi with x0^2/cosh^2 + b^2/sinh^2 <= 1 (bisection)
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            if (x0 / math.cosh(mid)) ** 2 + (b / math.sinh(mid)) ** 2 <= 1:
                hi = mid
            else:
                lo = mid
        self.xi = hi
        self.re_hi = re_hi
        self.B = ((A - self.mu * sps.eye_array(n, format="csr")) * (-1j / self.rho)).tocsr()
        self.norm1 = float(sps.linalg.norm(A - self.mu * sps.eye_array(n), 1))
        self.matvecs = 0
        self.truncation = 0.0  # truncation bound of the last call (absolute, exact arithmetic)
        self.round_est = 0.0  # rounding estimate of the last call

    def rounding(self, t, ynorm):
        """Error estimate of the last ``self(x, t)``: truncation bound plus ``u K sum_k |c_k| ||T_k x||``."""
        return self.truncation + self.round_est

    def steps(self, t):
        return max(1, int(math.ceil(self.rho * abs(t) * math.sinh(self.xi) / 8.0)))

    def _coeffs(self, omega):
        r = math.exp(self.xi)
        size = math.exp(omega * math.sinh(self.xi))  # max of |exp(i omega z)| on E_r
        kmax = int(omega + 60 + 4 * omega ** (1 / 3)) + 10
        while True:
            k = np.arange(kmax + 1)
            J = self._jv(k, omega)
            terms = 2 * np.abs(J) * np.exp(k * self.xi)
            # beyond kmax: |J_k(omega)| <= (omega/2)^k / k!, so sum_{k > kmax} 2 |J_k| r^k <= 2 q^(kmax+1) /
            # (kmax+1)! / (1 - q/(kmax+2)), q = omega r / 2 (geometric majorant of the ratio of successive terms)
            q = omega * r / 2
            beyond = (2 * math.exp((kmax + 1) * math.log(q) - math.lgamma(kmax + 2)) / (1 - q / (kmax + 2))
                      if 0 < q < kmax + 2 else math.inf)
            tail = np.append(np.cumsum(terms[::-1])[::-1] + beyond, beyond)  # tail[K] = sum_{k >= K}
            ok = np.flatnonzero(tail[1:] <= FLOAT64_EPS * size)  # tail[K + 1] small: keep 0..K
            if ok.size:
                K = int(ok[0])
                break
            kmax *= 2
        c = (2 * (1j ** k[:K + 1]) * J[:K + 1]).astype(complex)
        c[0] = J[0]
        return c, (1 + math.sqrt(2)) * float(tail[K + 1]), r

    def __call__(self, x, t):
        if t == 0:
            return np.asarray(x, dtype=complex).copy()
        s = self.steps(t)
        h = t / s
        c, trunc, _ = self._coeffs(self.rho * h)
        F = np.asarray(x, dtype=complex)
        eta = np.exp(self.mu * h)
        self.truncation = self.round_est = 0.0
        K = len(c)
        for _ in range(s):
            t0 = F
            t1 = self.B @ F
            self.matvecs += 1
            acc = c[0] * t0 + c[1] * t1 if K > 1 else c[0] * t0
            size = abs(c[0]) * float(np.linalg.norm(t0)) + (abs(c[1]) * float(np.linalg.norm(t1)) if K > 1 else 0.0)
            for k in range(2, K):
                t2 = self.B @ t1
                t2 *= 2
                t2 -= t0
                t0, t1 = t1, t2
                self.matvecs += 1
                acc += c[k] * t1
                if k % 8 == 0 or k == K - 1:  # sampled norms (cost): the terms vary slowly in k
                    size += 8 * abs(c[k]) * float(np.linalg.norm(t1))
            self.truncation += trunc * abs(eta) * float(np.linalg.norm(F))
            self.round_est += FLOAT64_EPS * K * abs(eta) * size
            F = eta * acc
        # an error made in an earlier step is propagated by the exact exp(A s): ||exp(A s)||_2 <= e^{s max Re W(A)}
        # (Lumer-Phillips), at most e^{t re_hi} over the call
        # (a rectangle reaching Re > 0 over a long step: the factor is not representable, the estimate is inf,
        # and the propagated vector itself is unaffected -- never an OverflowError that loses a long run)
        g = max(self.re_hi, 0.0) * abs(t)
        amp = math.exp(g) if g < 700.0 else math.inf
        self.truncation *= amp
        self.round_est *= amp
        return F


def exp_operator(A, rect=None):
    """:class:`ChebExp` when the numerical-range rectangle ``rect`` is known, else :class:`TaylorExp`."""
    return TaylorExp(A) if rect is None else ChebExp(A, rect)


# ------------------------------------------------------------------ steady state
def sector_steady_state(Ls, tr_pos, d):
    """Kernel of the population sector ``Ls`` normalised by the trace functional.

    Bordered system: row ``tr_pos[0]`` (the population ``rho_00``) replaced by the trace
    ``sum_j rho_jj`` (``tr_pos`` = positions of the populations in the sector); one sparse LU.

    Returns ``(x, info)`` with ``info``: ``residual`` ``||L_s x||_2``, ``sigma_min`` (estimate of the
    smallest singular value of the bordered matrix by inverse iteration on ``A^H A``, 8 steps),
    ``norm_A`` (Frobenius), ``trace_residual``.
    """
    n = Ls.shape[0]
    A = sps.lil_array(Ls.copy())
    A[[tr_pos[0]], :] = 0
    A = sps.csr_array(A)
    row = sps.csr_array((np.ones(len(tr_pos), dtype=complex), (np.zeros(len(tr_pos), dtype=int), tr_pos)),
                        shape=(1, n))
    A = sps.vstack([A[:tr_pos[0]], row, A[tr_pos[0] + 1:]]).tocsc()
    b = np.zeros(n, dtype=complex)
    b[tr_pos[0]] = 1.0
    lu = _lu(A)
    x = lu.solve(b)
    for _ in range(2):  # iterative refinement (residual in float64: an estimate of what it gains)
        x = x + lu.solve(b - A @ x)
    # smallest singular value of A: inverse iteration on A^H A with the same LU
    rng = np.random.default_rng(0)
    v = rng.normal(size=n) + 1j * rng.normal(size=n)
    v /= np.linalg.norm(v)
    s = math.inf
    for _ in range(8):
        w = lu.solve(lu.solve(v), trans="H")
        nw = np.linalg.norm(w)
        s = 1.0 / math.sqrt(nw)
        v = w / nw
    info = {"residual": float(np.linalg.norm(Ls @ x)), "sigma_min": s,
            "norm_A": float(sps.linalg.norm(A)), "trace_residual": float(abs(x[tr_pos].sum() - 1)),
            "lu_nnz": int(lu.L.nnz + lu.U.nnz)}
    return x, info


def steady_from_slow_modes(Ls, tr_pos, k=SLOW_MODES, modes=None):
    """Stationary vector of a large population sector: the slow mode with ``lambda ~ 0``
    (:func:`slow_modes`), normalised by the trace.  ``info`` as :func:`sector_steady_state`, with
    ``sigma_min`` replaced by the sector's gap among the modes found (``|Re lambda_2|``; the
    residual-to-error conversion ``||dx|| <~ ||L x|| / gap`` is an estimate, exact for normal L)."""
    lam, V, res = slow_modes(Ls, k) if modes is None else modes
    i0 = int(np.argmin(np.abs(lam)))
    x = V[:, i0] / V[tr_pos, i0].sum()
    rest = np.delete(lam, i0)
    g = float(np.min(-rest.real)) if rest.size else math.inf
    info = {"residual": float(np.linalg.norm(Ls @ x)), "sigma_min": g, "norm_A": float(sps.linalg.norm(Ls)),
            "trace_residual": float(abs(x[tr_pos].sum() - 1)), "method": "slow-mode eigenvector",
            "zero_eigenvalue": complex(lam[i0])}
    return x, info


# ------------------------------------------------------------------ gap
def _dense_eigvals(Ls):
    return np.linalg.eigvals(Ls.toarray())


class SlowModesBudgetExceeded(RuntimeError):
    """The Arnoldi run of :func:`slow_modes` used more sparse products than its ``max_products``."""


def slow_modes(Ls, k=None, tau=None, rect=None, ncv=None, tol=1e-13, max_products=None):
    """The ``k`` eigenpairs of largest ``Re lambda`` of a sector, by Arnoldi on ``exp(L_s tau)``.

    ``lambda -> exp(lambda tau)`` maps the slowest modes (largest ``Re lambda``, whatever their
    ``Im lambda``: the gap of the local map is often attained by an oscillating coherence mode)
    onto the eigenvalues of largest modulus, which ARPACK finds first; no factorisation is needed
    (``exp(L_s tau) x`` by ``expm_multiply``, ~``||L_s||_1 tau`` sparse products), which matters because
    the sparse LU of these sectors fills in almost completely (N = 8 local, Delta n = 0: 3e7 non-zeros).
    ``lambda`` is recovered by the Rayleigh quotient ``v^H L v / v^H v`` (``log`` alone leaves
    ``Im lambda`` ambiguous modulo ``2 pi / tau``).  ``tau = 5 / max|Re diag L_s|``.  With ``rect`` (a
    rectangle containing the numerical range, local map) ``exp(L_s tau)`` is applied by the Chebyshev
    expansion :class:`ChebExp` (~5x fewer products than Taylor); the filter's accuracy does not enter
    the results, which are the Rayleigh quotients and their directly computed residuals.

    ``modes``-arguments elsewhere take this triple, so one Arnoldi run per sector serves the steady
    state, the gap and the propagation (:meth:`SectorLindbladian.slow_modes` caches it).

    Returns ``(lam, V, residuals)`` (unit columns, ``residuals = ||L v - lambda v||_2``), sorted by
    decreasing ``Re lambda``.  That no eigenvalue with larger ``Re`` was missed rests on ARPACK's
    convergence: an estimate.
    """
    n = Ls.shape[0]
    k = min(SLOW_MODES if k is None else k, n - 2)
    if tau is None:
        tau = 5.0 / max(float(np.max(-Ls.diagonal().real)), 1e-12)
    ex = exp_operator(Ls, rect)
    def apply(x):
        if max_products is not None and ex.matvecs > max_products:
            raise SlowModesBudgetExceeded(f"slow modes of a sector of {n}: more than {max_products:.3g} sparse "
                                          "products (clustered slow modes)")
        return ex(np.asarray(x).ravel(), tau)

    op = spla.LinearOperator((n, n), matvec=apply, dtype=complex)
    rng = np.random.default_rng(16)  # fixed start vector: reproducible runs
    v0 = rng.normal(size=n) + 1j * rng.normal(size=n)
    mu, V = spla.eigs(op, k=k, which="LM", tol=tol, ncv=min(n - 1, max(2 * k + 1, 40) if ncv is None else ncv), v0=v0)
    V = V / np.linalg.norm(V, axis=0)
    LV = Ls @ V
    lam = np.einsum("ij,ij->j", V.conj(), LV)
    res = np.linalg.norm(LV - V * lam[None, :], axis=0)
    order = np.argsort(-lam.real)
    return lam[order], V[:, order], res[order]


def sector_gap(Ls, k=SLOW_MODES):
    """Eigenvalues of a sector relevant to the gap: all of them (dense, size <= DENSE_SECTOR_MAX) or
    the ``k`` of largest real part (:func:`slow_modes`).  Returns ``(lam, residuals or None, arnoldi)``."""
    if Ls.shape[0] <= DENSE_SECTOR_MAX:
        return _dense_eigvals(Ls), None, False
    lam, _, res = slow_modes(Ls, k)
    return lam, res, True


# ------------------------------------------------------------------ propagation
def propagate_sector(Ls, x, xss, times, d, method="auto", k=SLOW_MODES, switch_tol=1e-12, modes=None, rect=None):
    """``exp(L_s t) x`` for the sector matrix ``Ls`` (sparse), ``x`` its part of ``vec rho(0)``.

    ``xss``: the sector's part of the stationary state (zeros outside the population sector).
    Returns ``(vecs (T, n), rounding (T,), info)``; see the module doc for the methods.
    """
    n = Ls.shape[0]
    if n <= DENSE_SECTOR_MAX:
        return _propagate_dense(Ls.toarray(), x, xss, times, method)
    if LARGE_SECTOR_METHOD == "rational-krylov" or (LARGE_SECTOR_METHOD == "auto" and modes is None):
        return _propagate_rational(Ls, x, xss, times, d, rect)
    if LARGE_SECTOR_METHOD == "slow-modes":
        return _propagate_slow_modes(Ls, x, xss, times, d, k, switch_tol, modes, rect)
    try:
        out, rnd, info = _propagate_slow_modes(Ls, x, xss, times, d, k, switch_tol, modes, rect)
    except ValueError as exc:  # the Taylor phase would exceed MAX_TAYLOR_NORM_T
        why = str(exc)
    else:
        if float(np.max(rnd)) <= AUTO_ESTIMATE_MAX:
            return out, rnd, info
        why = f"slow-mode estimate {float(np.max(rnd)):.2e} > AUTO_ESTIMATE_MAX"
    out, rnd, info = _propagate_rational(Ls, x, xss, times, d, rect)
    info["auto_fallback"] = why
    return out, rnd, info


def _propagate_rational(Ls, x, xss, times, d, rect, tol=RATIONAL_TOL):
    """Fast phase by the sector's exponential operator to ``t_1`` (``||L_s||_1 t_1 <= FAST_NORM_T``), then
    :func:`~symcoll.dynamics.rational_krylov.rational_krylov_propagate` from ``y(t_1)``; errors as there
    (the fast phase's carried over by the trace-norm contraction)."""
    from .rational_krylov import FAST_NORM_T, rational_krylov_propagate
    from .sectors import check_memory

    T = np.asarray(times, dtype=float)
    order = np.argsort(T)
    y = x - xss
    out = np.zeros((len(T), len(x)), dtype=complex)
    rnd = np.zeros(len(T))
    ex = exp_operator(Ls, rect)
    t1 = FAST_NORM_T / max(ex.norm1, 1e-300)
    sq = math.sqrt(d)
    t_prev, ycur, chain_err = 0.0, y.copy(), 0.0
    fast = [i for i in order if T[i] <= t1]
    for i in fast:
        dt = T[i] - t_prev
        if dt > 0:
            ycur = ex(ycur, dt)
            chain_err += sq * ex.rounding(dt, float(np.linalg.norm(ycur)))
            t_prev = T[i]
        out[i], rnd[i] = ycur + xss, chain_err
    slow = [i for i in order if T[i] > t1]
    info = {"method": "rational-krylov", "n": len(x), "fast_phase_end": t_prev, "matvecs": ex.matvecs}
    if slow:
        if t_prev < t1:  # end the fast phase at t1 exactly: the Krylov space starts from y(t1)
            ycur = ex(ycur, t1 - t_prev)
            chain_err += sq * ex.rounding(t1 - t_prev, float(np.linalg.norm(ycur)))
            t_prev = t1
        Y, err, kinfo = rational_krylov_propagate(Ls, ycur, T[slow] - t_prev, d, tol, t_scale=t_prev,
                                                  memory_check=check_memory)
        out[slow] = Y + xss[None, :]
        rnd[slow] = chain_err + err
        info.update(kinfo, fast_phase_end=t_prev, matvecs=ex.matvecs)
    return out, rnd, info


def _propagate_dense(A, x, xss, times, method):
    u = FLOAT64_EPS
    n = A.shape[0]
    normL = float(np.linalg.norm(A))
    lam, V = np.linalg.eig(A)
    V = V / np.linalg.norm(V, axis=0)
    sv = np.linalg.svd(V, compute_uv=False)
    condV = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    info = {"method": "eig", "cond_V": condV, "n": n}
    use_expm = method == "expm" or (method == "auto" and not DynamicsTolerances.eig_is_safe(condV))
    if use_expm:
        y = x - xss
        out = np.stack([sla.expm(A * t) @ y for t in times]) + xss[None, :]
        normL1 = float(np.abs(A).sum(axis=0).max())
        rnd = u * (8 * n * normL1 * np.asarray(times) * np.linalg.norm(y) + 8 * n)
        info["method"] = "expm"
        return out, rnd, info
    Vinv = np.linalg.inv(V)
    c = Vinv @ x
    j0 = None
    if np.any(xss):
        j0 = int(np.argmin(np.abs(lam)))
        kappa0 = float(np.linalg.norm(Vinv[j0]))
        if abs(lam[j0]) <= DynamicsTolerances(u).zero_mode(normL, n, kappa0):
            lam = lam.copy()
            lam[j0] = 0.0
            info["zero_mode_snapped"] = True
    ex = np.exp(np.outer(times, lam))
    out = (ex * c[None, :]) @ V.T
    kappa = np.linalg.norm(Vinv, axis=1)
    rnd = eig_rounding_estimate(lam, c, kappa, condV, normL, times, float(np.linalg.norm(x)), u, j0)
    return out, rnd, info


def _propagate_slow_modes(Ls, x, xss, times, d, k, switch_tol, modes=None, rect=None):
    u = FLOAT64_EPS
    n = Ls.shape[0]
    T = np.asarray(times, dtype=float)
    order = np.argsort(T)
    y = x - xss
    out = np.zeros((len(T), n), dtype=complex)
    rnd = np.zeros(len(T))
    ex = exp_operator(Ls, rect)
    normL1 = ex.norm1
    lam, V, resid = slow_modes(Ls, k, rect=rect) if modes is None else modes
    if np.any(xss):  # the stationary mode is handled by xss: drop the eigenvalue nearest 0
        keep = np.ones(len(lam), dtype=bool)
        keep[int(np.argmin(np.abs(lam)))] = False
        lam, V, resid = lam[keep], V[:, keep], resid[keep]
    Q, Rq = np.linalg.qr(V)
    sq = math.sqrt(d)
    t_prev, ycur, switched, t_s, c = 0.0, y.copy(), False, None, None
    chain_err, taylor_norm_t = 0.0, 0.0
    for i in order:
        t = T[i]
        if not switched:
            dt = t - t_prev
            if dt > 0:
                taylor_norm_t += normL1 * dt
                if taylor_norm_t > MAX_TAYLOR_NORM_T:
                    raise ValueError(
                        f"slow-mode propagation: ||L_s||_1 t = {taylor_norm_t:.3g} in the Taylor phase exceeds "
                        f"MAX_TAYLOR_NORM_T = {MAX_TAYLOR_NORM_T:.3g} before the fast modes decayed below "
                        f"{switch_tol:.1e}; use more slow modes (k > {k})")
                ycur = ex(ycur, dt)
                # backward error ~ u per Taylor step (Al-Mohy & Higham), not amplified later (contraction);
                # 2-norm -> trace norm: sqrt(d)
                chain_err += sq * ex.rounding(dt, float(np.linalg.norm(ycur)))
                t_prev = t
            cq = Q.conj().T @ ycur
            r = ycur - Q @ cq
            rnorm = sq * float(np.linalg.norm(r))
            if rnorm <= switch_tol * max(1.0, float(np.linalg.norm(y))):
                switched, t_s = True, t
                c = sla.solve_triangular(Rq, cq)
                rem = rnorm
            out[i] = ycur + xss
            rnd[i] = chain_err
            continue
        s = t - t_s
        out[i] = V @ (np.exp(lam * s) * c) + xss
        tail = np.where(lam.real < 0, np.minimum(s, 1.0 / np.maximum(-lam.real, 1e-300)), s)
        rnd[i] = chain_err + rem + sq * float(np.sum(np.abs(c) * resid * tail)) + 4 * n * u * float(
            np.sum(np.abs(c)))
    info = {"method": "slow-modes", "n": n, "slow_modes": int(len(lam)), "switch_time": t_s,
            "taylor_norm_t": taylor_norm_t, "exp_method": type(ex).__name__, "matvecs": ex.matvecs,
            "max_eig_residual": float(resid.max()) if len(resid) else 0.0}
    return out, rnd, info
