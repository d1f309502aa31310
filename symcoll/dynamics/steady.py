"""Stationary states of Eq. (71): the exact kernel of L, and its first order in Gamma, Eq. (35).

:func:`steady_state` solves the bordered system (the (0,0) row of L replaced by the trace):
one float64 LU solve, or on the mpmath path mixed-precision iterative refinement (float64
LU, residuals at ``dps`` digits).  :func:`perturbative_coherences` gives the coherences to
first order in Gamma, Eq. (35).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg as sla

from .. import conventions as cv
from ..budget import ErrorBudget
from ..model import check_map_system
from ..numeric import FloatContext, Tolerances
from ._arrays import hermitian_part, to_complex
from .results import SteadyState
from .tolerances import DynamicsTolerances

__all__ = ["steady_state", "perturbative_coherences"]


def steady_state(generator) -> SteadyState:
    """Unique stationary state ``L rho_ss = 0``, ``Tr rho_ss = 1`` of a :class:`Lindbladian`.

    Its error budget: see :class:`~symcoll.dynamics.SteadyState`.

    Raises
    ------
    ValueError
        The bordered generator is singular to float64 precision
        (:meth:`DynamicsTolerances.bordered_singular`): no unique stationary state.
    """
    g = generator
    ctx, d = g.ctx, g.d
    n = d * d
    tr_idx = np.array([j + d * j for j in range(d)])
    if not ctx.is_mp and n > INVERSE_MAX_N:
        return _steady_state_lu(g, tr_idx)
    Lf = g.superoperator_float()
    Af = _bordered(FloatContext(), Lf.copy(), tr_idx)
    sv = np.linalg.svd(Af, compute_uv=False)
    smin = float(sv[-1])
    normA = float(sv[0])
    if smin <= DynamicsTolerances().bordered_singular(n, normA):
        raise ValueError(
            "the Lindbladian has no unique stationary state (bordered generator singular: "
            f"sigma_min = {smin:.2e}, ||L|| = {normA:.2e}); e.g. Gamma = 0 or a reducible map"
        )
    b = np.zeros(n, dtype=complex)
    b[0] = 1.0
    # the number type decides the algorithm: a float64 LU solve cannot deliver dps digits
    if ctx.is_mp:
        L = g.superoperator()
        x = _refine_solve(ctx, _bordered(ctx, g.superoperator(), tr_idx), Af, ctx.array(b, complex=True))
        state = hermitian_part(ctx, cv.unvec(x, d))
        xs = cv.vec(state)
        res = float(ctx.mp.sqrt(sum(abs(v) ** 2 for v in L @ xs)))
        tr_res = float(abs(sum(xs[i] for i in tr_idx) - 1))
    else:
        state = hermitian_part(ctx, cv.unvec(np.linalg.solve(Af, b), d))
        xs = cv.vec(state)
        res = float(np.linalg.norm(Lf @ xs))
        tr_res = float(abs(xs[tr_idx].sum() - 1))
    xnorm = float(np.linalg.norm(to_complex(xs)))
    Gam = float(g.Gamma_param)
    a = (Gam * d * d * g.map_error + 2 * g.energy_error) / smin  # ||A^-1 dA||_2 <= a (norm chain)
    Ainv = np.linalg.inv(Af) if n <= INVERSE_MAX_N else None
    if Ainv is not None:
        rounding, mapb = _componentwise_errors(g, Af, Ainv, xs, tr_idx, a)
        how = "componentwise through the computed inverse of the bordered generator"
    else:  # norm-wise: residual bound for the exact generator + the rounding of the residual itself
        rounding = (res + tr_res + 2 * n * ctx.eps * normA * xnorm) / smin
        mapb = a * xnorm / (1 - a) if a < 1 else math.inf
        how = "norm-wise, ||.||_2 / sigma_min of the bordered generator"
    error = ErrorBudget({
        "rounding": (rounding, "estimate", "residual and its evaluation rounding " + how
                                           + " (float64 inverse / SVD, not enclosed)"),
        "map": (mapb, "estimate", "first-order sensitivity to the map's entry error "
                                  + ("bound" if g.map_error_rigorous else "estimate")
                                  + " and the H eigenvalue rounding estimate, " + how
                                  + ", with the Neumann factor 1/(1 - ||A^-1 dA||)"),
    })
    return SteadyState(state, res, error, smin, g.describe())


INVERSE_MAX_N = 1024
"""Bordered generators up to this size (N <= 5) get componentwise error estimates through their
explicit inverse; larger ones the norm-wise ``1/sigma_min`` estimates."""


SIGMA_MIN_TOL = 1e-6
"""Relative tolerance of the Lanczos run (ARPACK ``eigsh``) for ``1/sigma_min^2`` of the bordered generator
(:func:`_steady_state_lu`)."""


def generator_lu(g, shift=0.0, tr_idx=None, what="the LU of the generator"):
    """``(lu, piv, norm2_bound)``: LU of ``A^T``, ``A = L - shift I`` (row 0 replaced by the trace functional when
    ``tr_idx`` is given), built straight from the map's tensor: one ``(d^2, d^2)`` array (memory checked first), no
    cached copy of L (4.3 GB at N = 7), in C order, so ``A^T`` is Fortran-ordered and LAPACK ``getrf`` factorises it
    in place.  ``norm2_bound = sqrt(||A||_1 ||A||_inf) >= ||A||_2`` (Hoelder; a bound, cheaper than the SVD)."""
    from ..maps import memory

    d = g.d
    n = d * d
    memory.check_generator_memory(d, None, copies=1, what=what)
    e = np.asarray(to_complex(g.energies)).real
    bohr = cv.vec(e[:, None] - e[None, :])
    A = cv.tensor_to_superoperator(np.asarray(g.tensor))  # a C-ordered copy (transposed axes)
    if not A.flags.c_contiguous or np.shares_memory(A, g.tensor):
        A = np.ascontiguousarray(A, dtype=complex)
    Gam = float(g.Gamma_param)
    A *= Gam
    A[np.diag_indices(n)] += -1j * bohr - Gam - shift
    if tr_idx is not None:
        A[0, :] = 0
        A[0, tr_idx] = 1
    col, row = np.zeros(n), np.empty(n)
    for r0 in range(0, n, 512):  # |A| by row blocks: no (n, n) float temporary (2 GiB at N = 7)
        blk = np.abs(A[r0:r0 + 512])
        col += blk.sum(axis=0)
        row[r0:r0 + 512] = blk.sum(axis=1)
    norm2 = math.sqrt(float(col.max()) * float(row.max()))
    with warnings.catch_warnings():  # an exactly singular A (e.g. Gamma = 0) is reported by sigma_min = 0
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        lu, piv = sla.lu_factor(A.T, overwrite_a=True, check_finite=False)  # A.T is Fortran-ordered: in place
    return lu, piv, norm2


def _sigma_min_lu(lu, piv, n):
    """``sigma_min`` of ``A`` from the LU of ``A^T``: Lanczos (ARPACK) for the largest eigenvalue of
    ``A^-1 A^-H`` (an **estimate**: Ritz values approach it from below, converged to
    :data:`SIGMA_MIN_TOL`)."""
    import scipy.sparse.linalg as spla

    def op(v):
        w = np.conj(sla.lu_solve((lu, piv), np.conj(v), trans=0, check_finite=False))  # A^-H v
        return sla.lu_solve((lu, piv), w, trans=1, check_finite=False)  # A^-1 w

    if not np.all(np.isfinite(lu.diagonal())) or np.any(lu.diagonal() == 0):
        return 0.0  # exactly singular (a zero pivot)
    M = spla.LinearOperator((n, n), matvec=op, dtype=complex)
    try:
        with np.errstate(all="ignore"):
            val = spla.eigsh(M, k=1, which="LM", tol=SIGMA_MIN_TOL, ncv=min(n - 1, 24),
                             v0=np.ones(n, dtype=complex), return_eigenvectors=False)
    except spla.ArpackNoConvergence as exc:  # keep the best Ritz value
        if not len(exc.eigenvalues):
            raise
        val = exc.eigenvalues
    except spla.ArpackError:  # no Lanczos factorisation: A^-1 overflows, numerically singular
        return 0.0
    top = float(np.max(np.abs(val)))
    return 1.0 / math.sqrt(top) if np.isfinite(top) and top > 0 else 0.0


def _steady_state_lu(g, tr_idx) -> SteadyState:
    """The float64 path for ``n = d^2 > INVERSE_MAX_N``: one LU of the bordered generator, built from the
    tensor without a dense copy of L; the residual ``||L x||`` by the map's tensor itself; ``sigma_min``
    by Lanczos on the LU (instead of an SVD: 59 s of the N = 6 steady state) and ``||A||_2`` by the bound
    ``sqrt(||A||_1 ||A||_inf)``.  The error budget is the norm-wise one of :func:`steady_state`."""
    ctx, d = g.ctx, g.d
    n = d * d
    lu, piv, normA = generator_lu(g, tr_idx=tr_idx, what="the bordered generator's LU (steady state)")
    smin = _sigma_min_lu(lu, piv, n)
    if smin <= DynamicsTolerances().bordered_singular(n, normA):
        raise ValueError(
            "the Lindbladian has no unique stationary state (bordered generator singular: "
            f"sigma_min ~ {smin:.2e}, ||A||_2 <= {normA:.2e}); e.g. Gamma = 0 or a reducible map")
    b = np.zeros(n, dtype=complex)
    b[0] = 1.0
    x = sla.lu_solve((lu, piv), b, trans=1, check_finite=False)
    del lu
    state = hermitian_part(ctx, cv.unvec(x, d))
    xs = cv.vec(state)
    res = float(np.linalg.norm(apply_generator(g, xs)))
    tr_res = float(abs(xs[tr_idx].sum() - 1))
    xnorm = float(np.linalg.norm(xs))
    Gam = float(g.Gamma_param)
    a = (Gam * d * d * g.map_error + 2 * g.energy_error) / smin
    rounding = (res + tr_res + 2 * n * ctx.eps * normA * xnorm) / smin
    mapb = a * xnorm / (1 - a) if a < 1 else math.inf
    how = "norm-wise, ||.||_2 / sigma_min of the bordered generator (sigma_min by Lanczos on its LU)"
    error = ErrorBudget({
        "rounding": (rounding, "estimate", "residual ||L x|| (evaluated from the map's tensor) and its evaluation "
                                           "rounding " + how + " (float64 LU and Lanczos, not enclosed)"),
        "map": (mapb, "estimate", "first-order sensitivity to the map's entry error "
                                  + ("bound" if g.map_error_rigorous else "estimate")
                                  + " and the H eigenvalue rounding estimate, " + how
                                  + ", with the Neumann factor 1/(1 - ||A^-1 dA||)"),
    })
    meta = dict(g.describe())
    meta["steady_state_method"] = "LU of the bordered generator, sigma_min by Lanczos (n > INVERSE_MAX_N)"
    return SteadyState(state, res, error, smin, meta)


def apply_generator(g, x):
    """``L x`` (column-stacking ``x`` of length ``d^2``) straight from the map's tensor, float64: one product with
    the tensor viewed as a ``(d^2, d^2)`` matrix (row stacking, no copy when the tensor is C-ordered)."""
    d = g.d
    T = np.asarray(g.tensor)
    X = cv.unvec(np.asarray(x, dtype=complex), d)
    Y = (T.reshape(d * d, d * d) @ X.reshape(d * d)).reshape(d, d)  # Phi(X)[j', k'] = sum T[j',k',j,k] X[j,k]
    e = np.asarray(to_complex(g.energies)).real
    Gam = float(g.Gamma_param)
    return Gam * (cv.vec(Y) - cv.vec(X)) - 1j * cv.vec((e[:, None] - e[None, :]) * X)


def _componentwise_errors(g, Af, Ainv, xs, tr_idx, a):
    """``(rounding, map)`` errors of the steady state through ``|A^{-1}|``: the 2-norm of the
    componentwise error vectors below (the Frobenius error of rho_ss, as :class:`SteadyState`
    documents; the largest entry is at most that).

    ``A x = b`` (A the bordered generator: L with its (0,0)-population row replaced by the trace
    functional).  A perturbation ``dA`` moves the solution by ``dx = -(A + dA)^{-1} dA x``, so
    ``|dx| <= |A^{-1}| |dA| |x| / (1 - a)`` to all orders when ``||A^{-1} dA|| <= a < 1``
    (Neumann series; ``|.|`` entrywise):

    * map: ``dA = Gamma dS`` outside row 0, ``|dS_ab| <= e`` for a, b in one invariant block of L;
      energies: ``|dA_aa| <= 2 delta_eps`` at coherences ``a = j + d k``, ``j != k``;
    * rounding: the computed x solves a nearby system; with the residual ``r = b - A x`` evaluated
      with rounding ``|dr| <= gamma_n |A| |x|`` (``gamma_n ~ n u``, doubled), ``|x - x_exact| <=
      |A^{-1}| (|r| + 2 n u |A| |x|)`` (Skeel's componentwise residual bound).

    ``A^{-1}`` itself is a float64 inverse (not enclosed), so both are estimates.
    """
    ctx, d = g.ctx, g.d
    n = d * d
    Gam = float(g.Gamma_param)
    u = ctx.eps
    x = np.asarray(xs)
    b = np.zeros(n, dtype=object if ctx.is_mp else complex)
    b[0] = 1
    A = _bordered(ctx, g.superoperator(), tr_idx) if ctx.is_mp else Af
    r = np.asarray(ctx.abs_float(b - A @ x), dtype=float)
    ax = np.asarray(ctx.abs_float(x), dtype=float)
    absA = np.abs(Af)
    absAinv = np.abs(Ainv)
    # componentwise vectors; reported as their 2-norm: the Frobenius error of rho_ss (SteadyState)
    rounding = float(np.linalg.norm(absAinv @ (r + 2 * n * u * (absA @ ax))))
    lab = np.empty(n, dtype=int)
    for k, idx in enumerate(g.blocks()):
        lab[idx] = k
    blk_sum = np.bincount(lab, weights=ax, minlength=lab.max() + 1)
    dmap = Gam * g.map_error * blk_sum[lab]
    dmap[0] = 0.0  # row 0 is the trace functional, not perturbed
    off = np.ones(n, dtype=bool)
    off[tr_idx] = False
    den = (1 - a) if a < 1 else 0.0
    v = absAinv @ (dmap + 2 * g.energy_error * off * ax)
    mapb = float(np.linalg.norm(v)) / den if den > 0 else math.inf
    return rounding, mapb


def _bordered(ctx, A, tr_idx):
    """``A`` with its (0,0)-population row replaced by the trace functional (in place)."""
    A[0, :] = ctx.mpc(0)
    A[0, tr_idx] = ctx.mpc(1)
    return A


def _refine_solve(ctx, A, Af, b):
    """Solve ``A x = b`` at ``ctx`` precision by mixed-precision iterative refinement.

    float64 LU of ``Af`` (the float64 image of A) for the corrections, residuals
    ``b - A x`` at full precision (O(n^2) mpmath operations per step instead of the O(n^3)
    of an mpmath elimination); each step gains ``-log10(cond(A) u_float64)`` digits.  Falls
    back to ``ctx.solve`` when that does not converge.
    """
    lu = sla.lu_factor(Af)
    x = ctx.array(sla.lu_solve(lu, to_complex(b)), complex=True)
    u = ctx.eps
    prev = math.inf
    tols = DynamicsTolerances()
    for _ in range(tols.lu_refine_max_iter):
        r = b - A @ x
        dx = sla.lu_solve(lu, to_complex(r))
        x = x + ctx.array(dx, complex=True)
        sz = float(np.max(np.abs(dx)))
        if sz <= u * float(np.max(np.abs(to_complex(x)))):
            return x
        if sz > tols.lu_refine_stagnation * prev:
            break
        prev = sz
    return ctx.solve(A, b)


def perturbative_coherences(collision_map, populations, system=None):
    """First-order stationary coherences of the Poissonian equation, Eq. (35).

    ``rho^(1)_jk = -(i hbar / Delta_jk) sum_j' S^{j'j'}_{jk} rho^(0)_j'j'`` (j != k), so that the
    stationary state is ``rho^(0) + Gamma rho^(1) + O(Gamma^2)`` (Eq. (31)), with
    ``Delta_jk = eps_j - eps_k`` and ``rho^(0)`` diagonal (Eq. (32); the Gibbs state when the
    map obeys detailed balance, Eq. (34)).

    Parameters
    ----------
    collision_map : CollisionMap-like
        ``tensor[j', k', j, k] = S^{jk}_{j'k'}`` in the eigenbasis.
    populations : (d,) array
        ``rho^(0)_jj`` (e.g. ``observables.populations(observables.gibbs_state(chain, beta))``).
    system : optional
        Defaults to ``collision_map.system``.

    Returns
    -------
    (d, d) complex array
        ``rho^(1)`` with zero diagonal.

    Raises
    ------
    ValueError
        Degenerate levels (``Delta_jk = 0`` for ``j != k``): (35) does not apply.
    """
    if system is None:
        system = collision_map.system
    else:
        check_map_system(system, collision_map)
    T = to_complex(collision_map.tensor)
    e = np.asarray(to_complex(system.eigensystem().energies).real)
    p = np.asarray(populations, dtype=float)
    d = len(e)
    if p.shape != (d,):
        raise ValueError(f"populations must have shape ({d},) (got {p.shape})")
    dl = e[:, None] - e[None, :]
    off = ~np.eye(d, dtype=bool)
    if np.any(np.abs(dl[off]) <= Tolerances().degeneracy(float(np.max(np.abs(e))), d)):
        raise ValueError("perturbative_coherences needs a non-degenerate spectrum (Delta_jk != 0 for j != k), Eq. (35)")
    src = np.einsum("jkaa,a->jk", T, p)  # sum_j' S^{j'j'}_{jk} rho_j'j'
    out = np.zeros((d, d), dtype=complex)
    out[off] = -1j * cv.HBAR * src[off] / dl[off]
    return out
