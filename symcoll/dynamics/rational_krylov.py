"""Exact-in-time propagation of a large sector of (71) on a rational Krylov space, with an a-posteriori
Duhamel error estimate (issue 16: the local map at small ``eps``, N >= 7).

Why not the slow modes there: at ``eps = 1e-3`` every operator on the qubits the bath does not touch
relaxes at rates ``~ eps^2``; the population sector of N = 8 (12870) has ~ C(14, 7) = 3432 such modes,
far more than an Arnoldi run on ``exp(L tau)`` can resolve (they are clustered within ``1e-5`` of each
other), so :func:`~symcoll.dynamics.sector_solve._propagate_slow_modes` never switches and its Taylor
phase must run to ``||L||_1 t ~ 1e11``.

The method (``y = x - x_ss``, the part of ``vec rho(0)`` that decays):

1. **fast phase**: ``y(t) = exp(L_s t) y`` by the sector's exponential operator (Chebyshev with the
   numerical-range rectangle, else Taylor) up to ``t_1`` with ``||L_s - mu||_1 t_1 = FAST_NORM_T``;
2. **basis**: an orthonormal ``V`` (n x m) of the rational Krylov space of ``y(t_1)`` with poles
   ``1/gamma_j``, ``gamma_j = t_1 10^(POLE_DECADES j)`` up to the last time (sparse LU of
   ``I - gamma_j L_s`` each; vectors added ``BLOCK`` per pole and pass, twice Gram-Schmidt);
3. **Galerkin**: ``S = V^H L_s V`` (from ``L_s V``, computed by sparse products, not from the LU), and
   ``y_m(t) = V exp(S (t - t_1)) V^H y(t_1)``; passes continue until the estimate below is under
   ``tol ||y||`` at every time or ``m`` reaches ``max_basis``.

**Error (proof of the statement; its evaluation is an estimate).**  ``y_m' = V S u`` and
``L_s y_m = L_s V u`` (``u = exp(S s) u_0``), so ``e = y - y_m`` solves ``e' = L_s e + delta`` with
``e(t_1) = 0`` (``y(t_1) = V u_0``: it is the first basis vector) and the defect
``delta(s) = (I - V V^H) L_s V u(s) = W u(s)``.  Duhamel: ``e(t) = int exp(L_s (t - s)) delta(s) ds``.
The sector is an invariant subspace of the full generator, whose semigroup is a trace-norm contraction
(CPTP, also on non-Hermitian operators), so ``||e(t)||_1 <= int_{t_1}^t ||delta(s)||_1 ds <=
sqrt(d) int ||delta(s)||_2 ds`` -- whatever the basis, its LU errors or the poles (the identity
``L y_m - y_m' = (L V - V S) u`` holds for any ``V`` and ``S``; orthonormality only makes it small): in
exact arithmetic and with the exact integral a bad basis shows up as a large number, not as a silent error.  ``||delta(s)||_2 = ||R u(s)||_2`` with ``W = Q R``.  The
integral is evaluated on a log grid of ``QUAD_PER_DECADE`` points per decade by the larger of the two
end values on each interval (an **estimate**: the integrand is not enclosed between the grid points);
``u(s)`` comes from the float64 eigendecomposition of ``S`` (rounding estimate as for the dense ``"eig"``
propagator: eigenvalue errors ``kappa_i u ||S||`` growing with ``s`` until the mode decays, plus
``m u cond(X) |c|``), and ``L V``, ``L V - V S`` are float products (``~ 2 k u ||L||_1 int ||u||``).
The fast phase's error carries over unamplified (the same contraction).
"""
from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from .propagate import eig_rounding_estimate
from .tolerances import FLOAT64_EPS

__all__ = ["FAST_NORM_T", "POLE_DECADES", "BLOCK", "MAX_BASIS", "rational_krylov_propagate", "rational_ritz",
           "reporting"]

FAST_NORM_T = 2e3
"""``||L_s||_1 t_1`` of the fast (polynomial) phase: the fast modes have decayed by then."""
POLE_DECADES = 2.0
"""Spacing of the poles ``1/gamma_j`` in decades of time."""
BLOCK = 40
"""Basis vectors added per pole and pass."""
MAX_BASIS = 4000
"""Largest basis (the N = 8 population sector at ``eps = 1e-3`` needs ~ 1e3)."""
QUAD_PER_DECADE = 40
"""Grid points per decade of the defect integral."""
LU_CACHE_BYTES = 4 * 2**30
"""Sparse LUs kept between turns up to this many bytes (24 per stored non-zero; the N = 8 population sector:
~0.6 GB per pole, 6 poles to t = 1e10), the others are refactorised at their next turn (~20 s each at N = 8)."""


_REPORT = contextvars.ContextVar("symcoll_rational_krylov_report", default=None)


