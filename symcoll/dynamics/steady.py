"""Stationary states of Eq. (71): the exact kernel of L, and its first order in Gamma, Eq. (35).

:func:`steady_state` solves the bordered system (the (0,0) row of L replaced by the trace):
one float64 LU solve, or on the mpmath path mixed-precision iterative refinement (float64
LU, residuals at ``dps`` digits).  :func:`perturbative_coherences` gives the coherences to
first order in Gamma, Eq. (35).
"""
from __future__ import annotations

import math

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
    # residual bound on ||x - x_exact||_2 for the exact (working-precision-rounded) generator;
    # add the rounding of evaluating the residual itself (~ n u ||L|| ||x||).
    xnorm = float(np.linalg.norm(to_complex(xs)))
    rounding = (res + tr_res + 2 * n * ctx.eps * normA * xnorm) / smin
    # map error: ||dL|| <= Gamma ||dS||_2 + 2 delta_eps, ||dS||_2 <= ||dS||_F <= d^2 e
    a = (float(g.Gamma_param) * d * d * g.map_error + 2 * g.energy_error) / smin
    mapb = a * xnorm / (1 - a) if a < 1 else math.inf
    error = ErrorBudget({
        "rounding": (rounding, "estimate", "residual / sigma_min of the bordered generator (a residual bound "
                                           "for the exact generator; sigma_min from a float64 SVD, not enclosed)"),
        "map": (mapb, "estimate", "||dL||_2 / sigma_min with a Neumann factor, dL from the map's error "
                                  + ("bound" if g.map_error_rigorous else "estimate")
                                  + " and the H eigenvalue rounding estimate"),
    })
    return SteadyState(state, res, error, smin, g.describe())


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
