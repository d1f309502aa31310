"""Steady state, spectral gap and exact-in-time propagation of the generator (71), sector by sector.

The sectors come from :mod:`symcoll.dynamics.sectors` (exact invariant subspaces of L).

Propagation of one sector (``x`` its part of ``vec rho(0)``):

``dense`` (sector size ``<= DENSE_SECTOR_MAX``)
    float64 ``L_s = V diag(lambda) V^{-1}`` (LAPACK ``geev``) and ``sum_i c_i exp(lambda_i t) v_i``
    with the stationary eigenvalue snapped to 0, rounding estimate as for the dense ``"eig"``
    propagator (:func:`~symcoll.dynamics.propagate.eig_rounding_estimate`); if ``cond(V) >
    COND_V_MAX``: ``expm(L_s t)`` per time of ``x - x_ss`` (scaling and squaring).
``slow-modes`` (larger sectors)
    ``x - x_ss`` is propagated by chained Taylor steps (``scipy.sparse.linalg.expm_multiply``,
    Al-Mohy and Higham) only until its part *outside* the ``k`` slowest eigenvectors (shift-invert
    Arnoldi at 0) is below ``switch_tol``; from there on ``y(t) = V exp(Lambda (t - t_s)) c``.
    Why this is controlled at t = 1e5: the exact semigroup ``exp(L s)`` of a CPTP map is a
    contraction in trace norm for all ``s >= 0`` (also on non-Hermitian operators, diamond norm 1),
    so the dropped remainder ``r = y(t_s) - V c`` contributes at most ``||r||_1 <= sqrt(d) ||r||_2``
    at **every** later time, and an eigenpair residual ``e_i = L v_i - lambda_i v_i`` at most
    ``|c_i| ||e_i||_1 min(s, 1/|Re lambda_i|)`` (Duhamel).  The Taylor phase costs ``~ ||L_s|| t_s``
    matrix-vector products with ``t_s`` the time the fast modes need to decay, not ``||L|| t_max``.
    Errors made in the Taylor phase are not amplified later (the same contraction).

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

__all__ = ["DENSE_SECTOR_MAX", "SLOW_MODES", "propagate_sector", "sector_steady_state", "sector_gap"]

DENSE_SECTOR_MAX = 1200
"""Sectors up to this size are diagonalised densely (complex ``geev``: ~1 s at 1200 on one core)."""

SLOW_MODES = 60
"""Number of slowest eigenpairs (shift-invert Arnoldi at 0) of a large sector's slow-mode expansion."""

MAX_TAYLOR_NORM_T = 2e6
"""Largest ``||L_s||_1 t`` of the chained Taylor phase of a large sector before the slow-mode
expansion must have taken over (ValueError with the number otherwise)."""


def _lu(A):
    return spla.splu(sps.csc_array(A), permc_spec="COLAMD")


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


# ------------------------------------------------------------------ gap
def _dense_eigvals(Ls):
    return np.linalg.eigvals(Ls.toarray())


def sector_gap(Ls, k=SLOW_MODES, im_range=None, zero_tol=None):
    """Eigenvalues of a sector relevant to the gap: all of them (dense) or those found by
    shift-invert Arnoldi at shifts ``i omega`` marching along the imaginary axis.

    For a large sector the shifts start at ``omega = im_range[0]``; at each shift the ``k``
    eigenvalues nearest ``i omega`` (radius ``R``) cover the segment of the strip
    ``-g <= Re <= 0`` (g the smallest nonzero ``|Re lambda|`` found so far) of half-width
    ``sqrt(R^2 - g^2)``; the next shift is placed at the end of that segment, until ``im_range[1]``.
    ``im_range`` must contain every ``Im lambda`` (the caller proves it from the numerical range).
    Whether ARPACK found *all* eigenvalues inside each disc is not proven: the gap is an estimate.

    Returns ``(lam, residuals, shifts)``: eigenvalues found, their residual norms
    ``||L v - lambda v||_2`` (unit v; 0 for dense) and the number of shifts used.
    """
    n = Ls.shape[0]
    if n <= DENSE_SECTOR_MAX:
        return _dense_eigvals(Ls), None, 0
    lo, hi = im_range
    lam_all, res_all = [], []
    omega, shifts, g = lo, 0, math.inf
    while True:
        sig = 1j * omega
        kk = min(k, n - 2)
        lam, V = spla.eigs(Ls, k=kk, sigma=sig, which="LM", tol=1e-12,
                           OPinv=_ShiftInvert(Ls, sig))
        res = np.linalg.norm(Ls @ V - V * lam[None, :], axis=0) / np.linalg.norm(V, axis=0)
        lam_all.append(lam)
        res_all.append(res)
        shifts += 1
        nz = np.abs(lam) > (zero_tol or 0.0)
        if np.any(nz):
            g = min(g, float(np.min(-lam[nz].real)))
        R = float(np.max(np.abs(lam - sig)))
        half = math.sqrt(max(R * R - min(g, R) ** 2, 0.0))
        if omega + half >= hi:
            break
        omega = omega + max(half, 1e-3 * R)
    return np.concatenate(lam_all), np.concatenate(res_all), shifts


class _ShiftInvert(spla.LinearOperator):
    """``(L - sigma I)^{-1}`` by one sparse LU (SuperLU, COLAMD)."""

    def __init__(self, L, sigma):
        n = L.shape[0]
        super().__init__(dtype=complex, shape=(n, n))
        self.lu = _lu(L - sigma * sps.eye_array(n, format="csc"))

    def _matvec(self, x):
        return self.lu.solve(np.asarray(x, dtype=complex).ravel())


# ------------------------------------------------------------------ propagation
def propagate_sector(Ls, x, xss, times, d, method="auto", k=SLOW_MODES, switch_tol=1e-14):
    """``exp(L_s t) x`` for the sector matrix ``Ls`` (sparse), ``x`` its part of ``vec rho(0)``.

    ``xss``: the sector's part of the stationary state (zeros outside the population sector).
    Returns ``(vecs (T, n), rounding (T,), info)``; see the module doc for the methods.
    """
    n = Ls.shape[0]
    if n <= DENSE_SECTOR_MAX:
        return _propagate_dense(Ls.toarray(), x, xss, times, method)
    return _propagate_slow_modes(Ls, x, xss, times, d, k, switch_tol)


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


def _propagate_slow_modes(Ls, x, xss, times, d, k, switch_tol):
    u = FLOAT64_EPS
    n = Ls.shape[0]
    T = np.asarray(times, dtype=float)
    order = np.argsort(T)
    y = x - xss
    out = np.zeros((len(T), n), dtype=complex)
    rnd = np.zeros(len(T))
    normL1 = float(sps.linalg.norm(Ls, 1))
    lam, V = spla.eigs(Ls, k=min(k, n - 2), sigma=0.0, which="LM", tol=1e-13, OPinv=_ShiftInvert(Ls, 0.0))
    V = V / np.linalg.norm(V, axis=0)
    resid = np.linalg.norm(Ls @ V - V * lam[None, :], axis=0)
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
                ycur = spla.expm_multiply(Ls * dt, ycur, traceA=complex(Ls.diagonal().sum() * dt))
                # backward error ~ u per Taylor step (Al-Mohy & Higham), ~ ||L||_1 dt steps; 2-norm -> trace norm
                chain_err += sq * u * (normL1 * dt + 1.0) * 4 * np.linalg.norm(ycur)
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
            "taylor_norm_t": taylor_norm_t, "max_eig_residual": float(resid.max()) if len(resid) else 0.0}
    return out, rnd, info