@contextlib.contextmanager
def reporting(fn):
    """Within the block, each pass of :func:`rational_krylov_propagate` and :func:`rational_ritz` (minutes apiece
    for the N = 8 local sectors at small ``eps``) calls ``fn(line)`` with the sector size, the basis so far and how
    far the pass is from stopping (``symcoll scaling`` passes its progress output).  A context variable: other
    threads and contexts are not affected."""
    token = _REPORT.set(fn)
    try:
        yield
    finally:
        _REPORT.reset(token)


def _report(text):
    fn = _REPORT.get()
    if fn is not None:
        fn(text)


def _orthonormalise(V, m, w):
    """``w`` orthogonalised against ``V[:, :m]`` (twice, classical Gram-Schmidt), normalised; None if it is
    (numerically) in their span."""
    nw0 = np.linalg.norm(w)
    Vm = V[:, :m]
    for _ in range(2):
        w = w - Vm @ (w.conj() @ Vm).conj()  # V^H w without copying conj(V)
    nw = np.linalg.norm(w)
    return None if nw <= 1e-12 * nw0 else w / nw


def _galerkin(V, LV, m, u0):
    """``(lam, X, c, R, kappa, ||S||_F, cond)``: ``S = V^H L V = X diag(lam) X^-1`` (unit columns), ``c = X^-1 u0``,
    ``R`` of ``L V - V S = Q R`` (no copy of ``W`` kept), ``kappa_i = ||row i of X^-1||``."""
    Vm, LVm = V[:, :m], LV[:, :m]
    S = Vm.conj().T @ LVm
    W = LVm - Vm @ S
    R = sla.qr(W, mode="r", overwrite_a=True, check_finite=False)[0]
    lam, X = np.linalg.eig(S)
    Xinv = np.linalg.inv(X)
    cond = float(np.linalg.norm(X) * np.linalg.norm(Xinv))  # Frobenius product >= cond_2, no extra SVD
    return lam, X, Xinv @ u0, R, np.linalg.norm(Xinv, axis=1), float(np.linalg.norm(S)), cond


def _defect_integral(lam, X, c, R, s_out):
    """``(int_0^s ||R X e^{lam r} c|| dr, int_0^s ||X e^{lam r} c|| dr)`` at every ``s`` of ``s_out`` (sorted,
    >= 0), by the larger end value on each interval of a log grid (estimates of the integrals)."""
    s_max = float(s_out[-1]) if len(s_out) else 0.0
    if s_max <= 0:
        return np.zeros(len(s_out)), np.zeros(len(s_out))
    lo = max(s_max * 1e-14, 1e-6 * min(1.0, s_max))
    decades = math.log10(s_max / lo)
    grid = np.unique(np.concatenate([[0.0], np.logspace(math.log10(lo), math.log10(s_max),
                                                        int(decades * QUAD_PER_DECADE) + 2), s_out]))
    RX = R @ X
    vals = np.empty(len(grid))
    unorm = np.empty(len(grid))
    for i0 in range(0, len(grid), 256):
        E = np.exp(np.outer(grid[i0:i0 + 256], lam)) * c[None, :]
        vals[i0:i0 + 256] = np.linalg.norm(E @ RX.T, axis=1)
        unorm[i0:i0 + 256] = np.linalg.norm(E @ X.T, axis=1)
    at = np.searchsorted(grid, s_out)

    def cum(f):
        return np.concatenate([[0.0], np.cumsum(np.maximum(f[1:], f[:-1]) * np.diff(grid))])[at]

    return cum(vals), cum(unorm)


