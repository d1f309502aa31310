"""Structural checks of a collision map: trace, Hermiticity (39), detailed balance (30), sum rule (66), CP."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..errors import NotCompletelyPositiveWarning
from ..model import QubitChain
from ..numeric import get_context

__all__ = ["CP_WARN_FACTOR"]


def map_diagnostics(cm) -> dict:
    """Structural checks, each ``{"value", "meaning"}`` (float64 numbers).

    * ``trace_preservation``: ``max_{jk} |sum_j' S^{jk}_{j'j'} - delta_jk|``;
    * ``hermiticity``: ``max |S^{jk}_{j'k'} - conj(S^{kj}_{k'j'})|`` (Eq. (39));
    * ``detailed_balance``: ``max |S^{jj}_{j'j'} - e^{-beta Delta_{j'j}} S^{j'j'}_{jj}|`` (Eq. (30));
    * ``sum_rule``: ``max |sum_j S^{jj}_{j'k'} e^{-beta eps^(0)_j} - e^{-beta eps^(0)_j'} delta_j'k'|``
      (Eq. (66), chains only; exact for the local map, an O(eps) statement otherwise);
    * ``min_choi_eigenvalue``: smallest eigenvalue of the Choi matrix (< 0: not CP).
    """
    tr, herm, P = cm._population_parts()
    e = get_context(cm.dps).float_array(cm.eigensystem.energies)
    beta = float(cm.bath.beta)
    h0 = cm.kind in ("local", "exact_h0")
    detuned = isinstance(cm.system, QubitChain) and not cm.system.uniform
    # uniform chain: an eigenstate of H(eps) in band n has H(0) energy n h; a detuned chain's
    # eigenstates are not eigenstates of H(0) = H_loc, so (30) is checked with the energies of H(eps)
    # and the H(0) statement by the generalised sum rule below
    e_db = float(cm.system.h) * np.asarray(cm.eigensystem.bands, dtype=float) if h0 and not detuned else e
    db = _detailed_balance_defect(P, beta, e_db)
    out = {
        "trace_preservation": {"value": float(np.max(np.abs(tr))),
                               "meaning": "max_jk |sum_j' S^{jk}_{j'j'} - delta_jk| (0: trace preserving)"},
        "hermiticity": {"value": float(herm),
                        "meaning": "max |S^{jk}_{j'k'} - conj(S^{kj}_{k'j'})|, Eq. (39)"},
        "detailed_balance": {"value": db,
                             "meaning": "max over Delta_{j'j} >= 0 of |S^{jj}_{j'j'} - exp(-beta Delta_{j'j}) "
                                        "S^{j'j'}_{jj}| (upward jumps: no overflow at large beta h), Eq. (30), "
                                        + ("with the H(0) energies eps0 = h * band used in the scattering"
                                           if h0 and not detuned else "with the energies of H")
                                        + (" (detuned chain: the maps built on H(0) violate it at O(beta eps); "
                                           "their exact statement is the sum rule S(e^{-beta H_loc}) = "
                                           "e^{-beta H_loc})" if h0 and detuned else "")},
    }
    if h0 and not detuned:
        out["detailed_balance_eps"] = {
            "value": _detailed_balance_defect(P, beta, e),
            "meaning": "Eq. (30) with the energies of H(eps): violated at O(beta eps) by the maps built "
                       "on H(0) (intra-band populations do not thermalise, Fig. 4)"}
    if detuned:
        out["sum_rule"] = _detuned_sum_rule(cm, beta)
    elif isinstance(cm.system, QubitChain):
        e0 = float(cm.system.h) * np.asarray(cm.eigensystem.bands, dtype=float)
        g = np.exp(-beta * (e0 - e0.min()))
        lhs = cm._sum_rule_lhs(g)
        res = lhs - np.diag(g)
        out["sum_rule"] = {
            "value": float(np.max(np.abs(res))),
            "meaning": "max |sum_j S^{jj}_{j'k'} e^{-beta eps0_j} - e^{-beta eps0_j'} delta_j'k'|, Eq. (66) "
                       "(eps0 = h * band; exact for kind='local', O(eps) or O(sigma_p coherence) otherwise)",
            "applies": cm.kind == "local",
        }
    lam = cm.choi_eigenvalues()
    out["min_choi_eigenvalue"] = {"value": float(lam[0]),
                                  "meaning": "smallest eigenvalue of the Choi matrix; < 0 means not completely positive"
                                             + cm._choi_note}
    out["storage"] = {"value": cm.storage, "meaning": cm._storage_note}
    out["error_estimate"] = {"value": cm.error_estimate,
                             "meaning": "max abs entry error: " + cm.error.describe()}
    return out


def _detuned_sum_rule(cm, beta):
    """Eq. (66) for a detuned chain: ``max |S(G0) - G0|`` with ``G0 = e^{-beta (H_loc - min)}`` in the
    eigenbasis of H(eps) (a full matrix: ``[H_loc, H(eps)] != 0``).

    The local map is ``S_1 (x) id`` in the local basis with ``S_1`` the one-qubit map of the coupled
    site, whose fixed point is that qubit's Gibbs state (detailed balance (42)-(43) of the one-qubit
    map); ``e^{-beta H_loc}`` is the product of the one-qubit Gibbs factors, hence a fixed point.
    """
    es = cm.eigensystem
    ctx = get_context(cm.dps)
    U = ctx.to_complex128(es.vectors)
    e0 = cm.system.local_energies()
    G0 = (U.conj().T * np.exp(-beta * (e0 - e0.min()))) @ U
    lhs = cm.apply(G0)
    lhs = ctx.to_complex128(lhs)
    return {
        "value": float(np.max(np.abs(lhs - G0))),
        "meaning": "max |S(G0) - G0|, G0 = exp(-beta H_loc) (unnormalised, eigenbasis of H(eps)): Eq. (66) "
                   "generalised to a detuned chain (exact for kind='local', O(eps) or O(sigma_p coherence) "
                   "otherwise)",
        "applies": cm.kind == "local",
    }


def _detailed_balance_defect(P, beta, e):
    """``max |P[j', j] - exp(-beta Delta_{j'j}) P[j, j']|`` over the pairs with ``Delta_{j'j} >= 0`` (Eq. (30)).

    ``P[j', j] = S^{jj}_{j'j'}``.  Each unordered pair is tested once, in the upward direction,
    where the Boltzmann factor is <= 1: the downward form is the same statement multiplied by
    ``exp(beta |Delta|)``, which overflows (inf * 0 = NaN) at large ``beta h``.
    """
    delta = np.asarray(e, dtype=float)[:, None] - np.asarray(e, dtype=float)[None, :]
    up = delta >= 0
    factor = np.exp(-beta * np.where(up, delta, 0.0))
    defect = np.abs(P - factor * P.T)
    return float(np.max(defect[up])) if np.any(up) else 0.0


CP_WARN_FACTOR = 100.0
"""An exact map warns (:class:`NotCompletelyPositiveWarning`) when its smallest Choi eigenvalue
is below ``-CP_WARN_FACTOR`` times the numerical noise level of that eigenvalue."""


CP_DENSE_MAX_DIM = 1024
"""Choi dimension ``D = d^2`` up to which :func:`_check_complete_positivity` runs a dense ``eigh``
(d <= 32, N <= 5: under a second); above it the Cholesky-bracketed Lanczos of
:func:`choi_min_eigenvalue_cholesky` (N = 6: one or two ``potrf`` of 4096 x 4096 instead of a 36 s ``eigh``)."""

CP_SHIFT_STEP = 8.0
"""Factor between successive Cholesky shifts in :func:`choi_min_eigenvalue_cholesky`."""


def _choi_hermitian(T):
    """The Hermitian part of the Choi matrix of the tensor ``T[j', k', j, k]``, one ``D x D`` copy.

    ``J[j d + j', k d + k'] = T[j', k', j, k]`` (:meth:`CollisionMap.choi`); the Hermitian part is
    formed in place, block pair by block pair (no second and third ``D x D`` temporaries).
    """
    d = T.shape[0]
    D = d * d
    J = np.ascontiguousarray(T.transpose(2, 0, 3, 1)).reshape(D, D)
    b = 512
    for i0 in range(0, D, b):
        i1 = min(i0 + b, D)
        blk = J[i0:i1, i0:i1]
        blk[...] = (blk + blk.conj().T) / 2
        for k0 in range(i1, D, b):
            k1 = min(k0 + b, D)
            avg = (J[i0:i1, k0:k1] + J[k0:k1, i0:i1].conj().T) / 2
            J[i0:i1, k0:k1] = avg
            J[k0:k1, i0:i1] = avg.conj().T
    return J


def _choi_matvec_herm(T, y):
    """``J_H y`` for the Hermitian part ``J_H`` of the Choi matrix of ``T`` without forming J (d^4 work)."""
    d = T.shape[0]
    Y = y.reshape(d, d)  # Y[k, k'] = y[k d + k']
    Z = np.empty((d, d), dtype=complex)  # Z[j, j'] = (J y)[j d + j'] = sum_{k k'} T[j', k', j, k] Y[k, k']
    W = np.zeros((d, d), dtype=complex)  # W[j', j] = (J^H y)[j d + j'] = sum conj(T[k', j', k, j]) Y[k, k']
    for a in range(d):
        Z[:, a] = np.einsum("bjk,kb->j", T[a], Y)
        W += np.einsum("akj,k->aj", T[a].conj(), Y[:, a])
    return ((Z + W.T) / 2).reshape(-1)


def _gamma(k):
    u = float(np.finfo(float).eps) / 2
    return k * u / (1 - k * u)


POTRF_THREADED_MAX = 8192
"""Largest Choi matrix (``D = d^2``) whose ``zpotrf`` may use several BLAS threads; larger ones run with one.
scipy's bundled OpenBLAS segfaults in the threaded ``zpotrf`` at D = 16384 (the exact map at N = 7 with
``OPENBLAS_NUM_THREADS=2`` died there after its 30-min quadrature; reproduced on a random Hermitian positive definite
16384 x 16384 matrix; one thread: 155 s, no fault; D = 8192 with two threads: 12 s, no fault).  The same kind of
fault is known upstream for threaded potrf/syrk on large matrices (OpenMathLib/OpenBLAS issues 1413, 2821)."""


def _potrf_threads(D):
    """A context limiting the BLAS to one thread for ``D >`` :data:`POTRF_THREADED_MAX` (else no limit).  A fresh
    :func:`threadpoolctl.threadpool_limits`, which scans the libraries loaded *now*: a controller cached earlier in
    the build (``integrate._blas_controller``) predates scipy's own OpenBLAS, which ``zpotrf`` uses, and would leave it
    threaded (the first version of this fix did, and the N = 7 build still died)."""
    import contextlib

    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas") if D > POTRF_THREADED_MAX else contextlib.nullcontext()


def choi_min_eigenvalue_cholesky(T, t, max_lanczos=60, rng_seed=0):
    """Smallest eigenvalue of the Hermitian part J_H of the Choi matrix of ``T``, bracketed.

    1. **Lower bound by Cholesky.**  For shifts ``s = t, 8 t, 64 t, ...`` (:data:`CP_SHIFT_STEP`),
       factor ``A = J_H + s I`` with LAPACK ``zpotrf`` in place until it succeeds.  Higham (2002),
       *Accuracy and Stability of Numerical Algorithms*, Thm 10.3: if Cholesky runs to completion
       on a Hermitian float matrix A, the computed factor satisfies ``R^H R = A + dA`` with
       ``|dA| <= gamma_{n+1} |R^H| |R|`` (for any order of the inner products, hence for LAPACK's
       blocked ``potrf`` with conventional level-3 BLAS).  ``R^H R`` is positive semidefinite,
       so ``lambda_min(A) >= -||dA||_2 >= -gamma_{n+1} || |R| ||_2^2 >= -gamma_{n+1} ||R||_F^2``
       (``|| |R^H||R| ||_2 <= || |R| ||_2^2 <= ||R||_F^2``).  We use ``gamma_{4(n+1)}`` to cover
       complex arithmetic (a complex multiply-add costs a few real roundings, Higham Lemma 3.5),
       and add ``eps (||J_H||_F + s sqrt(n))`` for forming A (Hermitian average, shift).  Hence
       ``lambda_min(J_H) >= -s - delta``: a **bound** on the float64 Choi matrix, given the
       standard rounding model and a conforming BLAS (not a bound on the exact map's Choi matrix,
       whose entries carry the map's error *estimate*).
    2. **Upper value by inverse Lanczos.**  With the factor, Lanczos (full reorthogonalisation,
       at most ``max_lanczos`` steps) on ``A^{-1}`` finds its largest eigenvalue, i.e. the
       eigenvalue of J_H nearest above ``-s``, which is ``lambda_min`` (every eigenvalue is
       ``>= -s - delta``).  Its Ritz vector y gives the Rayleigh quotient
       ``rho = y^H J_H y / y^H y`` evaluated on the tensor (``>= lambda_min`` by Courant-Fischer,
       up to the rounding of one matrix-vector product), and the residual
       ``r = ||J_H y - rho y||`` (an eigenvalue lies within r of rho).

    Returns ``(rho, lower, info)``: ``lower = -s - delta <= lambda_min <= rho`` (lower: bound in the
    sense above; rho: upper end, also the reported value).  ``t > 0``: first shift (the caller's
    tolerance).  Memory: one ``D x D`` complex copy (the factor overwrites it).
    """
    from scipy.linalg import cho_solve
    from scipy.linalg.lapack import zpotrf

    d = T.shape[0]
    D = d * d
    if not t > 0:
        raise ValueError(f"t must be > 0 (got {t!r})")
    eps = float(np.finfo(float).eps)
    s = float(t)
    attempts = []
    while True:
        J = _choi_hermitian(T)
        normF = float(np.linalg.norm(J))
        J.flat[::D + 1] += s
        # J is C-contiguous; J.T is the Fortran view of J^T = conj(J) (Hermitian, same spectrum)
        with _potrf_threads(D):
            c, info = zpotrf(J.T, lower=1, overwrite_a=1, clean=0)
        attempts.append(s)
        if info == 0:
            break
        del J, c
        if s > 1e3 * max(normF, 1.0):
            raise RuntimeError("Cholesky of the shifted Choi matrix failed at every shift (not a Hermitian matrix?)")
        s *= CP_SHIFT_STEP
    L = c  # the lower factor of conj(A), Fortran order (its upper triangle is stale and unused)
    RF2 = 0.0
    for i0 in range(0, D, 512):  # ||R||_F^2 over the lower triangle, column block by column block
        blk = L[:, i0:i0 + 512]
        rows = np.arange(blk.shape[0])[:, None]
        cols = np.arange(i0, i0 + blk.shape[1])[None, :]
        RF2 += float(np.sum(np.abs(np.where(rows >= cols, blk, 0)) ** 2))
    delta = _gamma(4 * (D + 1)) * RF2 + eps * (normF + s * math.sqrt(D))
    lower = -s - delta

    def solve(x):  # A^{-1} x with A = J_H + s I: the factor is of conj(A), so conj on both sides
        return np.conj(cho_solve((L, True), np.conj(x), check_finite=False))

    rng = np.random.default_rng(rng_seed)
    v = rng.normal(size=D) + 1j * rng.normal(size=D)
    v /= np.linalg.norm(v)
    V = [v]
    alpha, beta = [], []
    theta = None
    for k in range(max_lanczos):
        w = solve(V[-1])
        a = float(np.real(np.vdot(V[-1], w)))
        alpha.append(a)
        for u in V:  # full reorthogonalisation (twice is enough)
            w -= np.vdot(u, w) * u
        for u in V:
            w -= np.vdot(u, w) * u
        b = float(np.linalg.norm(w))
        Tk = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        ev, ew = np.linalg.eigh(Tk)
        theta_new = ev[-1]
        resid = b * abs(ew[-1, -1])  # Lanczos residual of the top Ritz pair of A^{-1}
        if theta is not None and resid <= 1e-10 * abs(theta_new):
            theta = theta_new
            break
        theta = theta_new
        if b == 0:
            break
        beta.append(b)
        V.append(w / b)
    y = np.array(V[:len(alpha)]).T @ ew[:, -1]
    y /= np.linalg.norm(y)
    Jy = _choi_matvec_herm(T, y)
    rho = float(np.real(np.vdot(y, Jy)))
    r = float(np.linalg.norm(Jy - rho * y))
    info = {"shifts": attempts, "lanczos_steps": len(alpha), "residual": r, "delta": delta,
            "inverse_ritz": float(theta)}
    return rho, lower, info


def _check_complete_positivity(cm):
    """Measure the complete-positivity defect of a dense exact map (38) at build time.

    The smallest eigenvalue ``lambda_min`` of the Choi matrix J (``d^2 x d^2``) is computed in
    float64: for ``d^2 <= CP_DENSE_MAX_DIM`` one eigenvalue by LAPACK ``syevr`` with an index
    subset; above it by :func:`choi_min_eigenvalue_cholesky` (Cholesky at the warning threshold
    ``CP_WARN_FACTOR * noise``, raised by 8x until it succeeds, then inverse Lanczos): the reported
    value is a Rayleigh quotient (``>= lambda_min``) and ``info["min_choi_eigenvalue_lower_bound"]``
    the Cholesky lower bound; when the two do not decide the warning consistently the dense
    ``syevr`` is run instead.  Its numerical noise level
    is ``d^2 e + d^3 eps_64``: by Weyl's inequality an entry error ``e`` (the map's reported
    error) moves an eigenvalue by at most ``||dJ||_2 <= ||dJ||_F <= d^2 e``, and the float64
    eigen-solver is backward stable with error ``~ d^2 eps_64 ||J||_2 <= d^3 eps_64``
    (``||J||_2 <= Tr J = d``).  Since ``e`` is in part an estimate, so is the noise level.

    Sets ``cm.cp_defect = max(0, -lambda_min)`` and ``info["min_choi_eigenvalue"]``,
    ``info["choi_noise_estimate"]``, and warns with :class:`NotCompletelyPositiveWarning`
    when the defect exceeds :data:`CP_WARN_FACTOR` times the noise: then the map is not CP as
    a property of the incident state (41) (``sigma_p`` not small against ``sqrt(m / beta)``),
    not of the numerics.
    """
    import scipy.linalg as sla

    d = cm.dim
    noise = d * d * cm.error_estimate + d**3 * float(np.finfo(float).eps)
    thr = CP_WARN_FACTOR * noise
    lam = None
    if d * d > CP_DENSE_MAX_DIM:
        T = cm._float_tensor()
        rho, lower, cinfo = choi_min_eigenvalue_cholesky(T, thr)
        # consistent outcomes: Cholesky at the threshold succeeded (no warning) and rho >= -thr, or it
        # failed and the Rayleigh quotient rho (>= lambda_min) is itself below -thr (warning certain)
        if (cinfo["shifts"][-1] == thr and rho >= -thr - cinfo["delta"]) or (len(cinfo["shifts"]) > 1 and rho < -thr):
            lam = rho
            cm.info["min_choi_eigenvalue_lower_bound"] = lower
            cm.info["choi_method"] = (
                f"Cholesky of J_H + s I (s = {cinfo['shifts'][-1]:.2e}, {len(cinfo['shifts'])} shift(s)) proves "
                f"lambda_min >= {lower:.3e} (Higham Thm 10.3); the value is the Rayleigh quotient of the Ritz "
                f"vector of {cinfo['lanczos_steps']} inverse-Lanczos steps (>= lambda_min; residual "
                f"{cinfo['residual']:.1e})")
    if lam is None:  # small D, or an inconsistent bracket: dense eigenvalue (LAPACK syevr, one eigenvalue)
        J = _choi_hermitian(cm._float_tensor())
        lam = float(sla.eigh(J, eigvals_only=True, subset_by_index=[0, 0], driver="evr",
                             overwrite_a=True, check_finite=False)[0])
        del J
        cm.info["choi_method"] = "dense eigh (LAPACK syevr, smallest eigenvalue) of the Hermitian part"
    cm.cp_defect = max(0.0, -lam)
    cm.info["min_choi_eigenvalue"] = lam
    cm.info["choi_noise_estimate"] = noise
    if cm.cp_defect > CP_WARN_FACTOR * noise:
        p_th = cm.bath.thermal_momentum
        warnings.warn(
            f"the exact map (38) is not completely positive: smallest Choi eigenvalue {lam:.2e}, "
            f"{cm.cp_defect / noise:.0f} times its numerical noise {noise:.1e}; this is a property of the "
            f"incident state (41) at sigma_p = {float(cm.bath.sigma_p):g} = {float(cm.bath.sigma_p) / p_th:.2g} "
            f"sqrt(m/beta), not a numerical error (README: 'Where the model applies')",
            NotCompletelyPositiveWarning, stacklevel=3)