class _RationalBasis:
    """Orthonormal ``V`` (n x m, Fortran order) of a rational Krylov space of ``v0`` and ``A V``.

    One sequence per pole ``1/gamma_j``: its next vector is ``(I - gamma_j A)^-1`` applied to its last one,
    orthogonalised against all of ``V``.  A sequence whose new vector lies in ``span V`` (relative norm
    ``<= 1e-12`` after orthogonalisation) is finished.  Sparse LUs are kept while their fill stays within
    :data:`LU_CACHE_BYTES`, else refactorised at the next pass."""

    def __init__(self, A, v0, max_basis):
        self.A = sps.csc_array(A)
        n = self.A.shape[0]
        self.mb = min(max_basis, n)
        self.V = np.empty((n, self.mb), dtype=complex, order="F")
        self.AV = np.empty((n, self.mb), dtype=complex, order="F")
        self.V[:, 0] = v0 / np.linalg.norm(v0)
        self.AV[:, 0] = self.A @ self.V[:, 0]
        self.m, self.poles, self.last, self.live, self._lu = 1, [], {}, set(), {}
        self.fill, self.passes, self._cached = 0, 0, 0
        self._eye = sps.identity(n, format="csc", dtype=complex)

    def set_poles(self, gammas):
        for g in gammas:
            if g not in self.poles:
                self.poles.append(g)
                j = len(self.poles) - 1
                self.last[j] = 0  # each pole's sequence starts from the first basis vector
                self.live.add(j)

    def _factor(self, j):
        if j in self._lu:
            return self._lu[j]
        lu = spla.splu((self._eye - self.poles[j] * self.A).tocsc(), permc_spec="COLAMD")
        nnz = lu.L.nnz + lu.U.nnz
        self.fill = max(self.fill, nnz)
        if self._cached + nnz * 24 <= LU_CACHE_BYTES:
            self._lu[j], self._cached = lu, self._cached + nnz * 24
        return lu

    def grow(self, count):
        """Add up to ``count`` vectors in turns of ``BLOCK`` per live pole, each orthogonalised against all of
        ``V`` (twice, matrix-vector products) before the pole's next solve; a pole whose new vector lies in
        ``span V`` (relative norm ``<= 1e-12``) is finished.  Returns how many were added.  (Two variants
        that orthogonalise a block of vectors at once by matrix products were measured at N = 7,
        eps = 1e-3 and needed the whole 3432-dimensional sector instead of 1351 vectors.)"""
        self.passes += 1
        m0 = self.m
        target = min(self.mb, self.m + count)
        while self.m < target and self.live:
            for j in sorted(self.live):
                if self.m >= target:
                    break
                lu = self._factor(j)
                col = self.last[j]
                for _ in range(BLOCK):
                    if self.m >= target:
                        break
                    w = _orthonormalise(self.V, self.m, lu.solve(self.V[:, col]))
                    if w is None:
                        self.live.discard(j)
                        break
                    self.V[:, self.m], self.AV[:, self.m] = w, self.A @ w
                    col, self.m = self.m, self.m + 1
                self.last[j] = col
        return self.m - m0

    @property
    def full(self):
        return self.m >= self.mb or not self.live


def _poles(g0, t_max):
    """``gamma_j = g0 10^(POLE_DECADES j)`` up to ``t_max``."""
    t_max = max(t_max, g0)
    return [g0 * 10 ** (POLE_DECADES * j) for j in range(int(math.ceil(math.log10(t_max / g0) / POLE_DECADES)) + 1)]


def rational_krylov_propagate(Ls, y1, s_out, d, tol, max_basis=MAX_BASIS, t_scale=None, memory_check=None):
    """``exp(L_s s) y1`` at the times ``s_out`` (>= 0, sorted) on a rational Krylov space of ``y1``.

    ``t_scale``: the smallest pole ``gamma_0`` (default ``1 / ||L_s||_1``).  ``memory_check(what, nbytes)``
    is called before the basis is allocated.  The basis grows by ``max(BLOCK * poles, m / 2)`` vectors per
    pass until the defect estimate is below ``tol ||y1||_2`` at every time (``tol_reached``), the basis is
    full, or no pole adds a vector; the rounding estimate is added to it but does not shrink with ``m``.
    Returns ``(Y (T, n), err (T,), info)`` with ``err`` the trace-norm error estimate of the module
    docstring (defect integral plus the rounding estimate).
    """
    n = Ls.shape[0]
    T = np.asarray(s_out, dtype=float)
    if T.ndim != 1 or not np.all(np.isfinite(T)) or np.any(T < 0) or np.any(np.diff(T) < 0):
        raise ValueError(f"s_out must be a 1-d array of finite, non-negative, sorted times (got {s_out!r})")
    beta = float(np.linalg.norm(y1))
    if beta == 0 or len(T) == 0:
        return np.zeros((len(T), n), dtype=complex), np.zeros(len(T)), {"method": "rational-krylov", "basis": 0}
    Lc = sps.csr_array(Ls)
    norm1 = float(sps.linalg.norm(Lc, 1))
    kmax = int(np.diff(Lc.indptr).max(initial=1))
    sq = math.sqrt(d)
    g0 = t_scale if t_scale else 1.0 / max(norm1, 1e-300)
    mb = min(max_basis, n)
    if memory_check is not None:  # the basis, plus one sparse LU by the sectors' fill heuristic (the cache is capped)
        from .sectors import estimate_sector_bytes

        lu_bytes = estimate_sector_bytes(n, Lc.nnz)
        memory_check(f"rational Krylov propagation of a sector of {n} ({mb} basis vectors: V, L V, the defect W and "
                     "V X; and a sparse LU)", 4 * 16 * n * mb + lu_bytes)
    B = _RationalBasis(Lc, y1, max_basis)
    B.set_poles(_poles(g0, float(T[-1])))
    while True:
        B.grow(max(BLOCK * len(B.poles), B.m // 2))
        m = B.m
        u0 = np.zeros(m, dtype=complex)
        u0[0] = beta
        lam, X, c, R, kappa, normS, cond_x = _galerkin(B.V, B.AV, m, u0)
        dint, uint = _defect_integral(lam, X, c, R, T)
        defect = sq * dint
        # rounding (estimates, trace norm): eig of S (eigenvalue errors grow with s, as for the dense "eig" path),
        # and the products L V, L V - V S (|dW| <~ 2 k u |L| per column, k non-zeros per row) acting on u(r)
        rounding = sq * (eig_rounding_estimate(lam, c, kappa, cond_x, normS, T, beta, FLOAT64_EPS, None)
                         + 2 * kmax * FLOAT64_EPS * norm1 * uint + 4 * m * FLOAT64_EPS * beta)
        err = defect + rounding
        reached = float(defect.max()) <= tol * beta  # the truncation; rounding does not shrink with m
        _report(f"rational Krylov propagation, sector of {n}: pass {B.passes}, basis {m} of at most {mb}, defect "
                f"estimate {float(defect.max()):.2e} (stops below {tol * beta:.2e})")
        if reached or B.full:
            break
    Y = (np.exp(np.outer(T, lam)) * c[None, :]) @ (B.V[:, :m] @ X).T
    info = {"method": "rational-krylov", "basis": m, "poles": len(B.poles), "passes": B.passes,
            "lu_fill_max": B.fill, "cond_X": cond_x, "max_re_ritz": float(lam.real.max()),
            "defect_max": float(defect.max()), "tol_reached": reached}
    return Y, err, info


def rational_ritz(M, k=6, tol=1e-10, max_basis=MAX_BASIS, t_max=None, seed=16):
    """The ``k`` Ritz pairs of largest real part of ``M`` on a rational Krylov space of a random vector
    (poles as in :func:`rational_krylov_propagate`, from ``1/||M||_1`` to ``t_max``, default
    ``1e3 / |rightmost Ritz real part|`` once known, at most ``1e12``).

    The slowest modes dominate ``exp(M t) v`` at long times, which this space approximates for every t,
    so its rightmost Ritz values converge first even when thousands of eigenvalues lie within ``1e-5``
    of each other (where Arnoldi on ``exp(M tau)`` stalls: the N = 8 local blocks at ``eps = 1e-3``).
    Passes add ``max(BLOCK * poles, m / 2)`` vectors until the ``k`` rightmost Ritz pairs have residuals
    ``||M x - theta x||_2 <= tol ||M||_1`` and the rightmost Ritz value's real part moved by less than its
    residual since the previous pass.  Returns ``(lam, X, residuals, info)``: the first three as
    :func:`~symcoll.dynamics.sector_solve.slow_modes` (unit columns, sorted by decreasing ``Re lambda``;
    residuals computed directly), ``info["converged"]`` False when the basis filled up first.  That no
    eigenvalue of larger real part was missed rests on the convergence of the space: an **estimate**,
    as for ARPACK.
    """
    M = sps.csc_array(M)
    n = M.shape[0]
    k = min(k, n - 1)
    norm1 = float(sps.linalg.norm(M, 1))
    g0 = 1.0 / max(norm1, 1e-300)
    rng = np.random.default_rng(seed)
    B = _RationalBasis(M, rng.normal(size=n) + 1j * rng.normal(size=n), max_basis)
    horizon, prev = t_max or 1e3 * g0, None
    while True:
        B.set_poles(_poles(g0, horizon))
        B.grow(max(BLOCK * len(B.live), B.m // 2))
        m = B.m
        theta, Y = np.linalg.eig(B.V[:, :m].conj().T @ B.AV[:, :m])
        top = np.argsort(-theta.real)[:k]
        X = B.V[:, :m] @ Y[:, top]
        nx = np.linalg.norm(X, axis=0)
        X = X / nx
        res = np.linalg.norm(B.AV[:, :m] @ (Y[:, top] / nx) - X * theta[top][None, :], axis=0)
        lead = complex(theta[top[0]])
        if t_max is None and lead.real < 0:
            horizon = max(horizon, min(1e3 / -lead.real, 1e12))
        # the real part only: near-degenerate Ritz values with different Im may swap order between passes
        steady = prev is not None and abs(lead.real - prev) <= max(float(res[0]), tol * norm1)
        # the whole space: the Ritz values are the eigenvalues of M (to the rounding of eig)
        converged = (steady and float(res.max()) <= tol * norm1) or m == n
        _report(f"rational Krylov Ritz values, block of {n}: pass {B.passes}, basis {m} of at most {B.mb}, largest "
                f"residual {float(res.max()):.2e} (stops below {tol * norm1:.2e} once the rightmost value settles)")
        if converged or B.full:
            return theta[top], X, res, {"basis": m, "poles": len(B.poles), "passes": B.passes, "horizon": horizon,
                                        "converged": bool(converged)}
        prev = lead.real
